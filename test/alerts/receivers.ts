/**
 * Local alert receivers for the watch tests: an HTTP server (127.0.0.1, ephemeral port) that takes webhook
 * POSTs on a secret path and answers from a script of faults, and the payload checks for Teams (Workflows
 * webhook, Adaptive Card) and Slack (incoming webhook) — shape and the absence of anything a chat would render
 * as a link, a mention or formatting. The checks throw with the reason; a receiver records what it accepted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  body: unknown;
}

export interface Receiver {
  url: string;
  accepted: Received[];
  /** Every request, accepted or not (status answered). */
  requests: { path: string; status: number }[];
  /** Answers to give before accepting, in order: a status and an optional Retry-After. */
  faults: { status: number; retryAfter?: string; body?: string }[];
  /** Payload check (throws): a failed check answers 400 and records the error. */
  errors: string[];
  close(): Promise<void>;
}

export async function startReceiver(
  secretPath: string,
  check: (body: unknown) => void = () => {},
  accept = 204,
): Promise<Receiver> {
  const r: Omit<Receiver, 'url' | 'close'> = { accepted: [], requests: [], faults: [], errors: [] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const answer = (status: number, headers: Record<string, string> = {}, body = '') => {
        r.requests.push({ path, status });
        res.writeHead(status, headers).end(body);
      };
      if (req.method !== 'POST' || path !== secretPath) return answer(404);
      if (req.headers['content-type'] !== 'application/json') return answer(415);
      const f = r.faults.shift();
      if (f) return answer(f.status, f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {}, f.body ?? '');
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        check(body);
      } catch (error) {
        r.errors.push((error as Error).message);
        return answer(400, {}, 'invalid_payload');
      }
      r.accepted.push({ path, body });
      answer(accept, {}, accept === 200 ? 'ok' : '');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  server.unref();
  return {
    ...r,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${secretPath}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

function fail(why: string): never {
  throw new Error(why);
}

/** What no chat text may hold once defanged: links, mentions, markup, template functions, controls. */
export function assertInert(text: string, where: string): void {
  const bad: [RegExp, string][] = [
    [/https?:\/\//i, 'a URL scheme'],
    [/\bwww\./i, 'a www. host'],
    [/[\p{L}\p{N}-]\.(?:com|example|net|org|io)\b/iu, 'a host name'],
    [/\]\(/, 'a Markdown link'],
    [/<(?:at|@|!|#|https?:|mailto:)/i, 'a mention or link'],
    [/\{\{/, 'a template function'],
    [/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, 'a control or bidi character'],
  ];
  for (const [re, what] of bad) if (re.test(text)) fail(`${where}: ${what} in ${JSON.stringify(text)}`);
}

/** A Workflows "Post to a channel when a webhook request is received" body with one Adaptive Card. */
export function checkTeams(body: unknown): void {
  const b = body as { type?: unknown; attachments?: unknown };
  if (b?.type !== 'message') fail('teams: type must be "message"');
  if (!Array.isArray(b.attachments) || b.attachments.length !== 1) fail('teams: one attachment');
  const att = b.attachments[0] as { contentType?: unknown; content?: Record<string, unknown> };
  if (att.contentType !== 'application/vnd.microsoft.card.adaptive') fail('teams: contentType');
  const card = att.content;
  if (card?.type !== 'AdaptiveCard') fail('teams: content.type must be AdaptiveCard');
  if (typeof card.version !== 'string' || !/^1\.[0-5]$/.test(card.version)) fail('teams: version 1.0–1.5');
  if (!Array.isArray(card.body) || card.body.length === 0) fail('teams: empty body');
  for (const el of card.body as Record<string, unknown>[]) {
    if (el.type === 'TextBlock') {
      // Markdown is read here: only dsguard's own title.
      if (typeof el.text !== 'string' || !/^dsguard: [A-Za-z ]+$/.test(el.text)) fail(`teams: TextBlock ${el.text}`);
    } else if (el.type === 'RichTextBlock') {
      if (!Array.isArray(el.inlines)) fail('teams: RichTextBlock without inlines');
      for (const run of el.inlines as Record<string, unknown>[]) {
        if (run.type !== 'TextRun' || typeof run.text !== 'string') fail('teams: inline is not a TextRun');
        assertInert(run.text, 'teams TextRun');
      }
    } else fail(`teams: unexpected element ${String(el.type)}`);
  }
}

/** A Slack incoming webhook body: `text` and plain_text blocks (Block Kit limits). */
export function checkSlack(body: unknown): void {
  const b = body as { text?: unknown; blocks?: unknown };
  if (typeof b?.text !== 'string' || b.text === '') fail('slack: text');
  if (/[<>]/.test(b.text) || /&(?!amp;|lt;|gt;)/.test(b.text)) fail('slack: unescaped control character in text');
  assertInert(b.text.replace(/&(amp|lt|gt);/g, ' '), 'slack text');
  if (!Array.isArray(b.blocks) || b.blocks.length === 0 || b.blocks.length > 50) fail('slack: 1–50 blocks');
  for (const bl of b.blocks as { type?: unknown; text?: { type?: unknown; text?: unknown } }[]) {
    if (bl.type !== 'header' && bl.type !== 'section') fail(`slack: block type ${String(bl.type)}`);
    if (bl.text?.type !== 'plain_text' || typeof bl.text.text !== 'string') fail('slack: blocks must be plain_text');
    if (bl.text.text.length > (bl.type === 'header' ? 150 : 3000)) fail('slack: text too long');
    assertInert(bl.text.text, 'slack block');
  }
}
