/**
 * The normalised evidence record: one per message delivery, whatever the source (.eml, .msg, mbox, pasted
 * headers, message trace CSV, historical search, EmailEvents, Graph). Every field is `null` when the source
 * cannot tell; rules never guess a default. Each known fact carries an {@link EvidenceRef} so findings can cite
 * the header line or export row it came from.
 * @module
 */
import type { AttachmentInspection, ContentEvidence } from './content-facts.js';
import type { EvidenceRef } from './finding.js';
import type { ForefrontSlot } from './headers/forefront.js';
import type { Observed } from './observed.js';

export type SourceKind =
  | 'eml'
  | 'msg'
  | 'mbox'
  | 'headers'
  | 'message-trace'
  | 'message-trace-detail'
  | 'historical-search'
  | 'email-events'
  | 'graph-message-trace';

export interface MailAddress {
  /** Lower-cased `local@domain` (may be malformed: attacker-controlled). */
  address: string;
  /** Lower-cased domain, `null` when the address has none. */
  domain: string | null;
  name?: string;
}

export interface AttachmentEvidence {
  name: string | null;
  contentType: string;
  size: number;
  /** hex sha256 of the decoded content, when the content was available. */
  sha256: string | null;
  disposition: string | null;
  /** 2-D code payloads found inside (filled by content analysers; empty when none ran). */
  qrUrls: string[];
  ref: EvidenceRef;
  /** What a content analyser found inside (archive listing, PDF structure, HTML traits); absent when none ran. */
  inspection?: AttachmentInspection;
}

export type UrlLocation = 'body' | 'html' | 'pdf' | 'qr-code' | 'attachment';

/**
 * How a QR code was drawn without an image (HTML table, inline SVG, block-character text, CSS boxes, PDF vector
 * paths).
 */
export type DrawnTechnique = 'html-table' | 'svg' | 'text-blocks' | 'css-boxes' | 'pdf-vector';

export interface UrlEvidence {
  url: string;
  location: UrlLocation;
  ref: EvidenceRef;
  /** Set on `qr-code` URLs whose code was drawn in markup or text rather than shown as an image. */
  drawn?: DrawnTechnique;
}

/** One hop of the Received chain, top (most recent) first. */
export interface HopEvidence {
  fromHost: string | null;
  fromIp: string | null;
  helo: string | null;
  byHost: string | null;
  withProtocol: string | null;
  tls: boolean | null;
  /** The hop's date as written (after the last `;`). */
  date: string | null;
  ref: EvidenceRef;
}

export interface AuthenticationEvidence {
  spf: Observed<string> | null;
  dkim: Observed<string> | null;
  dmarc: Observed<string> | null;
  dmarcAction: Observed<string> | null;
  compauth: Observed<string> | null;
  compauthReason: Observed<string> | null;
  /** `smtp.mailfrom` as Exchange saw it. */
  mailFromDomain: Observed<string> | null;
  /** `header.from` as Exchange saw it. */
  headerFromDomain: Observed<string> | null;
  /** `header.d` of the DKIM result. */
  dkimDomain: Observed<string> | null;
}

/**
 * Exchange Online Protection's antispam stamp (X-Forefront-Antispam-Report) of the receiving tenant: one slot per
 * field the table `FOREFRONT_FIELDS` (headers/forefront.ts) gives one (CIP and H fill `connectingIp` / `helo` instead).
 */
export type AntispamEvidence = Record<ForefrontSlot, Observed<string> | null>;

/** Exchange organisation / cross-tenant stamps of the receiving tenant (never the sender's). */
export interface ExchangeStampEvidence {
  authAs: Observed<string> | null;
  authMechanism: Observed<string> | null;
  directionality: Observed<string> | null;
  fromEntityHeader: Observed<string> | null;
  crossTenantAuthAs: Observed<string> | null;
  /**
   * `X-MS-Exchange-Organization-IsAnonymousDirectSend` (third-party documented; an organisation header, so it is
   * stripped when the message leaves the organisation: its absence proves nothing).
   */
  anonymousDirectSend: Observed<string> | null;
  /**
   * `X-MS-Exchange-Organization-MxPointsToUs` (third-party documented): whether the recipient domain's MX points at
   * Exchange Online. `false` on all mail a third-party gateway relays, so by itself it is no bypass.
   */
  mxPointsToUs: Observed<string> | null;
  /** On-prem connector attribution (`OriginalAttributedTenantConnectingIp`). */
  attributedConnectingIp: Observed<string> | null;
}

/** Client software fingerprints visible in the message (not in exports). */
export interface ClientEvidence {
  xMailer: Observed<string> | null;
  userAgent: Observed<string> | null;
  messageIdHeader: Observed<string> | null;
  boundaries: Observed<string>[];
  /** Order of the first header names (lower-case), for tool fingerprints such as swaks. */
  headerOrder: string[];
  date: Observed<string> | null;
}

export interface MessageEvidence {
  /** What the user named: a path, `path#3` inside an mbox, `file:row` inside an export, or `-`. */
  input: string;
  sourceKind: SourceKind;
  messageId: string | null;
  networkMessageId: string | null;
  /** ISO-8601 receive time, when known. */
  receivedAt: string | null;
  subject: Observed<string> | null;
  /** P2: the visible From header. */
  headerFrom: Observed<MailAddress> | null;
  /** How many From header fields the message has (more than one is malformed; 0 for export rows). */
  fromHeaderCount: number;
  /** The first address of the Reply-To header. */
  replyTo: Observed<MailAddress> | null;
  /** P1: the envelope sender (Return-Path, smtp.mailfrom, SenderAddress, SenderMailFromAddress). */
  envelopeFrom: Observed<MailAddress> | null;
  recipients: Observed<MailAddress>[];
  /** Envelope recipients when known apart from To/Cc (trace rows, X-MS-Exchange-Organization headers). */
  envelopeRecipients: Observed<MailAddress>[];
  /**
   * Envelope recipients Exchange Online itself recorded for this delivery: `for <addr>` in a Received line written
   * by Exchange (at or above the entry hop) and X-MS-Exchange-Organization-OriginalEnvelopeRecipients. What the
   * receiving tenant's domains may be inferred from without a profile (never from To/Cc alone).
   */
  attestedRecipients: Observed<MailAddress>[];
  /** The address that connected to Exchange Online (FFAS CIP, FromIP, SenderIPv4, original_client_ip). */
  connectingIp: Observed<string> | null;
  /** HELO / client host name the connecting host gave. */
  helo: Observed<string> | null;
  /** TLS on the hop into Exchange Online: true, false, or null when unknown. */
  tls: Observed<boolean> | null;
  hops: HopEvidence[];
  /**
   * Inbound connector attribution: `value` is the connector name (or id) when the message matched one,
   * `null` when the source states that no connector matched; the whole field is `null` when unknown.
   */
  connector: Observed<string | null> | null;
  /** The tenant the message was delivered to, as stamped by Exchange (X-EOPTenantAttributedMessage, tenant_id). */
  receivingTenantId: Observed<string> | null;
  exchange: ExchangeStampEvidence;
  authentication: AuthenticationEvidence;
  antispam: AntispamEvidence;
  client: ClientEvidence;
  /** List-Id / List-Unsubscribe / Sender of a mailing-list relay. */
  mailingList: Observed<string> | null;
  /** Microsoft's verdict on an ARC chain (`arc=pass` in its own ARC-Authentication-Results). */
  arc: Observed<string> | null;
  attachments: AttachmentEvidence[];
  urls: UrlEvidence[];
  /** Whether the body and attachments were read (false with --headers-only and for export rows). */
  contentInspected: boolean;
  /** Body text and the gaps of a content analysis (absent when no content analyser ran). */
  content?: ContentEvidence;
  /** Export-only facts: delivery status, direction, size, threat types, ... kept as read. */
  delivery: Observed<string> | null;
  /** Facts the reader noticed but the model has no slot for; kept, never dropped. */
  extra: Record<string, string>;
  /** Stamps that looked like verdicts but were not trusted (sender-side or planted), with the reason. */
  ignoredStamps: IgnoredStamp[];
  /** Reader notes shown to the user (limits hit, parts skipped). */
  notes: string[];
}

export interface IgnoredStamp {
  kind: 'auth-results' | 'cross-tenant' | 'antispam';
  ref: EvidenceRef;
  reason: string;
}

/** An evidence record with every fact unknown: the starting point of every source adapter. */
export function emptyEvidence(input: string, sourceKind: SourceKind): MessageEvidence {
  return {
    input,
    sourceKind,
    messageId: null,
    networkMessageId: null,
    receivedAt: null,
    subject: null,
    headerFrom: null,
    fromHeaderCount: 0,
    replyTo: null,
    envelopeFrom: null,
    recipients: [],
    envelopeRecipients: [],
    attestedRecipients: [],
    connectingIp: null,
    helo: null,
    tls: null,
    hops: [],
    connector: null,
    receivingTenantId: null,
    exchange: {
      authAs: null,
      authMechanism: null,
      directionality: null,
      fromEntityHeader: null,
      crossTenantAuthAs: null,
      anonymousDirectSend: null,
      mxPointsToUs: null,
      attributedConnectingIp: null,
    },
    authentication: {
      spf: null,
      dkim: null,
      dmarc: null,
      dmarcAction: null,
      compauth: null,
      compauthReason: null,
      mailFromDomain: null,
      headerFromDomain: null,
      dkimDomain: null,
    },
    antispam: { cat: null, sfty: null, scl: null, dir: null, sfv: null, ctry: null, ipv: null },
    client: {
      xMailer: null,
      userAgent: null,
      messageIdHeader: null,
      boundaries: [],
      headerOrder: [],
      date: null,
    },
    mailingList: null,
    arc: null,
    attachments: [],
    urls: [],
    contentInspected: false,
    delivery: null,
    extra: {},
    ignoredStamps: [],
    notes: [],
  };
}
