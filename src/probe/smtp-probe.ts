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

class ProtocolError extends Error {}

/** Reads SMTP replies from a socket: multiline aware, bounded. */
export class ReplyReader {
  private buf = '';
  private lines: string[] = [];
  private replyBytes = 0;
  private waiting: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void } | null = null;
  private failed: Error | null = null;
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
          this.fail(new ProtocolError(`reply line longer than ${this.limits.maxLineBytes} bytes`));
        return;
      }
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      if (line.length > this.limits.maxLineBytes) {
        this.fail(new ProtocolError(`reply line longer than ${this.limits.maxLineBytes} bytes`));
        return;
      }
      this.line(line);
      if (this.failed) return;
    }
  }

  private line(line: string): void {
    const m = /^(\d{3})(?:([ -])(.*))?$/.exec(line);
    if (!m) {
      this.fail(new ProtocolError(`malformed reply line: "${clean(line, 80)}"`));
      return;
    }
    const code = m[1]!;
    if (this.lines.length > 0 && !this.lines[0]!.startsWith(code)) {
      this.fail(new ProtocolError('reply code changed inside a multiline reply'));
      return;
    }
    this.lines.push(line);
    this.replyBytes += line.length + 2;
    if (this.lines.length > this.limits.maxReplyLines || this.replyBytes > this.limits.maxReplyBytes) {
      this.fail(new ProtocolError('reply too long'));
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
      w.resolve(reply);
    } else this.queue.push(reply);
  }

  fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.reject(err);
    }
  }

  /** The next complete reply, or a rejection on error, close or timeout. */
  next(timeoutMs: number): Promise<SmtpReply> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }
}

function dotStuff(message: string): string {
  const lines = message.replace(/\r?\n/g, '\r\n').split('\r\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return `${lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n')}\r\n.\r\n`;
}

/** Run one probe conversation. Never throws for network or protocol trouble. */
export async function runSmtpProbe(opts: SmtpProbeOptions): Promise<SmtpProbeSession> {
  const limits = { ...DEFAULT_SMTP_LIMITS, ...opts.limits };
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + (opts.totalTimeoutMs ?? 90_000);
  const session: SmtpProbeSession = { steps: [], transcript: [], startTlsOffered: false, tls: null, extensions: [] };
  const log = (dir: 'C' | 'S', line: string) => {
    if (session.transcript.length < 400) session.transcript.push(`${dir}: ${clean(line, 600)}`);
  };
  const logReply = (r: SmtpReply) => {
    r.lines.forEach((l, i) => {
      log('S', `${r.code}${i < r.lines.length - 1 ? '-' : ' '}${l}`);
    });
  };
  const wait = () => Math.max(1, Math.min(timeoutMs, deadline - Date.now()));

  let reader = new ReplyReader(limits);
  let socket: Socket | TLSSocket;
  const attach = (s: Socket | TLSSocket, r: ReplyReader) => {
    s.setEncoding('latin1');
    s.on('data', (c: string) => r.push(c));
    s.on('error', (e) => r.fail(e));
    s.on('close', () => r.fail(new Error('connection closed by the server')));
  };

  // Connect
  try {
    socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ host: opts.address ?? opts.host, port: opts.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connection timed out after ${wait()} ms`));
      }, wait());
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message));
      });
    });
  } catch (err) {
    session.steps.push({ stage: 'connect', command: null, reply: null, error: (err as Error).message });
    return session;
  }
  attach(socket, reader);

  const record = (
    stage: SmtpStage,
    command: string | null,
    reply: SmtpReply | null,
    error: string | null,
  ): SmtpStep => {
    const step = { stage, command, reply, error };
    session.steps.push(step);
    return step;
  };
  const receive = async (stage: SmtpStage, command: string | null): Promise<SmtpStep> => {
    try {
      const reply = await reader.next(wait());
      logReply(reply);
      return record(stage, command, reply, null);
    } catch (err) {
      return record(stage, command, null, (err as Error).message);
    }
  };
  const send = async (stage: SmtpStage, command: string, shown = command): Promise<SmtpStep> => {
    log('C', shown);
    if (!socket.writable) return record(stage, command, null, 'connection closed');
    socket.write(`${command}\r\n`);
    return receive(stage, command);
  };
  const failed = (s: SmtpStep) => s.error !== null || (s.reply !== null && s.reply.code >= 400);
  const finish = async (polite: boolean): Promise<SmtpProbeSession> => {
    if (polite && socket.writable) {
      log('C', 'QUIT');
      socket.write('QUIT\r\n');
      try {
        const r = await reader.next(Math.min(wait(), 5000));
        logReply(r);
      } catch {
        // The server may close first.
      }
    }
    // Close politely (FIN, TLS close_notify) and give the server a moment; never wait long.
    await new Promise<void>((resolve) => {
      const s = socket;
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
    return session;
  };

  const greeting = await receive('connect', null);
  if (greeting.error) return finish(false);
  if (greeting.reply && greeting.reply.code !== 220) return finish(true);

  let ehlo = await send('ehlo', `EHLO ${opts.ehloName}`);
  if (ehlo.error) return finish(false);
  if (ehlo.reply && ehlo.reply.code >= 500) {
    session.steps.pop();
    ehlo = await send('ehlo', `HELO ${opts.ehloName}`);
  }
  if (failed(ehlo)) return finish(ehlo.error === null);
  session.extensions = (ehlo.reply?.lines.slice(1) ?? []).map((l) => l.split(' ')[0]!.toUpperCase());
  session.startTlsOffered = session.extensions.includes('STARTTLS');

  if (session.startTlsOffered && opts.starttls !== false) {
    const st = await send('starttls', 'STARTTLS');
    if (failed(st)) return finish(st.error === null);
    const plain = socket as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    reader = new ReplyReader(limits);
    try {
      const secure = await new Promise<TLSSocket>((resolve, reject) => {
        const isIp = /^[\d.]+$|:/.test(opts.host);
        const t = tlsConnect({ socket: plain, rejectUnauthorized: false, ...(isIp ? {} : { servername: opts.host }) });
        const timer = setTimeout(() => {
          t.destroy();
          reject(new Error(`TLS handshake timed out after ${wait()} ms`));
        }, wait());
        t.once('secureConnect', () => {
          clearTimeout(timer);
          resolve(t);
        });
        t.once('error', (e) => {
          clearTimeout(timer);
          reject(new Error(`TLS handshake failed: ${e.message}`));
        });
      });
      socket = secure;
      const cipher = secure.getCipher();
      session.tls = {
        protocol: secure.getProtocol() ?? null,
        cipher: cipher?.name ?? null,
        authorized: secure.authorized,
        authorizationError: secure.authorizationError ? String(secure.authorizationError) : null,
      };
      attach(secure, reader);
    } catch (err) {
      record('starttls', 'STARTTLS', null, (err as Error).message);
      plain.destroy();
      return session;
    }
    const ehlo2 = await send('ehlo', `EHLO ${opts.ehloName}`);
    if (failed(ehlo2)) return finish(ehlo2.error === null);
  }

  const mail = await send('mail', `MAIL FROM:<${opts.from}>`);
  if (failed(mail)) return finish(mail.error === null);
  const rcpt = await send('rcpt', `RCPT TO:<${opts.to}>`);
  if (failed(rcpt)) return finish(rcpt.error === null);

  if (opts.message !== null) {
    const data = await send('data', 'DATA');
    if (data.error || (data.reply && data.reply.code !== 354)) return finish(data.error === null);
    const body = dotStuff(opts.message);
    log('C', `<message: ${Buffer.byteLength(body)} bytes>`);
    log('C', '.');
    socket.write(body);
    const end = await receive('data', '.');
    return finish(end.error === null);
  }
  return finish(true);
}
