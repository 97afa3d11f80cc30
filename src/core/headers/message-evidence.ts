/**
 * Build the evidence record from a message's header block. Pure: header fields in, evidence out.
 *
 * Trust model (see docs/architecture.md): only the receiving tenant's own stamps count.
 * - `X-MS-Exchange-Organization-*` survive only from the receiving organisation (header firewall).
 * - `Authentication-Results` count only above the hop into Exchange Online's front door (the "entry hop"),
 *   and only when written by Microsoft; lower ones were added before Exchange saw the message.
 * - `X-MS-Exchange-CrossTenant-*` count only when `-Id` is the receiving tenant; otherwise they are the
 *   sending tenant's claims.
 * - `X-Forefront-Antispam-Report-Untrusted` and a report with `DIR:OUT` are the sender's stamps.
 * @module
 */
import { addressParser, decodeWords } from 'postal-mime';
import { toMailAddress } from '../domain-name.js';
import type {
  AntispamEvidence,
  AuthenticationEvidence,
  HopEvidence,
  MailAddress,
  MessageEvidence,
  SourceKind,
} from '../evidence.js';
import { emptyEvidence } from '../evidence.js';
import { boundValue, type EvidenceRef } from '../finding.js';
import { normalizeIp } from '../net-address.js';
import { type Observed, observed } from '../observed.js';
import { isMicrosoftAuthservId, parseAuthResults, resultFor } from './auth-results.js';
import {
  type AntispamFields,
  antispamField,
  FOREFRONT_FIELDS,
  type ForefrontField,
  parseAntispamFields,
} from './forefront.js';
import type { HeaderField } from './header-block.js';
import { HeaderIndex } from './header-block.js';
import { isExchangeOnlineHost, parseReceived, type ReceivedHop, receivedDate } from './received.js';
import { parseReceivedSpf } from './received-spf.js';

const MAX_HOPS = 100;
const ORIGINAL_ENVELOPE_RECIPIENTS = 'x-ms-exchange-organization-originalenveloperecipients';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface HeaderEvidenceOptions {
  input: string;
  sourceKind: SourceKind;
}

function refOf(input: string, f: HeaderField, value?: string): EvidenceRef {
  return { source: input, field: f.name, value: boundValue(value ?? f.value), location: `line ${f.line}` };
}

function decoded(value: string): string {
  try {
    return decodeWords(value);
  } catch {
    return value;
  }
}

function addressesOf(input: string, f: HeaderField): Observed<MailAddress>[] {
  const out: Observed<MailAddress>[] = [];
  let parsed: ReturnType<typeof addressParser> = [];
  try {
    parsed = addressParser(f.value.length > 16_384 ? f.value.slice(0, 16_384) : f.value);
  } catch {
    parsed = [];
  }
  const push = (address: string | undefined, name: string | undefined) => {
    if (!address) return;
    const a = toMailAddress(address, name ? decoded(name) : undefined);
    if (a) out.push(observed(a, refOf(input, f)));
  };
  for (const item of parsed) {
    if ('group' in item && Array.isArray(item.group)) for (const m of item.group) push(m.address, m.name);
    else push((item as { address?: string }).address, item.name);
    if (out.length >= 500) break;
  }
  return out;
}

/** The receiving tenant's entry hop: the topmost Received whose `by` is Exchange Online's front door. */
function findEntryHop(received: readonly HeaderField[], hops: readonly ReceivedHop[]): number | null {
  for (let i = 0; i < hops.length; i++) {
    const by = hops[i]!.by ?? '';
    if (by.endsWith('.mail.protection.outlook.com') || by.endsWith('.mx.microsoft')) return i;
  }
  // Fallback: the lowest hop into a Microsoft host from a non-Microsoft host.
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!;
    if (isExchangeOnlineHost(h.by) && !isExchangeOnlineHost(h.from) && received[i]) return i;
  }
  return null;
}

function tenantFrom(value: string): string | null {
  const id = value.split(':')[0]?.trim().toLowerCase() ?? '';
  return GUID.test(id) ? id : null;
}

/** What every step reads and writes: the header index, the input's name and the record being built. */
interface Build {
  readonly h: HeaderIndex;
  readonly input: string;
  readonly ev: MessageEvidence;
}

/** The Received chain as read, and the hop into Exchange Online's front door. */
interface ReceivedChain {
  fields: readonly HeaderField[];
  hops: readonly ReceivedHop[];
  /** Index into `fields`/`hops` of the entry hop, `null` when none was found. */
  entry: number | null;
}

function observedField(b: Build, f: HeaderField | null, value?: string): Observed<string> | null {
  return f ? observed(value ?? f.value, refOf(b.input, f, value)) : null;
}

export function evidenceFromHeaders(fields: readonly HeaderField[], opts: HeaderEvidenceOptions): MessageEvidence {
  const b: Build = { h: new HeaderIndex(fields), input: opts.input, ev: emptyEvidence(opts.input, opts.sourceKind) };
  b.ev.client.headerOrder = fields.slice(0, 40).map((f) => f.key);
  readIdentity(b);
  readClientFingerprints(b);
  const chain = readReceivedChain(b);
  const entryField = chain.entry === null ? null : chain.fields[chain.entry]!;
  const trustedAbove = (f: HeaderField) => entryField === null || f.index < entryField.index;
  readTenantStamps(b);
  readAntispamReport(b);
  readEntryHop(b, chain);
  readAttestedRecipients(b, chain);
  readAuthenticationResults(b, trustedAbove);
  readArcVerdict(b, trustedAbove);
  readReceivedSpf(b, trustedAbove);
  readCrossPremises(b);
  readBulkComplaintLevel(b);
  readEnvelopeSender(b);
  const list = b.h.first('list-id') ?? b.h.first('list-post');
  if (list) b.ev.mailingList = observedField(b, list);
  return b.ev;
}

/** P2, recipients, subject, Message-ID, Reply-To. */
function readIdentity(b: Build): void {
  const { h, input, ev } = b;
  const fromFields = h.all('from');
  const firstFrom = fromFields[0];
  if (firstFrom) ev.headerFrom = addressesOf(input, firstFrom)[0] ?? null;
  ev.fromHeaderCount = fromFields.length;
  for (const name of ['to', 'cc']) for (const f of h.all(name)) ev.recipients.push(...addressesOf(input, f));
  for (const name of ['delivered-to', 'x-original-to', ORIGINAL_ENVELOPE_RECIPIENTS]) {
    for (const f of h.all(name)) ev.envelopeRecipients.push(...addressesOf(input, f));
  }
  // An organisation header: Exchange's header firewall strips it from incoming mail, so it is the receiving
  // organisation's own record of the envelope recipients.
  for (const f of h.all(ORIGINAL_ENVELOPE_RECIPIENTS)) ev.attestedRecipients.push(...addressesOf(input, f));
  const subject = h.first('subject');
  if (subject) ev.subject = observed(decoded(subject.value), refOf(input, subject, decoded(subject.value)));
  const messageId = h.first('message-id');
  if (messageId) {
    ev.messageId = boundValue(messageId.value, 256);
    ev.client.messageIdHeader = observedField(b, messageId);
  }
  const replyTo = h.first('reply-to');
  if (replyTo) ev.replyTo = addressesOf(input, replyTo)[0] ?? null;
}

/** X-Mailer, User-Agent, Date and the top-level MIME boundary. */
function readClientFingerprints(b: Build): void {
  const { h, input, ev } = b;
  ev.client.xMailer = observedField(b, h.first('x-mailer'));
  ev.client.userAgent = observedField(b, h.first('user-agent'));
  ev.client.date = observedField(b, h.first('date'));
  const contentType = h.first('content-type');
  if (contentType) {
    const m = /boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(contentType.value);
    const boundary = m?.[1] ?? m?.[2];
    if (boundary) ev.client.boundaries.push(observed(boundary, refOf(input, contentType, boundary)));
  }
}

/** The hops, top first (at most {@link MAX_HOPS}), and the entry hop. */
function readReceivedChain(b: Build): ReceivedChain {
  const { h, input, ev } = b;
  const all = h.all('received');
  const fields = all.slice(0, MAX_HOPS);
  if (all.length > MAX_HOPS) ev.notes.push(`only the first ${MAX_HOPS} Received headers were read`);
  // Dates are converted only where a fact needs them (entry and topmost hop): see readEntryHop.
  const hops = fields.map((f) => parseReceived(f.value, { date: false }));
  ev.hops = hops.map(
    (hop, i): HopEvidence => ({
      fromHost: hop.fromRdns ?? hop.from,
      fromIp: hop.fromIp,
      helo: hop.helo,
      byHost: hop.by,
      withProtocol: hop.with,
      tls: hop.tls,
      date: hop.dateText,
      ref: refOf(input, fields[i]!),
    }),
  );
  return { fields, hops, entry: findEntryHop(fields, hops) };
}

/** The receiving tenant, its organisation stamps, and the cross-tenant stamps when they are its own. */
function readTenantStamps(b: Build): void {
  const { h, input, ev } = b;
  const attributed = h.first('x-eoptenantattributedmessage');
  const receivingTenant = attributed ? tenantFrom(attributed.value) : null;
  if (attributed && receivingTenant) ev.receivingTenantId = observed(receivingTenant, refOf(input, attributed));

  const org = (name: string) => observedField(b, h.first(`x-ms-exchange-organization-${name}`));
  ev.exchange.authAs = org('authas');
  ev.exchange.authMechanism = org('authmechanism');
  ev.exchange.directionality = org('messagedirectionality');
  ev.exchange.anonymousDirectSend = org('isanonymousdirectsend');
  ev.exchange.mxPointsToUs = org('mxpointstous');
  const networkId = h.first('x-ms-exchange-organization-network-message-id');
  if (networkId) ev.networkMessageId = networkId.value.toLowerCase();

  const crossTenantId = h.first('x-ms-exchange-crosstenant-id');
  const crossTenant = crossTenantId ? tenantFrom(crossTenantId.value) : null;
  if (
    ev.receivingTenantId === null &&
    crossTenant &&
    crossTenantId &&
    (ev.exchange.authAs || ev.exchange.directionality)
  ) {
    // Without X-EOPTenantAttributedMessage, the cross-tenant id next to our own organisation stamps is ours.
    ev.receivingTenantId = observed(crossTenant, refOf(input, crossTenantId));
  }
  const crossTrusted = crossTenant !== null && crossTenant === ev.receivingTenantId?.value;
  const cross = (name: string) => observedField(b, h.first(`x-ms-exchange-crosstenant-${name}`));
  if (crossTrusted) {
    ev.exchange.fromEntityHeader = cross('fromentityheader');
    ev.exchange.crossTenantAuthAs = cross('authas');
    ev.exchange.attributedConnectingIp = cross('originalattributedtenantconnectingip');
    if (!ev.networkMessageId) {
      const nm = h.first('x-ms-exchange-crosstenant-network-message-id');
      if (nm) ev.networkMessageId = nm.value.toLowerCase();
    }
  } else if (crossTenantId) {
    ev.ignoredStamps.push({
      kind: 'cross-tenant',
      ref: refOf(input, crossTenantId),
      reason: ev.receivingTenantId
        ? 'cross-tenant stamps belong to another tenant (the sender)'
        : 'no receiving tenant stamp to pair the cross-tenant stamps with',
    });
  }
}

/** The receiving tenant's antispam report: never -Untrusted, never a DIR:OUT (sender-side) stamp. */
function readAntispamReport(b: Build): void {
  const { h, input, ev } = b;
  for (const f of h.all('x-forefront-antispam-report')) {
    const report = parseAntispamFields(f.value);
    if (antispamField(report, 'DIR') === 'OUT') {
      ev.ignoredStamps.push({ kind: 'antispam', ref: refOf(input, f), reason: 'DIR:OUT is the sending side stamp' });
      continue;
    }
    ev.antispam = antispamSlots(input, f, report);
    const cip = antispamField(report, 'CIP');
    const cipIp = cip ? normalizeIp(cip) : null;
    if (cip && cipIp) ev.connectingIp = observed(cipIp, refOf(input, f, `CIP:${cip}`));
    const helo = antispamField(report, 'H');
    if (helo) ev.helo = observed(helo, refOf(input, f, `H:${helo}`));
    break;
  }
  const orgScl = h.first('x-ms-exchange-organization-scl');
  if (ev.antispam.scl === null && orgScl) ev.antispam.scl = observedField(b, orgScl);
}

/** Every field of the report that has a slot in the evidence, cited as `KEY:value`. */
function antispamSlots(input: string, f: HeaderField, report: AntispamFields): AntispamEvidence {
  const slots: AntispamEvidence = { cat: null, sfty: null, scl: null, dir: null, sfv: null, ctry: null, ipv: null };
  for (const key of Object.keys(FOREFRONT_FIELDS) as ForefrontField[]) {
    const slot = FOREFRONT_FIELDS[key].slot;
    const v = antispamField(report, key);
    if (slot !== null && v !== undefined) slots[slot] = observed(v, refOf(input, f, `${key}:${v}`));
  }
  return slots;
}

/** The entry hop: connecting IP / HELO when the antispam stamp did not say, TLS, and the receive time. */
function readEntryHop(b: Build, chain: ReceivedChain): void {
  const { input, ev } = b;
  const entryField = chain.entry === null ? null : chain.fields[chain.entry]!;
  const entryHop = chain.entry === null ? null : chain.hops[chain.entry]!;
  if (entryHop && entryField) {
    const entryIp = entryHop.fromIp ? normalizeIp(entryHop.fromIp) : null;
    if (ev.connectingIp === null && entryIp) {
      ev.connectingIp = observed(entryIp, refOf(input, entryField));
    }
    if (ev.helo === null && entryHop.helo) ev.helo = observed(entryHop.helo, refOf(input, entryField));
    if (entryHop.tls !== null) ev.tls = observed(entryHop.tls, refOf(input, entryField));
    const entryDate = receivedDate(entryHop.dateText);
    if (entryDate) ev.receivedAt = entryDate;
  }
  if (ev.receivedAt === null) ev.receivedAt = receivedDate(chain.hops[0]?.dateText ?? null);
}

/**
 * `for <addr>` of the Received lines Exchange Online wrote on receipt: hops at or above the entry hop whose `by`
 * host is Exchange Online's (lower hops were written before Exchange saw the message and can say anything).
 */
function readAttestedRecipients(b: Build, chain: ReceivedChain): void {
  if (chain.entry === null) return;
  const seen = new Set(b.ev.attestedRecipients.map((r) => r.value.address));
  for (let i = 0; i <= chain.entry; i++) {
    const hop = chain.hops[i]!;
    if (hop.for === null || !isExchangeOnlineHost(hop.by)) continue;
    const a = toMailAddress(hop.for);
    if (!a || a.domain === null || seen.has(a.address)) continue;
    seen.add(a.address);
    b.ev.attestedRecipients.push(observed(a, refOf(b.input, chain.fields[i]!, `for <${hop.for}>`)));
  }
}

/** The topmost Authentication-Results Exchange wrote for this delivery; the others are reported as ignored. */
function readAuthenticationResults(b: Build, trustedAbove: (f: HeaderField) => boolean): void {
  const { h, input, ev } = b;
  let taken = false;
  for (const f of h.all('authentication-results')) {
    const ar = parseAuthResults(f.value);
    if (!trustedAbove(f) || !isMicrosoftAuthservId(ar.authservId)) {
      ev.ignoredStamps.push({
        kind: 'auth-results',
        ref: refOf(input, f),
        reason: trustedAbove(f)
          ? `written by ${ar.authservId ?? 'an unknown host'}, not by Exchange Online`
          : 'added before the message reached Exchange Online (below the entry hop)',
      });
      continue;
    }
    if (taken) continue;
    taken = true;
    takeAuthenticationResults(ev.authentication, ar, (v) => refOf(input, f, v));
  }
}

function takeAuthenticationResults(
  a: AuthenticationEvidence,
  ar: ReturnType<typeof parseAuthResults>,
  ref: (value: string) => EvidenceRef,
): void {
  const spf = resultFor(ar, 'spf');
  const dkim = resultFor(ar, 'dkim');
  const dmarc = resultFor(ar, 'dmarc');
  const comp = resultFor(ar, 'compauth');
  if (spf) {
    a.spf = observed(spf.result, ref(`spf=${spf.result}`));
    const mf = spf.props['smtp.mailfrom'];
    if (mf) a.mailFromDomain = observed(mf.toLowerCase().split('@').pop() ?? mf, ref(`smtp.mailfrom=${mf}`));
  }
  if (dkim) {
    a.dkim = observed(dkim.result, ref(`dkim=${dkim.result}`));
    const d = dkim.props['header.d'];
    if (d) a.dkimDomain = observed(d.toLowerCase(), ref(`header.d=${d}`));
  }
  if (dmarc) {
    a.dmarc = observed(dmarc.result, ref(`dmarc=${dmarc.result}`));
    const act = dmarc.props.action;
    if (act) a.dmarcAction = observed(act.toLowerCase(), ref(`action=${act}`));
    const hf = dmarc.props['header.from'];
    if (hf) a.headerFromDomain = observed(hf.toLowerCase(), ref(`header.from=${hf}`));
  }
  if (comp) {
    a.compauth = observed(comp.result, ref(`compauth=${comp.result}`));
    const reason = comp.props.reason;
    if (reason) a.compauthReason = observed(reason, ref(`reason=${reason}`));
  }
}

/** Microsoft's own ARC verdict (what it concluded about a forwarded / list message). */
function readArcVerdict(b: Build, trustedAbove: (f: HeaderField) => boolean): void {
  for (const f of b.h.all('arc-authentication-results')) {
    const ar = parseAuthResults(f.value, true);
    if (ar.authservId !== 'mx.microsoft.com' || !trustedAbove(f)) continue;
    const arc = resultFor(ar, 'arc');
    if (arc) b.ev.arc = observed(arc.result, refOf(b.input, f, `arc=${arc.result}`));
    break;
  }
}

/**
 * Received-SPF written by Exchange (above the entry hop): the SPF result when Authentication-Results is missing,
 * and the connecting IP / HELO when the antispam report is.
 */
function readReceivedSpf(b: Build, trustedAbove: (f: HeaderField) => boolean): void {
  const { h, input, ev } = b;
  for (const f of h.all('received-spf')) {
    if (!trustedAbove(f)) continue;
    const spf = parseReceivedSpf(f.value);
    if (!spf || !(spf.comment ?? '').toLowerCase().startsWith('protection.outlook.com')) continue;
    if (ev.authentication.spf === null)
      ev.authentication.spf = observed(spf.result, refOf(input, f, `Received-SPF: ${spf.result}`));
    const ip = spf.params['client-ip'] ? normalizeIp(spf.params['client-ip']) : null;
    if (ev.connectingIp === null && ip) ev.connectingIp = observed(ip, refOf(input, f, `client-ip=${ip}`));
    const heloParam = spf.params.helo;
    if (ev.helo === null && heloParam) ev.helo = observed(heloParam, refOf(input, f, `helo=${heloParam}`));
    break;
  }
}

/**
 * Hybrid: a message Exchange Online relayed to on-premises Exchange carries the cloud's verdicts as
 * X-MS-Exchange-CrossPremises-* (promoted by the on-premises organisation). Use them when the organisation stamps
 * are the on-premises server's own or missing.
 */
function readCrossPremises(b: Build): void {
  const { h, input, ev } = b;
  const premises = (name: string) => observedField(b, h.first(`x-ms-exchange-crosspremises-${name}`));
  const premisesAuthAs = premises('authas');
  if (premisesAuthAs && (ev.exchange.authAs === null || ev.exchange.authAs.value.toLowerCase() === 'internal')) {
    ev.exchange.authAs = premisesAuthAs;
  }
  const premisesIp = h.first('x-ms-exchange-crosspremises-originalclientipaddress');
  if (premisesIp && ev.connectingIp === null) {
    const ip = normalizeIp(premisesIp.value);
    if (ip) ev.connectingIp = observed(ip, refOf(input, premisesIp));
  }
  const scan = h.first('x-ms-exchange-crosspremises-antispam-scancontext');
  if (scan && ev.exchange.directionality === null) {
    const dir = /DIR:(\w+)/i.exec(scan.value)?.[1];
    if (dir) ev.exchange.directionality = observed(dir, refOf(input, scan, `DIR:${dir}`));
  }
  if (ev.antispam.scl === null) {
    const s = premises('scl');
    if (s) ev.antispam.scl = s;
  }
}

function readBulkComplaintLevel(b: Build): void {
  const msAntispam = b.h.first('x-microsoft-antispam');
  if (!msAntispam) return;
  const bcl = parseAntispamFields(msAntispam.value).get('BCL');
  if (bcl !== undefined) b.ev.extra.bcl = bcl;
}

/** P1: the Return-Path Exchange wrote at delivery, else smtp.mailfrom. */
function readEnvelopeSender(b: Build): void {
  const { h, input, ev } = b;
  const returnPath = h.first('return-path');
  if (returnPath) {
    const a = toMailAddress(returnPath.value);
    if (a) ev.envelopeFrom = observed(a, refOf(input, returnPath));
  }
  if (ev.envelopeFrom === null && ev.authentication.mailFromDomain) {
    const d = ev.authentication.mailFromDomain;
    ev.envelopeFrom = observed({ address: `@${d.value}`, domain: d.value }, d.ref);
  }
}
