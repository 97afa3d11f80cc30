/**
 * Direct Send itself: RejectDirectSend (DS740) and whether a connector covers every legitimate Direct Send
 * source seen in the store (DS744). Pure.
 * @module
 */
import { type AuditContext, type ControlRow, ev, row, SEED, sourcesWithoutConnector, unknownRow } from './model.js';

/** DS740 — RejectDirectSend, with the legitimate sources enabling it would break. */
export function rejectDirectSendRows({ input, org, enabledInbound }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  if (!org) rows.push(unknownRow('DS740', SEED.rejectDirectSend, ['Get-OrganizationConfig']));
  else if (org.RejectDirectSend === true)
    rows.push(
      row(
        'DS740',
        SEED.rejectDirectSend,
        null,
        'pass',
        'RejectDirectSend is on: anonymous mail whose P1 MAIL FROM is an accepted domain and that matches no IP- or certificate-based connector is rejected (550 5.7.68).',
        [ev('OrganizationConfig', 'RejectDirectSend', true)],
      ),
    );
  else if (org.RejectDirectSend === null)
    rows.push(
      row(
        'DS740',
        SEED.rejectDirectSend,
        null,
        'unknown',
        'The OrganizationConfig object has no RejectDirectSend property (a dump from an older module, or a tenant the setting has not reached): re-dump with a current ExchangeOnlineManagement module, or check Get-OrganizationConfig | Select RejectDirectSend.',
        [ev('OrganizationConfig', 'RejectDirectSend', '(absent)')],
      ),
    );
  else {
    const breaking = input.store ? sourcesWithoutConnector(input.store, enabledInbound) : null;
    const evidence = [ev('OrganizationConfig', 'RejectDirectSend', false)];
    let detail =
      'RejectDirectSend is off: anyone can send mail as your accepted domains to your mailboxes through the smart host.';
    if (breaking) {
      detail +=
        breaking.length === 0
          ? ' The store shows no legitimate Direct Send source left without a connector: enabling it breaks nothing seen.'
          : ` Enabling it now would break ${breaking.length} legitimate source(s) seen in the store (${breaking.reduce((n, s) => n + s.messages, 0)} message(s)): give them a connector first (dsguard report shows the plan).`;
      for (const s of breaking.slice(0, 20)) evidence.push(ev(`source ${s.name ?? s.id}`, 'ips', s.ips));
    } else detail += ' Run with --db to see which legitimate sources it would break.';
    rows.push(
      row(
        'DS740',
        SEED.rejectDirectSend,
        null,
        'fail',
        detail,
        evidence,
        breaking && breaking.length > 0 ? [] : ['Set-OrganizationConfig -RejectDirectSend $true'],
      ),
    );
  }
  return rows;
}

/** DS744 — legitimate Direct Send sources not covered by any connector. */
export function sourceCoverageRows({ input, inbound, enabledInbound }: AuditContext): ControlRow[] {
  const rows: ControlRow[] = [];
  if (!inbound)
    rows.push(unknownRow('DS744', 'Connectors cover every legitimate Direct Send source', ['Get-InboundConnector']));
  else if (!input.store)
    rows.push(
      row(
        'DS744',
        'Connectors cover every legitimate Direct Send source',
        null,
        'unknown',
        'Not scored: needs the sources seen in mail (run with --db after dsguard ingest).',
      ),
    );
  else {
    const uncovered = sourcesWithoutConnector(input.store, enabledInbound);
    rows.push(
      uncovered.length === 0
        ? row(
            'DS744',
            'Connectors cover every legitimate Direct Send source',
            null,
            'pass',
            `${input.store.legitimateSources.length} legitimate source(s) in the store; none is left without a matching connector.`,
          )
        : row(
            'DS744',
            'Connectors cover every legitimate Direct Send source',
            null,
            'fail',
            `${uncovered.length} legitimate Direct Send source(s) send from IPs no enabled connector matches: RejectDirectSend would reject them. dsguard report prints the connector for each.`,
            uncovered.slice(0, 20).map((s) => ev(`source ${s.name ?? s.id}`, 'ips', s.ips)),
          ),
    );
  }
  return rows;
}
