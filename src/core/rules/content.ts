/**
 * Content rules (DS407–DS419), pure over the facts a content analyser put into the evidence: decoded 2-D
 * codes, PDF structure, archive listings, HTML traits, URLs and body text. The term and domain lists are data,
 * exported for docs/content.md. Matching is plain substring / token tests on bounded text (linear time).
 * @module
 */

import { isSameOrSubdomain } from '../domain-name.js';
import type { AttachmentEvidence, DrawnTechnique, MessageEvidence, UrlEvidence } from '../evidence.js';
import type { EvidenceRef, Finding } from '../finding.js';
import { ipKind, parseIp } from '../net-address.js';
import { RISKY_EXTENSIONS } from './lure.js';
import { finding } from './make-finding.js';

/** Phrases of the Direct Send lures, by theme (seed write-up; Varonis and Proofpoint campaign descriptions). */
export const LURE_BODY_PHRASES = [
  { theme: 'voicemail', phrase: 'new voicemail' },
  { theme: 'voicemail', phrase: 'voice message' },
  { theme: 'voicemail', phrase: 'voicemail message' },
  { theme: 'voicemail', phrase: 'listen to the message' },
  { theme: 'voicemail', phrase: 'listen now' },
  { theme: 'voicemail', phrase: 'caller left' },
  { theme: 'voicemail', phrase: 'you have received a call' },
  { theme: 'missed call', phrase: 'missed call' },
  { theme: 'fax', phrase: 'new fax' },
  { theme: 'fax', phrase: 'fax received' },
  { theme: 'fax', phrase: 'incoming fax' },
  { theme: 'fax', phrase: 'fax message' },
  { theme: 'payroll', phrase: 'payroll update' },
  { theme: 'payroll', phrase: 'salary adjustment' },
  { theme: 'payroll', phrase: 'salary increase' },
  { theme: 'payroll', phrase: 'direct deposit' },
  { theme: 'payroll', phrase: 'payment remittance' },
  { theme: 'e-signature', phrase: 'review and sign' },
  { theme: 'e-signature', phrase: 'sign the document' },
  { theme: 'e-signature', phrase: 'awaiting your signature' },
  { theme: 'e-signature', phrase: 'e-signature' },
  { theme: 'password expiry', phrase: 'password will expire' },
  { theme: 'password expiry', phrase: 'password expires' },
  { theme: 'password expiry', phrase: 'password has expired' },
  { theme: 'password expiry', phrase: 'keep your current password' },
  { theme: 'account', phrase: 'verify your account' },
  { theme: 'account', phrase: 'mailbox is full' },
  { theme: 'account', phrase: 'mailbox storage' },
  { theme: 'shared document', phrase: 'shared a document with you' },
  { theme: 'shared document', phrase: 'shared a file with you' },
  { theme: 'QR code', phrase: 'scan the qr code' },
  { theme: 'QR code', phrase: 'scan the code' },
  { theme: 'QR code', phrase: 'scan qr code' },
  { theme: 'QR code', phrase: 'with your phone camera' },
  { theme: 'QR code', phrase: 'scan with your phone' },
] as const;

/**
 * Brand words a lookalike sign-in host borrows. Matched against the host's labels split on `.` and `-`,
 * after undoing digit-for-letter swaps (0→o, 1→l, 3→e, 5→s) and `rn`→`m`.
 */
export const MICROSOFT_BRAND_TOKENS = [
  'microsoft',
  'microsoftonline',
  'msonline',
  'office',
  'office365',
  'o365',
  'm365',
  'microsoft365',
  'outlook',
  'sharepoint',
  'onedrive',
  'hotmail',
  'msft',
  'azuread',
  'entra',
] as const;

/** Domains whose host names Microsoft controls (customer-named platforms such as azurewebsites.net are not here). */
export const MICROSOFT_DOMAINS = [
  'microsoft.com',
  'microsoftonline.com',
  'office.com',
  'office365.com',
  'office.net',
  'outlook.com',
  'live.com',
  'hotmail.com',
  'sharepoint.com',
  'onedrive.com',
  'microsoft365.com',
  'cloud.microsoft',
  'msauth.net',
  'msftauth.net',
  'msauthimages.net',
  'msocdn.com',
  'aka.ms',
  'windows.com',
  'msn.com',
  'skype.com',
  'bing.com',
  'microsoftstream.com',
  's-microsoft.com',
] as const;

const RISKY_INNER = RISKY_EXTENSIONS;
const DECOY = new Set(['pdf', 'doc', 'docx', 'xls', 'xlsx', 'jpg', 'jpeg', 'png', 'txt', 'mp3', 'wav', 'm4a']);

const MAX_PER_CODE = 10;

/** The finding each way of drawing a QR code without an image raises. */
const DRAWN_CODES: Record<DrawnTechnique, 'DS440' | 'DS441' | 'DS442' | 'DS443' | 'DS444'> = {
  'css-boxes': 'DS443',
  'pdf-vector': 'DS444',
  'html-table': 'DS440',
  svg: 'DS441',
  'text-blocks': 'DS442',
};
const DRAWN_HOW: Record<DrawnTechnique, string> = {
  'html-table': 'as an HTML table, not an image',
  svg: 'in inline SVG, not an image',
  'text-blocks': 'with block characters in text, not an image',
  'css-boxes': 'with CSS boxes, not an image',
  'pdf-vector': 'with vector paths in a PDF page, not an image',
};

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
}

/** Host name with common digit-for-letter swaps undone, for brand matching. */
export function brandSkeleton(host: string): string {
  return host.replace(/0/g, 'o').replace(/1/g, 'l').replace(/3/g, 'e').replace(/5/g, 's').replace(/rn/g, 'm');
}

export function isMicrosoftHost(host: string): boolean {
  return MICROSOFT_DOMAINS.some((d) => isSameOrSubdomain(host, d));
}

/** The brand token a non-Microsoft host borrows, or `null`. */
export function lookalikeBrand(host: string): string | null {
  if (isMicrosoftHost(host) || parseIp(host)) return null;
  const tokens = new Set(brandSkeleton(host).split(/[.-]/));
  for (const t of MICROSOFT_BRAND_TOKENS) if (tokens.has(t)) return t;
  return null;
}

/** The other site a redirector URL sends to, or `null`. */
export function redirectTarget(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const host = parsed.hostname.toLowerCase();
  for (const [, value] of parsed.searchParams) {
    const v = value.trim();
    if (!/^(https?:)?\/\/[^/]/i.test(v)) continue;
    const target = hostOf(v.startsWith('//') ? `https:${v}` : v);
    if (target && target !== host && !isSameOrSubdomain(target, host)) return v.slice(0, 2048);
  }
  return null;
}

function extensions(name: string): string[] {
  const parts = name
    .toLowerCase()
    .trim()
    .replace(/[\s.]+$/, '')
    .split('/')
    .pop()!
    .split('.');
  return parts.length > 1 ? parts.slice(1) : [];
}

function innerRisk(name: string): string | null {
  const exts = extensions(name);
  const last = exts[exts.length - 1] ?? '';
  const prev = exts[exts.length - 2] ?? '';
  if (prev && DECOY.has(prev) && last !== prev && !DECOY.has(last)) return `hides .${last} behind .${prev}`;
  if (RISKY_INNER.has(last)) return `is a .${last} file`;
  return null;
}

function normalizedBody(text: string): string {
  return text.toLowerCase().replace(/[\s\u00a0]+/g, ' ');
}

export interface ContentRuleOptions {
  /**
   * Whether a domain was seen before (from the store), `null` when unknown. Without it DS416 never fires.
   * Must be a pure lookup over data loaded before the rule runs.
   */
  isKnownDomain?: (domain: string) => boolean | null;
}

function pdfFindings(a: AttachmentEvidence): Finding[] {
  const pdf = a.inspection?.pdf;
  if (!pdf || pdf.error || pdf.encrypted) return [];
  const fewPages = pdf.pages > 0 && pdf.pages <= 2;
  const facts = `${pdf.pages} page(s), ${pdf.textChars} text characters, ${pdf.images} image(s), ${pdf.codes} code(s)`;
  const ref: EvidenceRef = { ...a.ref, value: `${a.name ?? '(unnamed)'}: ${facts}` };
  if (fewPages && pdf.images > 0 && pdf.codes > 0 && pdf.textChars < 200) {
    return [finding('DS408', `PDF ${a.name ?? '(unnamed)'} is a picture with a 2-D code (${facts})`, [ref])];
  }
  if (fewPages && pdf.images > 0 && pdf.textChars === 0) {
    return [finding('DS409', `PDF ${a.name ?? '(unnamed)'} holds only images (${facts})`, [ref])];
  }
  return [];
}

function archiveFindings(a: AttachmentEvidence): Finding[] {
  const arc = a.inspection?.archive;
  if (!arc) return [];
  const out: Finding[] = [];
  const name = a.name ?? '(unnamed)';
  if (arc.encryptedEntries > 0) {
    const first = arc.entries.find((e) => e.encrypted);
    out.push(
      finding('DS410', `Archive ${name} is password protected (${arc.encryptedEntries} encrypted entries)`, [
        { ...a.ref, value: `${name}: ${first?.name ?? ''} encrypted` },
      ]),
    );
  }
  let risky = 0;
  for (const e of arc.entries) {
    const why = innerRisk(e.name);
    if (!why) continue;
    if (++risky > MAX_PER_CODE) break;
    out.push(
      finding('DS411', `Archive ${name} holds ${e.name}, which ${why}`, [
        { ...a.ref, field: 'archive entry', value: e.name, location: `${a.ref.location ?? ''} ${name}`.trim() },
      ]),
    );
  }
  let unsafe = 0;
  for (const e of arc.entries) {
    if (!e.unsafePath || ++unsafe > MAX_PER_CODE) continue;
    out.push(
      finding('DS424', `Archive ${name} names an entry ${e.name} that lands outside the folder it is extracted to`, [
        { ...a.ref, field: 'archive entry', value: e.name, location: `${a.ref.location ?? ''} ${name}`.trim() },
      ]),
    );
  }
  if (arc.bomb)
    out.push(finding('DS412', `Archive ${name} ${arc.bomb}`, [{ ...a.ref, value: `${name}: ${arc.bomb}` }]));
  return out;
}

function htmlFindings(a: AttachmentEvidence): Finding[] {
  const html = a.inspection?.html;
  if (!html) return [];
  const traits: string[] = [];
  if (html.passwordField) traits.push('a password field');
  if (html.formAction && /^https?:/i.test(html.formAction)) traits.push(`a form posting to ${html.formAction}`);
  if (html.scriptRedirect) traits.push('script that redirects the browser');
  if (html.metaRefresh) traits.push('a meta refresh');
  if (html.decodesPayload) traits.push('script that decodes a hidden payload');
  if (traits.length === 0) return [];
  return [
    finding('DS418', `HTML attachment ${a.name ?? '(unnamed)'} has ${traits.join(', ')}`, [
      { ...a.ref, value: `${a.name ?? '(unnamed)'}: ${traits.join('; ')}` },
    ]),
  ];
}

function urlFindings(urls: readonly UrlEvidence[], opts: ContentRuleOptions): Finding[] {
  const out: Finding[] = [];
  const count: Record<string, number> = {};
  const add = (f: Finding) => {
    count[f.code] = (count[f.code] ?? 0) + 1;
    if ((count[f.code] ?? 0) <= MAX_PER_CODE) out.push(f);
  };
  const seenQr = new Set<string>();
  for (const u of urls) {
    const host = hostOf(u.url);
    if (u.location === 'qr-code' && !seenQr.has(u.url)) {
      seenQr.add(u.url);
      add(finding('DS407', `A 2-D code leads to ${u.url}`, [u.ref]));
      if (u.drawn) {
        const code = DRAWN_CODES[u.drawn];
        add(finding(code, `A QR code leading to ${u.url} is drawn ${DRAWN_HOW[u.drawn]}`, [u.ref]));
      }
    }
    if (!host) continue;
    const brand = lookalikeBrand(host);
    if (brand)
      add(finding('DS413', `${host} borrows "${brand}" but is not a Microsoft domain (${u.location})`, [u.ref]));
    const target = redirectTarget(u.url);
    if (target) add(finding('DS414', `${host} redirects to ${target} (${u.location})`, [u.ref]));
    if (parseIp(host) && ipKind(host) === 'public')
      add(finding('DS415', `Link to the bare address ${host} (${u.location})`, [u.ref]));
    if (opts.isKnownDomain && !isMicrosoftHost(host) && !parseIp(host) && opts.isKnownDomain(host) === false) {
      add(finding('DS416', `${host} has not been seen before (${u.location})`, [u.ref]));
    }
  }
  return out;
}

function bodyLureFinding(ev: MessageEvidence): Finding | null {
  const body = ev.content?.bodyText;
  if (!body) return null;
  const text = normalizedBody(body.value);
  const matched: string[] = [];
  for (const { phrase } of LURE_BODY_PHRASES) if (text.includes(phrase) && matched.length < 5) matched.push(phrase);
  if (matched.length === 0) return null;
  return finding('DS417', `Body uses lure wording: "${matched.join('", "')}"`, [
    { ...body.ref, value: matched.join(' | ') },
  ]);
}

/** Content findings for one message. Pure. */
export function contentFindings(ev: MessageEvidence, opts: ContentRuleOptions = {}): Finding[] {
  const out: Finding[] = [];
  for (const a of ev.attachments) {
    if (!a.inspection) continue;
    out.push(...pdfFindings(a), ...archiveFindings(a), ...htmlFindings(a));
    if (out.length > 200) break;
  }
  out.push(...urlFindings(ev.urls, opts));
  const lure = bodyLureFinding(ev);
  if (lure) out.push(lure);
  const all = ev.content?.gaps ?? [];
  // One finding per kind of gap: plain limits (DS419), the sandbox's deadline (DS420) and memory limit (DS421),
  // work budgets (DS422), decompression bombs (DS423).
  for (const code of ['DS419', 'DS420', 'DS421', 'DS422', 'DS423'] as const) {
    const gaps = all.filter((g) => (g.code ?? 'DS419') === code);
    if (gaps.length === 0) continue;
    const lead = code === 'DS423' ? 'Decompression bomb' : 'Content only partly inspected';
    out.push(
      finding(
        code,
        `${lead}: ${gaps[0]!.what}${gaps.length > 1 ? ` (+${gaps.length - 1} more)` : ''}`,
        gaps.slice(0, 5).map((g) => ({ ...g.ref, value: g.what })),
      ),
    );
  }
  return out;
}

/** The content rule family as a MessageRule for `assess(ev, { extraRules })`. */
export function createContentRule(opts: ContentRuleOptions = {}): (ev: MessageEvidence) => Finding[] {
  return (ev) => contentFindings(ev, opts);
}
