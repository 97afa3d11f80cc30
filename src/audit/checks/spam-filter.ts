/**
 * Spam filtering: the connection filter IP Allow List (DS750) and the MarkAsSpam advanced spam filter
 * options (DS752, DS753). Pure.
 * @module
 */
import { psList, psQuote } from '../../report/tenant-report-powershell.js';
import { type AuditContext, type ControlRow, ev, row, SEED, unknownRow } from './model.js';

/** DS750 — the connection filter IPAllowList. */
export function connectionFilterRows({ o }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  const conn = o['Get-HostedConnectionFilterPolicy'];
  if (!conn)
    rows.push(
      unknownRow('DS750', 'The connection filter IP Allow List is empty', ['Get-HostedConnectionFilterPolicy']),
    );
  else
    for (const p of conn) {
      rows.push(
        p.IPAllowList.length === 0
          ? row(
              'DS750',
              'The connection filter IP Allow List is empty',
              `connection filter ${p.Name}`,
              'pass',
              'No IP skips spam filtering.',
              [ev(`HostedConnectionFilterPolicy ${p.Name}`, 'IPAllowList', [])],
            )
          : row(
              'DS750',
              'The connection filter IP Allow List is empty',
              `connection filter ${p.Name}`,
              'fail',
              'Mail from these IPs skips spam filtering (IPV:CAL): a spoof from any of them — a shared cloud or hosting range included — lands in the inbox. Allow a partner with a connector or an allow entry scoped to it instead.',
              [ev(`HostedConnectionFilterPolicy ${p.Name}`, 'IPAllowList', p.IPAllowList)],
              [
                `Set-HostedConnectionFilterPolicy -Identity ${psQuote(p.Name)} -IPAllowList @{Remove=${psList(p.IPAllowList)}}  # removes these addresses from the IP Allow List`,
              ],
            ),
      );
    }
  return rows;
}

/** DS752/DS753 — MarkAsSpam ASF options (advisory: Microsoft recommends Off). */
export function markAsSpamRows({ o }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  const hcf = o['Get-HostedContentFilterPolicy'];
  for (const [code, prop, header] of [
    ['DS752', 'MarkAsSpamSpfRecordHardFail', 'SPF Record Fail'],
    ['DS753', 'MarkAsSpamFromAddressAuthFail', 'SPF From Record Fail'],
  ] as const) {
    const name =
      code === 'DS752'
        ? SEED.spfHardFail
        : 'Mark as spam when the From address fails authentication (advanced spam filter)';
    if (!hcf) {
      rows.push(unknownRow(code, name, ['Get-HostedContentFilterPolicy']));
      continue;
    }
    const on = hcf.filter((p) => p[prop] === 'On' || p[prop] === 'Test');
    rows.push(
      on.length === 0
        ? row(
            code,
            name,
            null,
            'pass',
            `Off in every anti-spam policy, as Microsoft recommends once anti-spoofing (spoof intelligence, DMARC) is on: the anti-spoofing verdicts already cover it.`,
            hcf.map((p) => ev(`HostedContentFilterPolicy ${p.Name}`, prop, p[prop])),
          )
        : row(
            code,
            name,
            null,
            'info',
            `On in ${on.map((p) => p.Name).join(', ')}: mail is marked high-confidence spam (X-CustomSpam: ${header}). Microsoft lists this advanced spam filter option as not recommended: it can catch legitimate mail, and anti-spoofing covers it. The seed's advice to enforce SPF hard fail predates that guidance; keep it only if you have measured it.`,
            on.map((p) => ev(`HostedContentFilterPolicy ${p.Name}`, prop, p[prop])),
            on.map(
              (p) =>
                `Set-HostedContentFilterPolicy -Identity ${psQuote(p.Name)} -${prop} Off  # turns the advanced spam filter option off`,
            ),
          ),
    );
  }
  return rows;
}
