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
import type { HopEvidence, MailAddress, MessageEvidence, SourceKind } from '../evidence.js';
import { emptyEvidence } from '../evidence.js';
import { boundValue, type EvidenceRef } from '../finding.js';
import { normalizeIp } from '../net-address.js';
import { type Observed, observed } from '../observed.js';
import { isMicrosoftAuthservId, parseAuthResults, resultFor } from './auth-results.js';
import { parseAntispamFields } from './forefront.js';
import type { HeaderField } from './header-block.js';
import { HeaderIndex } from './header-block.js';
import { isExchangeOnlineHost, parseReceived, type ReceivedHop, receivedDate } from './received.js';
import { parseReceivedSpf } from './received-spf.js';

const MAX_HOPS = 100;
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

export function evidenceFromHeaders(fields: readonly HeaderField[], opts: HeaderEvidenceOptions): MessageEvidence {
  const { input } = opts;
  const h = new HeaderIndex(fields);
  const ev = emptyEvidence(input, opts.sourceKind);
  const ignored = ev.ignoredStamps;
  const obs = (f: HeaderField | null, value?: string): Observed<string> | null =>
    f ? observed(value ?? f.value, refOf(input, f, value)) : null;

  ev.client.headerOrder = fields.slice(0, 40).map((f) => f.key);

  // Identity headers (P2, recipients, subject).
  const fromFields = h.all('from');
  const firstFrom = fromFields[0];
  if (firstFrom) ev.headerFrom = addressesOf(input, firstFrom)[0] ?? null;
  if (fromFields.length > 1) ev.extra.multipleFrom = String(fromFields.length);
  for (const name of ['to', 'cc']) for (const f of h.all(name)) ev.recipients.push(...addressesOf(input, f));
  for (const name of ['delivered-to', 'x-original-to', 'x-ms-exchange-organization-originalenveloperecipients']) {
    for (const f of h.all(name)) ev.envelopeRecipients.push(...addressesOf(input, f));
  }
  const subject = h.first('subject');
  if (subject) ev.subject = observed(decoded(subject.value), refOf(input, subject, decoded(subject.value)));
  const messageId = h.first('message-id');
  if (messageId) {
    ev.messageId = boundValue(messageId.value, 256);
    ev.client.messageIdHeader = obs(messageId);
  }
  const replyTo = h.first('reply-to');
  if (replyTo) {
    const a = addressesOf(input, replyTo)[0];
    if (a) ev.extra.replyTo = a.value.address;
  }

  // Client fingerprints.
  ev.client.xMailer = obs(h.first('x-mailer'));
  ev.client.userAgent = obs(h.first('user-agent'));
  ev.client.date = obs(h.first('date'));
  const contentType = h.first('content-type');
  if (contentType) {
    const b = /boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(contentType.value);
    const boundary = b?.[1] ?? b?.[2];
    if (boundary) ev.client.boundaries.push(observed(boundary, refOf(input, contentType, boundary)));
  }

  // Received chain.
  const received = h.all('received').slice(0, MAX_HOPS);
  if (h.all('received').length > MAX_HOPS) ev.notes.push(`only the first ${MAX_HOPS} Received headers were read`);
  // Dates are converted only where a fact needs them (entry and topmost hop): see below.
  const hops = received.map((f) => parseReceived(f.value, { date: false }));
  ev.hops = hops.map(
    (hop, i): HopEvidence => ({
      fromHost: hop.fromRdns ?? hop.from,
      fromIp: hop.fromIp,
      helo: hop.helo,
      byHost: hop.by,
      withProtocol: hop.with,
      tls: hop.tls,
      date: hop.dateText,
      ref: refOf(input, received[i]!),
    }),
  );
  const entry = findEntryHop(received, hops);
  const entryField = entry === null ? null : received[entry]!;
  const entryHop = entry === null ? null : hops[entry]!;
  const trustedAbove = (f: HeaderField) => entryField === null || f.index < entryField.index;

  // Receiving tenant and its stamps.
  const attributed = h.first('x-eoptenantattributedmessage');
  const receivingTenant = attributed ? tenantFrom(attributed.value) : null;
  if (attributed && receivingTenant) ev.receivingTenantId = observed(receivingTenant, refOf(input, attributed));

  const org = (name: string) => obs(h.first(`x-ms-exchange-organization-${name}`));
  ev.exchange.authAs = org('authas');
  ev.exchange.authMechanism = org('authmechanism');
  ev.exchange.directionality = org('messagedirectionality');
  ev.exchange.anonymousDirectSend = org('isanonymousdirectsend');
  const networkId = h.first('x-ms-exchange-organization-network-message-id');
  if (networkId) ev.networkMessageId = networkId.value.toLowerCase();
  const orgScl = h.first('x-ms-exchange-organization-scl');

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
  const cross = (name: string) => obs(h.first(`x-ms-exchange-crosstenant-${name}`));
  if (crossTrusted) {
    ev.exchange.fromEntityHeader = cross('fromentityheader');
    ev.exchange.crossTenantAuthAs = cross('authas');
    ev.exchange.attributedConnectingIp = cross('originalattributedtenantconnectingip');
    if (!ev.networkMessageId) {
      const nm = h.first('x-ms-exchange-crosstenant-network-message-id');
      if (nm) ev.networkMessageId = nm.value.toLowerCase();
    }
  } else if (crossTenantId) {
    ignored.push({
      kind: 'cross-tenant',
      ref: refOf(input, crossTenantId),
      reason: ev.receivingTenantId
        ? 'cross-tenant stamps belong to another tenant (the sender)'
        : 'no receiving tenant stamp to pair the cross-tenant stamps with',
    });
  }

  // Antispam report: the receiving tenant's, never -Untrusted, never a DIR:OUT (sender-side) stamp.
  for (const f of h.all('x-forefront-antispam-report')) {
    const fields2 = parseAntispamFields(f.value);
    const dir = fields2.get('DIR');
    if (dir === 'OUT') {
      ignored.push({ kind: 'antispam', ref: refOf(input, f), reason: 'DIR:OUT is the sending side stamp' });
      continue;
    }
    const pick = (k: string) => {
      const v = fields2.get(k);
      return v === undefined ? null : observed(v, refOf(input, f, `${k}:${v}`));
    };
    ev.antispam = {
      cat: pick('CAT'),
      sfty: pick('SFTY'),
      scl: pick('SCL'),
      dir: pick('DIR'),
      sfv: pick('SFV'),
      ctry: pick('CTRY'),
      ipv: pick('IPV'),
    };
    const cip = fields2.get('CIP');
    const cipIp = cip ? normalizeIp(cip) : null;
    if (cip && cipIp) ev.connectingIp = observed(cipIp, refOf(input, f, `CIP:${cip}`));
    const helo = fields2.get('H');
    if (helo) ev.helo = observed(helo, refOf(input, f, `H:${helo}`));
    break;
  }
  if (ev.antispam.scl === null && orgScl) ev.antispam.scl = obs(orgScl);

  // Entry hop: connecting IP / HELO / TLS when the antispam stamp did not say.
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
  if (ev.receivedAt === null) ev.receivedAt = receivedDate(hops[0]?.dateText ?? null);

  // Authentication-Results written by Exchange for this delivery.
  let authTaken = false;
  for (const f of h.all('authentication-results')) {
    const ar = parseAuthResults(f.value);
    if (!trustedAbove(f) || !isMicrosoftAuthservId(ar.authservId)) {
      ignored.push({
        kind: 'auth-results',
        ref: refOf(input, f),
        reason: trustedAbove(f)
          ? `written by ${ar.authservId ?? 'an unknown host'}, not by Exchange Online`
          : 'added before the message reached Exchange Online (below the entry hop)',
      });
      continue;
    }
    if (authTaken) continue;
    authTaken = true;
    const a = ev.authentication;
    const spf = resultFor(ar, 'spf');
    const dkim = resultFor(ar, 'dkim');
    const dmarc = resultFor(ar, 'dmarc');
    const comp = resultFor(ar, 'compauth');
    const ref = (v: string) => refOf(input, f, v);
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

  // Microsoft's own ARC verdict (what it concluded about a forwarded/list message).
  for (const f of h.all('arc-authentication-results')) {
    const ar = parseAuthResults(f.value, true);
    if (ar.authservId !== 'mx.microsoft.com' || !trustedAbove(f)) continue;
    const arc = resultFor(ar, 'arc');
    if (arc) ev.arc = observed(arc.result, refOf(input, f, `arc=${arc.result}`));
    break;
  }

  // Received-SPF written by Exchange (above the entry hop): the SPF result when Authentication-Results
  // is missing, and the connecting IP / HELO when the antispam report is.
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

  // Hybrid: a message Exchange Online relayed to on-premises Exchange carries the cloud's verdicts as
  // X-MS-Exchange-CrossPremises-* (promoted by the on-premises organisation). Use them when the
  // organisation stamps are the on-premises server's own or missing.
  const premises = (name: string) => obs(h.first(`x-ms-exchange-crosspremises-${name}`));
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

  const msAntispam = h.first('x-microsoft-antispam');
  if (msAntispam) {
    const bcl = parseAntispamFields(msAntispam.value).get('BCL');
    if (bcl !== undefined) ev.extra.bcl = bcl;
  }

  // P1: the Return-Path Exchange wrote at delivery, else smtp.mailfrom.
  const returnPath = h.first('return-path');
  if (returnPath) {
    const a = toMailAddress(returnPath.value);
    if (a) ev.envelopeFrom = observed(a, refOf(input, returnPath));
  }
  if (ev.envelopeFrom === null && ev.authentication.mailFromDomain) {
    const d = ev.authentication.mailFromDomain;
    ev.envelopeFrom = observed({ address: `@${d.value}`, domain: d.value }, d.ref);
  }

  const list = h.first('list-id') ?? h.first('list-post');
  if (list) ev.mailingList = obs(list);

  return ev;
}
