/**
 * A real SMTP server (smtp-server) on 127.0.0.1 scripted to answer like Exchange Online's smart host: EOP-style
 * banner, STARTTLS, and the replies Microsoft documents for Direct Send, DBEB and throttling.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export type Script =
  | 'accept'
  | 'reject-direct-send-rcpt'
  | 'reject-direct-send-data'
  | 'reject-direct-send-mail'
  | 'recipient-unknown'
  | 'throttle-connect'
  | 'policy-rcpt'
  | 'no-starttls';

export const REPLIES = {
  directSend:
    '5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources',
  recipient:
    '5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [BN1PEPF0000467F.namprd03.prod.outlook.com 2026-11-27T10:00:00.000Z 08DDE1A2B3C4D5E6]',
  throttle:
    '4.7.500 Server busy. Please try again later from [127.0.0.1]. (S77719) [BN1PEPF0000467F.namprd03.prod.outlook.com]',
  policy:
    '5.7.606 Access denied, banned sending IP [127.0.0.1]. To request removal from this list please visit https://sender.office.com/',
  queued:
    '2.6.0 <dsguard@probe> [InternalId=12345, Hostname=BN1PEPF0000467F.namprd03.prod.outlook.com] Queued mail for delivery',
} as const;

export interface Received {
  connections: number;
  mailFrom: string[];
  rcptTo: string[];
  messages: string[];
  secure: boolean[];
}

function err(code: number, text: string): Error {
  const e = new Error(text) as Error & { responseCode: number };
  e.responseCode = code;
  return e;
}

export async function startExoSmtp(
  script: Script,
): Promise<{ port: number; received: Received; close: () => Promise<void> }> {
  const received: Received = { connections: 0, mailFrom: [], rcptTo: [], messages: [], secure: [] };
  const server = new SMTPServer({
    name: 'BN1PEPF0000467F.mail.protection.outlook.com',
    banner: 'Microsoft ESMTP MAIL Service ready at Fri, 27 Nov 2026 10:00:00 +0000 [08DDE1A2B3C4D5E6]',
    authOptional: true,
    disabledCommands: script === 'no-starttls' ? ['AUTH', 'STARTTLS'] : ['AUTH'],
    logger: false,
    size: 157286400,
    onConnect(_session: SMTPServerSession, cb: (e?: Error | null) => void) {
      received.connections++;
      if (script === 'throttle-connect') return cb(err(451, REPLIES.throttle));
      cb();
    },
    onMailFrom(address, session, cb) {
      received.mailFrom.push(address.address);
      received.secure.push(session.secure);
      if (script === 'reject-direct-send-mail') return cb(err(550, REPLIES.directSend));
      cb();
    },
    onRcptTo(address, _session, cb) {
      received.rcptTo.push(address.address);
      if (script === 'reject-direct-send-rcpt') return cb(err(550, REPLIES.directSend));
      if (script === 'recipient-unknown') return cb(err(550, REPLIES.recipient));
      if (script === 'policy-rcpt') return cb(err(550, REPLIES.policy));
      cb();
    },
    onData(stream: SMTPServerDataStream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.messages.push(Buffer.concat(chunks).toString('utf8'));
        if (script === 'reject-direct-send-data') return cb(err(550, REPLIES.directSend));
        cb(null, REPLIES.queued);
      });
    },
  });
  // A client that resets the connection must not take the test process down.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
