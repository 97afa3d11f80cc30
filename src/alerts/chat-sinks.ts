/**
 * Chat sinks: Microsoft Teams (a Workflows webhook, "Post to a channel when a webhook request is received",
 * with an Adaptive Card) and Slack incoming webhooks (`text` + Block Kit `blocks`).
 *
 * Every field that comes from mail (subjects, senders, HELO-derived names) is attacker-controlled, and both
 * chats render markup: Teams reads Markdown in TextBlock and FactSet, Slack reads mrkdwn and `<…>` links and
 * mentions. So:
 * - Teams: every value from the evidence is a TextRun of a RichTextBlock (Adaptive Cards do not read Markdown in
 *   RichTextBlock); TextBlocks carry only dsguard's own words.
 * - Slack: blocks use `plain_text` only, and `text` (the notification) escapes `&`, `<` and `>` as Slack's
 *   formatting docs require, so no `<!channel>`, `<@U…>` or `<url|label>` can form.
 * - Both: control and bidi characters are removed, URLs, host names and addresses are defanged
 *   (`hxxps[:]//evil[.]example`) so no client turns them into links, angle brackets become ‹ › (no mention
 *   syntax in any renderer); lengths are bounded.
 * @module
 */
import { terminalSafe } from '../report/safe-text.js';
import { postJson, type RateLimit, type Sink } from './delivery.js';
import type { Alert } from './watch-state.js';

/** Teams throttles a channel webhook past four requests a second (add-incoming-webhook): one a second, bursts of 4. */
export const TEAMS_RATE: RateLimit = { perSecond: 1, burst: 4 };
/** Slack incoming webhooks: one message per second, short bursts allowed (Slack's rate limits page). */
export const SLACK_RATE: RateLimit = { perSecond: 1, burst: 3 };

/**
 * One line of evidence made safe for a chat: no control or bidi characters, links defanged (scheme, `://`, and
 * every dot between a name and a letter, `@`), `{{` (Adaptive Card template functions) and `](` (a Markdown
 * link) broken, `<` `>` shown as `‹` `›` (no `<!channel>`, `<@U…>`, `<at>` or `<url|label>`), at most `max`
 * chars.
 */
export function defang(value: string, max = 300): string {
  return terminalSafe(value, max)
    .replace(/\b(h)(tt)(ps?)\b/gi, (_m, h: string, _t: string, p: string) => `${h}xx${p}`)
    .replace(/\b(ftp|file|mailto|javascript|data|vbscript|tel|sips?)(?=:)/gi, (m) => `${m}[x]`)
    .replace(/:\/\//g, '[:]//')
    .replace(/([\p{L}\p{N}_-])\.(?=[\p{L}])/gu, '$1[.]')
    .replace(/@/g, '[@]')
    .replace(/\{\{/g, '{ {')
    .replace(/\}\}/g, '} }')
    .replace(/\]\(/g, '] (')
    .replace(/</g, '‹')
    .replace(/>/g, '›');
}

/** Slack's three control characters (docs.slack.dev "Formatting text": escaping). */
export function slackEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const TITLE: Record<Alert['kind'], string> = {
  'new-malicious-source': 'New malicious Direct Send source',
  'new-suspicious-source': 'New suspicious Direct Send source',
  'new-source': 'New Direct Send source',
  'direct-send-after-reject': 'Direct Send delivered after RejectDirectSend',
  'source-new-ip': 'Legitimate source sends from a new IP',
  'source-silent': 'Legitimate source gone silent',
  'readiness-changed': 'RejectDirectSend readiness changed',
};

/** Blockers listed per side in a chat message (Slack takes at most 50 blocks; a card should stay readable). */
const BLOCKERS_LISTED = 15;

/** The alert as label/value lines (values are evidence: defanged by the caller's renderer). */
function lines(a: Alert): [string, string][] {
  const out: [string, string][] = [
    ['Tenant', a.tenant],
    ['Alert', a.text],
  ];
  const s = a.source;
  if (s) {
    out.push(['Source', `${s.ips.join(', ') || '-'}: ${s.verdict}, ${s.channel}, ${s.messages} message(s)`]);
    if (s.senders?.length) out.push(['Senders', s.senders.join(', ')]);
    for (const subject of s.subjects ?? []) out.push(['Subject', subject]);
    if (s.why?.length) out.push(['Findings', s.why.join(', ')]);
  }
  if (a.readiness) {
    const list = (labelText: string, blockers: readonly { code: string; text?: string }[]) => {
      for (const b of blockers.slice(0, BLOCKERS_LISTED))
        out.push([labelText, b.text ? `${b.code}: ${b.text}` : b.code]);
      if (blockers.length > BLOCKERS_LISTED)
        out.push([
          labelText,
          `… and ${blockers.length - BLOCKERS_LISTED} more (the NDJSON/webhook alert has them all)`,
        ]);
    };
    list('New blocker', a.readiness.added);
    list('Cleared', a.readiness.removed);
  }
  out.push(['Id', `${a.id} (cycle ${a.cycle})`]);
  return out;
}

/** The Workflows webhook body: a message with one Adaptive Card 1.4 attachment. */
export function teamsPayload(a: Alert): unknown {
  const body: unknown[] = [
    { type: 'TextBlock', text: `dsguard: ${TITLE[a.kind]}`, weight: 'Bolder', size: 'Medium', wrap: true },
  ];
  for (const [labelText, value] of lines(a)) {
    body.push({
      type: 'RichTextBlock',
      inlines: [
        { type: 'TextRun', text: `${labelText}: `, weight: 'Bolder' },
        { type: 'TextRun', text: defang(value) },
      ],
    });
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
        },
      },
    ],
  };
}

/** The incoming webhook body: `text` (the notification, escaped, mrkdwn off) and plain_text blocks. */
export function slackPayload(a: Alert): unknown {
  const header = `dsguard: ${TITLE[a.kind]}`;
  return {
    text: slackEscape(`${header}: ${defang(a.text, 500)}`),
    // The notification text is mrkdwn by default: off (nothing in it is meant as markup).
    mrkdwn: false,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: header.slice(0, 150), emoji: false } },
      ...lines(a).map(([labelText, value]) => ({
        type: 'section',
        text: { type: 'plain_text', text: `${labelText}: ${defang(value)}`.slice(0, 3000), emoji: false },
      })),
    ],
  };
}

export function teamsSink(name: string, url: string): Sink {
  const u = new URL(url);
  return { name, rate: TEAMS_RATE, send: (a) => postJson(name, u, teamsPayload(a)) };
}

export function slackSink(name: string, url: string): Sink {
  const u = new URL(url);
  return { name, rate: SLACK_RATE, send: (a) => postJson(name, u, slackPayload(a), { detail: true }) };
}
