/**
 * A small SMTP client for `dsguard probe` over node:net / node:tls: one connection, EHLO (HELO fallback),
 * STARTTLS when offered (opportunistic, as between MTAs: the certificate is checked and reported, not required),
 * MAIL FROM, RCPT TO, optionally DATA with a caller-built message, then QUIT. Every wait has a timeout and the
 * whole conversation a deadline; replies are parsed with bounded line length, line count and size. Nothing here
 * throws for network trouble: the failing step carries the error.
 *
 * The transcript holds protocol lines only (`C: MAIL FROM:<…>`, `S: 250 …`), control characters removed; the
 * message body is never copied into it (`C: <message: N bytes>`).
 * @module
 */
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { enhancedCode, type SmtpReply, type SmtpStage, type SmtpStep } from '../core/posture/probe-verdict.js';
import { type Failure, failure, ok, type Result } from '../core/result.js';

export interface SmtpLimits {
  /** Longest reply line accepted (RFC 5321 §4.5.3.1.5: 512 octets; some servers send more). */
  maxLineBytes: number;
  /** Most lines in one (multiline) reply. */
  maxReplyLines: number;
  /** Most bytes in one reply. */
  maxReplyBytes: number;
}

export const DEFAULT_SMTP_LIMITS: SmtpLimits = { maxLineBytes: 2048, maxReplyLines: 100, maxReplyBytes: 32 * 1024 };

export interface SmtpProbeOptions {
  /** The host name (for TLS SNI and the transcript). */
  host: string;
  /** The address to connect to (default: `host`). */
  address?: string;
  port: number;
  ehloName: string;
  from: string;
  to: string;
  /** A complete message (CRLF line ends) to send after DATA; `null`: stop after RCPT TO. */
  message: string | null;
  /** Use STARTTLS when offered (default true). */
  starttls?: boolean;
  /** Per-reply timeout (default 20 s). */
  timeoutMs?: number;
  /** Deadline for the whole conversation (default 90 s). */
  totalTimeoutMs?: number;
  limits?: Partial<SmtpLimits>;
}

export interface SmtpTlsInfo {
  protocol: string | null;
  cipher: string | null;
  /** Whether the certificate verified against the system CAs for `host`. */
  authorized: boolean;
  authorizationError: string | null;
}

export interface SmtpProbeSession {
  steps: SmtpStep[];
  transcript: string[];
  startTlsOffered: boolean;
  tls: SmtpTlsInfo | null;
  extensions: string[];
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function clean(line: string, max = 1000): string {
  const t = line.replace(CONTROL, '');
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Reads SMTP replies from a socket: multiline aware, bounded. A protocol violation ends it (kind `remote`). */
export class ReplyReader {
  private buf = '';
  private lines: string[] = [];
  private replyBytes = 0;
  private waiting: ((r: Result<{ reply: SmtpReply }>) => void) | null = null;
  private failed: Failure | null = null;
  private readonly queue: SmtpReply[] = [];

  constructor(private readonly limits: SmtpLimits) {}

  /** Feed received bytes. */
  push(chunk: string): void {
    if (this.failed) return;
    this.buf += chunk;
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) {
        if (this.buf.length > this.limits.maxLineBytes)
          this.fail(`reply line longer than ${this.limits.maxLineBytes} bytes`);
        return;
      }
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      if (line.length > this.limits.maxLineBytes) {
        this.fail(`reply line longer than ${this.limits.maxLineBytes} bytes`);
        return;
      }
      this.line(line);
      if (this.failed) return;
    }
  }

  private line(line: string): void {
    const m = /^(\d{3})(?:([ -])(.*))?$/.exec(line);
    if (!m) {
      this.fail(`malformed reply line: "${clean(line, 80)}"`);
      return;
    }
    const code = m[1]!;
    if (this.lines.length > 0 && !this.lines[0]!.startsWith(code)) {
      this.fail('reply code changed inside a multiline reply');
      return;
    }
    this.lines.push(line);
    this.replyBytes += line.length + 2;
    if (this.lines.length > this.limits.maxReplyLines || this.replyBytes > this.limits.maxReplyBytes) {
      this.fail('reply too long');
      return;
    }
    if (m[2] === '-') return;
    const texts = this.lines.map((l) => l.slice(4));
    const reply: SmtpReply = {
      code: Number(code),
      enhanced: enhancedCode(texts[0] ?? ''),
      lines: texts.map((t) => clean(t)),
    };
    this.lines = [];
    this.replyBytes = 0;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(ok({ reply }));
    } else this.queue.push(reply);
  }

  /** End the reader: the reply waited for, and every later one, is this `remote` failure. */
  fail(message: string): void {
    if (this.failed) return;
    this.failed = failure('remote', message);
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(this.failed);
    }
  }

  /** The next complete reply, or a failure on a protocol error, close or timeout. */
  next(timeoutMs: number): Promise<Result<{ reply: SmtpReply }>> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(ok({ reply: queued }));
    if (this.failed) return Promise.resolve(this.failed);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve(failure('remote', `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }
}

function dotStuff(message: string): string {
  const lines = message.replace(/\r?\n/g, '\r\n').split('\r\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return `${lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n')}\r\n.\r\n`;
}

/** Open a TCP connection within `timeoutMs`; a `remote` failure when refused, unreachable or too slow. */
function openSocket(host: string, port: number, timeoutMs: number): Promise<Result<{ socket: Socket }>> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(failure('remote', `connection timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(ok({ socket: s }));
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(failure('remote', e.code === 'ECONNREFUSED' ? 'connection refused' : e.message));
    });
  });
}

/** The TLS handshake over an open connection (opportunistic: the certificate is reported, not required). */
function upgradeToTls(plain: Socket, host: string, timeoutMs: number): Promise<Result<{ socket: TLSSocket }>> {
  return new Promise((resolve) => {
    const isIp = /^[\d.]+$|:/.test(host);
    const t = tlsConnect({ socket: plain, rejectUnauthorized: false, ...(isIp ? {} : { servername: host }) });
    const timer = setTimeout(() => {
      t.destroy();
      resolve(failure('remote', `TLS handshake timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    t.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(ok({ socket: t }));
    });
    t.once('error', (e) => {
      clearTimeout(timer);
      resolve(failure('remote', `TLS handshake failed: ${e.message}`));
    });
  });
}

function tlsInfo(secure: TLSSocket): SmtpTlsInfo {
  const cipher = secure.getCipher();
  return {
    protocol: secure.getProtocol() ?? null,
    cipher: cipher?.name ?? null,
    authorized: secure.authorized,
    authorizationError: secure.authorizationError ? String(secure.authorizationError) : null,
  };
}

/** A step that ends the conversation: no reply, or a 4xx/5xx one. */
function failed(s: SmtpStep): boolean {
  return s.error !== null || (s.reply !== null && s.reply.code >= 400);
}

/**
 * One SMTP conversation over a connected socket: each command and reply recorded as a step and in the
 * transcript, every wait bounded by the per-reply timeout and the conversation's deadline.
 */
class SmtpConversation {
  readonly session: SmtpProbeSession = { steps: [], transcript: [], startTlsOffered: false, tls: null, extensions: [] };
  private reader: ReplyReader;

  constructor(
    private socket: Socket | TLSSocket,
    private readonly limits: SmtpLimits,
    private readonly timeoutMs: number,
    private readonly deadline: number,
  ) {
    this.reader = this.attach(socket);
  }

  /** The time left for one wait: the per-reply timeout, cut by the deadline (at least 1 ms). */
  wait(): number {
    return Math.max(1, Math.min(this.timeoutMs, this.deadline - Date.now()));
  }

  private attach(s: Socket | TLSSocket): ReplyReader {
    const r = new ReplyReader(this.limits);
    s.setEncoding('latin1');
    s.on('data', (c: string) => r.push(c));
    s.on('error', (e) => r.fail(e.message));
    s.on('close', () => r.fail('connection closed by the server'));
    return r;
  }

  private log(dir: 'C' | 'S', line: string): void {
    if (this.session.transcript.length < 400) this.session.transcript.push(`${dir}: ${clean(line, 600)}`);
  }

  private logReply(r: SmtpReply): void {
    r.lines.forEach((l, i) => {
      this.log('S', `${r.code}${i < r.lines.length - 1 ? '-' : ' '}${l}`);
    });
  }

  record(stage: SmtpStage, command: string | null, reply: SmtpReply | null, error: string | null): SmtpStep {
    const step = { stage, command, reply, error };
    this.session.steps.push(step);
    return step;
  }

  async receive(stage: SmtpStage, command: string | null): Promise<SmtpStep> {
    const r = await this.reader.next(this.wait());
    if (r.status === 'error') return this.record(stage, command, null, r.error);
    this.logReply(r.reply);
    return this.record(stage, command, r.reply, null);
  }

  async send(stage: SmtpStage, command: string): Promise<SmtpStep> {
    this.log('C', command);
    if (!this.socket.writable) return this.record(stage, command, null, 'connection closed');
    this.socket.write(`${command}\r\n`);
    return this.receive(stage, command);
  }

  /** EHLO, or HELO when the server refuses EHLO with a 5xx; notes the extensions and STARTTLS. */
  async greet(ehloName: string): Promise<SmtpStep> {
    let ehlo = await this.send('ehlo', `EHLO ${ehloName}`);
    if (ehlo.error) return ehlo;
    if (ehlo.reply && ehlo.reply.code >= 500) {
      this.session.steps.pop();
      ehlo = await this.send('ehlo', `HELO ${ehloName}`);
    }
    if (!failed(ehlo)) {
      this.session.extensions = (ehlo.reply?.lines.slice(1) ?? []).map((l) => l.split(' ')[0]!.toUpperCase());
      this.session.startTlsOffered = this.session.extensions.includes('STARTTLS');
    }
    return ehlo;
  }

  /**
   * STARTTLS and the handshake; `null` when the connection went secure, else the step that failed (the
   * handshake's own failure is recorded as a `starttls` step and the connection is dropped).
   */
  async startTls(host: string): Promise<{ step: SmtpStep; dropped: boolean } | null> {
    const st = await this.send('starttls', 'STARTTLS');
    if (failed(st)) return { step: st, dropped: false };
    const plain = this.socket as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = await upgradeToTls(plain, host, this.wait());
    if (secure.status === 'error') {
      const step = this.record('starttls', 'STARTTLS', null, secure.error);
      plain.destroy();
      return { step, dropped: true };
    }
    this.socket = secure.socket;
    this.session.tls = tlsInfo(secure.socket);
    this.reader = this.attach(secure.socket);
    return null;
  }

  /** DATA, the dot-stuffed message (never copied into the transcript) and the final reply. */
  async sendMessage(message: string): Promise<SmtpStep> {
    const data = await this.send('data', 'DATA');
    if (data.error || (data.reply && data.reply.code !== 354)) return data;
    const body = dotStuff(message);
    this.log('C', `<message: ${Buffer.byteLength(body)} bytes>`);
    this.log('C', '.');
    this.socket.write(body);
    return this.receive('data', '.');
  }

  /** QUIT when the connection is still usable (`polite`), then close it; never waits long. */
  async finish(polite: boolean): Promise<SmtpProbeSession> {
    if (polite && this.socket.writable) {
      this.log('C', 'QUIT');
      this.socket.write('QUIT\r\n');
      const r = await this.reader.next(Math.min(this.wait(), 5000));
      if (r.status === 'ok') this.logReply(r.reply); // the server may close first
    }
    // Close politely (FIN, TLS close_notify) and give the server a moment.
    await new Promise<void>((resolve) => {
      const s = this.socket;
      if (s.destroyed) return resolve();
      const timer = setTimeout(() => {
        s.destroy();
        resolve();
      }, 1000);
      s.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      s.end();
    });
    return this.session;
  }
}

/** Run one probe conversation. Never throws for network or protocol trouble. */
export async function runSmtpProbe(opts: SmtpProbeOptions): Promise<SmtpProbeSession> {
  const limits = { ...DEFAULT_SMTP_LIMITS, ...opts.limits };
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + (opts.totalTimeoutMs ?? 90_000);
  const wait = () => Math.max(1, Math.min(timeoutMs, deadline - Date.now()));
  const connected = await openSocket(opts.address ?? opts.host, opts.port, wait());
  if (connected.status === 'error') {
    return {
      steps: [{ stage: 'connect', command: null, reply: null, error: connected.error }],
      transcript: [],
      startTlsOffered: false,
      tls: null,
      extensions: [],
    };
  }
  const c = new SmtpConversation(connected.socket, limits, timeoutMs, deadline);

  const greeting = await c.receive('connect', null);
  if (greeting.error) return c.finish(false);
  if (greeting.reply && greeting.reply.code !== 220) return c.finish(true);

  const ehlo = await c.greet(opts.ehloName);
  if (failed(ehlo)) return c.finish(ehlo.error === null);
  if (c.session.startTlsOffered && opts.starttls !== false) {
    const tlsFailed = await c.startTls(opts.host);
    if (tlsFailed?.dropped) return c.session;
    if (tlsFailed) return c.finish(tlsFailed.step.error === null);
    const ehlo2 = await c.send('ehlo', `EHLO ${opts.ehloName}`);
    if (failed(ehlo2)) return c.finish(ehlo2.error === null);
  }

  const mail = await c.send('mail', `MAIL FROM:<${opts.from}>`);
  if (failed(mail)) return c.finish(mail.error === null);
  const rcpt = await c.send('rcpt', `RCPT TO:<${opts.to}>`);
  if (failed(rcpt)) return c.finish(rcpt.error === null);
  if (opts.message !== null) {
    const end = await c.sendMessage(opts.message);
    return c.finish(end.error === null);
  }
  return c.finish(true);
}
