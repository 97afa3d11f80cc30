/**
 * Lure signals: the subjects and attachment names of Direct Send campaigns, and attachment types that have
 * no business in an internal notice. The term lists are data, documented in docs/findings.md.
 * Matching is on lower-cased text with plain substring / token tests (linear time).
 * @module
 */
import type { AttachmentEvidence, MessageEvidence } from '../evidence.js';
import type { Finding } from '../finding.js';
import { finding, refs } from './make-finding.js';

/** Subject lures seen in Direct Send campaigns (Varonis, Proofpoint write-ups; the seed). */
export const LURE_SUBJECT_TERMS = [
  'voicemail',
  'voice mail',
  'voice message',
  'vm message',
  'missed call',
  'missed fax',
  'new fax',
  'fax-msg',
  'fax message',
  'incoming fax',
  'caller left',
  'listen now',
  'play_vm',
  'payroll',
  'salary',
  'paystub',
  'pay stub',
  'direct deposit',
  'remittance',
  'payment advice',
  'invoice',
  'purchase order',
  'e-signature',
  'esignature',
  'docusign',
  'please sign',
  'review and sign',
  'password expir',
  'password reset',
  'mailbox full',
  'storage full',
  'quarantine',
  'shared a document',
  'shared a file',
  'secure message',
  'encrypted message',
  'benefits enrollment',
  'open enrollment',
  'w-2',
  'w2 form',
  '401k',
] as const;

export const LURE_ATTACHMENT_TERMS = [
  'fax-msg',
  'fax_msg',
  'caller left',
  'vm message',
  'play_vm',
  'play-vm',
  'listen',
  'voicemail',
  'voice_message',
  'audio_message',
  'payroll',
  'remittance',
  'invoice',
  'salary',
  'bonus',
  'rfq',
] as const;

/** Extensions that should not arrive in an internal notice. */
export const RISKY_EXTENSIONS = new Set([
  'htm',
  'html',
  'shtml',
  'xhtml',
  'svg',
  'svgz',
  'mht',
  'mhtml',
  'hta',
  'js',
  'jse',
  'vbs',
  'vbe',
  'wsf',
  'ps1',
  'bat',
  'cmd',
  'com',
  'exe',
  'scr',
  'msi',
  'dll',
  'lnk',
  'iso',
  'img',
  'vhd',
  'vhdx',
  'one',
  'jar',
  'url',
  'xll',
  'cpl',
]);

const DECOY_EXTENSIONS = new Set([
  'pdf',
  'doc',
  'docx',
  'xls',
  'xlsx',
  'jpg',
  'jpeg',
  'png',
  'txt',
  'mp3',
  'wav',
  'm4a',
  'msg',
  'eml',
]);

const RISKY_TYPES = [
  'text/html',
  'image/svg+xml',
  'application/xhtml+xml',
  'application/x-msdownload',
  'application/hta',
  'application/javascript',
];

function extensionsOf(name: string): string[] {
  const base = name
    .toLowerCase()
    .trim()
    .replace(/[\s.]+$/, '');
  const parts = base.split('.');
  return parts.length > 1 ? parts.slice(1) : [];
}

function lureTerm(text: string, terms: readonly string[]): string | null {
  const t = text.toLowerCase();
  for (const term of terms) if (t.includes(term)) return term;
  return null;
}

function attachmentFindings(a: AttachmentEvidence): Finding[] {
  const out: Finding[] = [];
  const name = a.name ?? '';
  const exts = extensionsOf(name);
  const last = exts[exts.length - 1] ?? '';
  const ct = a.contentType.toLowerCase();
  if (RISKY_EXTENSIONS.has(last) || RISKY_TYPES.includes(ct)) {
    out.push(finding('DS402', `Attachment ${name || '(unnamed)'} is ${last ? `.${last}` : ct}`, [a.ref]));
  }
  if (exts.length >= 2) {
    const prev = exts[exts.length - 2] ?? '';
    if (DECOY_EXTENSIONS.has(prev) && last !== prev && (RISKY_EXTENSIONS.has(last) || !DECOY_EXTENSIONS.has(last))) {
      out.push(finding('DS404', `Attachment ${name} hides .${last} behind .${prev}`, [a.ref]));
    }
  }
  const term = name ? lureTerm(name, LURE_ATTACHMENT_TERMS) : null;
  if (term) out.push(finding('DS403', `Attachment name ${name} matches lure "${term}"`, [{ ...a.ref, value: name }]));
  if (ct === 'application/pdf' || last === 'pdf') out.push(finding('DS405', `PDF attachment ${name}`, [a.ref]));
  return out;
}

export function lureFindings(ev: MessageEvidence): Finding[] {
  const out: Finding[] = [];
  if (ev.subject) {
    const term = lureTerm(ev.subject.value, LURE_SUBJECT_TERMS);
    if (term) out.push(finding('DS401', `Subject matches lure "${term}"`, refs(ev.subject)));
  }
  const seen = new Set<string>();
  for (const a of ev.attachments) {
    for (const f of attachmentFindings(a)) {
      // One finding per code per attachment name keeps reports short on 10,000-part messages.
      const key = `${f.code}|${a.name ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(f);
    }
    if (out.length > 200) break;
  }
  if (
    !ev.contentInspected &&
    (ev.sourceKind === 'eml' || ev.sourceKind === 'msg' || ev.sourceKind === 'mbox' || ev.sourceKind === 'headers')
  ) {
    out.push(finding('DS406', 'Only headers were read: attachment signals skipped', []));
  }
  return out;
}
