/**
 * Finding codes of content analysis (DS407–DS419): 2-D codes, PDFs, archives, URLs, HTML attachments and
 * lure language. Rules in content.ts; the term lists they use are exported there and listed in
 * docs/content.md.
 * @module
 */
import type { RuleInfo } from './rule-info.js';

export const CONTENT_RULES = [
  {
    code: 'DS407',
    title: 'QR / 2-D code leads to a URL',
    severity: 'high',
    weight: 20,
    meaning:
      'An image attachment, an inline image, a PDF page or an HTML table in the message carries a QR (or other 2-D) code that encodes a URL. "Quishing" moves the link to a phone, out of reach of the URL scanning and Safe Links of the mailbox. Exchange reports these as EmailUrlInfo UrlLocation QRCode.',
    evidence: 'The decoded URL, the code format and where it was found (part, file name, PDF page).',
    action:
      'Do not scan it. Block the URL / domain, purge the campaign, and tell users that internal notices never ask them to scan a code.',
    intent: true,
  },
  {
    code: 'DS408',
    title: 'PDF that is only a picture with a QR code',
    severity: 'high',
    weight: 20,
    meaning:
      'A PDF of one or two pages with next to no text whose content is an image carrying a 2-D code: the shape of the fake voicemail / fax / payroll notices sent through Direct Send, built so that text scanners find nothing.',
    evidence: 'PDF page count, text characters, images and decoded codes (from pdfjs).',
    action: 'Treat as a phishing lure; block the URL in the code.',
    intent: true,
  },
  {
    code: 'DS409',
    title: 'Image-only PDF',
    severity: 'low',
    weight: 5,
    meaning:
      'A short PDF with no text at all, only images. Scanners produce these legitimately; lures use them to hide their wording from text scanning.',
    evidence: 'PDF page count, text characters and images.',
    action: 'Part of the picture; expected from known scanners (give them a connector).',
  },
  {
    code: 'DS410',
    title: 'Password-protected archive',
    severity: 'high',
    weight: 20,
    meaning:
      'An archive whose members are encrypted, so that mail filters cannot look inside; the password is usually in the message body.',
    evidence: 'ZIP central directory: encryption flag per entry.',
    action: 'Do not open it; block encrypted archives from anonymous senders.',
    intent: true,
    vetoesLegitimate: true,
  },
  {
    code: 'DS411',
    title: 'Risky file inside an archive',
    severity: 'high',
    weight: 20,
    meaning:
      'An archive contains an executable, script, HTML/SVG page, disk image or a file with a double extension (invoice.pdf.exe).',
    evidence: 'ZIP central directory entry name.',
    action: 'Do not open it; block the file type in anti-malware policy.',
    intent: true,
    vetoesLegitimate: true,
  },
  {
    code: 'DS412',
    title: 'Decompression bomb',
    severity: 'high',
    weight: 15,
    meaning:
      'An archive declares an extreme compression ratio, an enormous uncompressed size or an abnormal number of entries: built to exhaust scanners.',
    evidence: 'ZIP central directory sizes and entry count (never extracted).',
    action: 'Do not open it; block the sender.',
    intent: true,
    vetoesLegitimate: true,
  },
  {
    code: 'DS413',
    title: 'Lookalike Microsoft sign-in URL',
    severity: 'high',
    weight: 25,
    meaning:
      'A URL whose host name dresses up as Microsoft (microsoft, office365, outlook, sharepoint, onedrive, ... also with digit-for-letter swaps such as micros0ft) but is not a Microsoft domain: the credential-harvesting page of the campaign.',
    evidence: 'The URL and where it was found (body, HTML, PDF, QR code, attachment).',
    action: 'Block the domain; reset the password and revoke sessions of anyone who entered credentials.',
    intent: true,
    vetoesLegitimate: true,
  },
  {
    code: 'DS414',
    title: 'Open redirect URL',
    severity: 'medium',
    weight: 10,
    meaning:
      'A URL on one site that carries another site’s URL in its query: redirectors on trusted domains are used to get a phishing link past reputation filters.',
    evidence: 'The URL and the embedded destination.',
    action: 'Check the destination; block it if it is a phishing page.',
    intent: true,
  },
  {
    code: 'DS415',
    title: 'URL with a public IP address as host',
    severity: 'medium',
    weight: 10,
    meaning:
      'A link to a bare public IP address: legitimate services use names; throwaway phishing servers often do not.',
    evidence: 'The URL.',
    action: 'Block the address.',
    intent: true,
  },
  {
    code: 'DS416',
    title: 'Domain not seen before',
    severity: 'low',
    weight: 5,
    meaning: 'A linked domain that does not appear in the store’s earlier messages for this tenant.',
    evidence: 'The URL and its domain.',
    action: 'Part of the picture.',
  },
  {
    code: 'DS417',
    title: 'Lure language in the body',
    severity: 'medium',
    weight: 15,
    meaning:
      'The body uses the wording of the Direct Send lures (voicemail, fax, missed call, payroll update, e-signature, password expiry, "scan the QR code"). The phrase list is in docs/content.md.',
    evidence: 'The matched phrase in the body text.',
    action: 'Part of the picture.',
    intent: true,
  },
  {
    code: 'DS418',
    title: 'HTML attachment that harvests or redirects',
    severity: 'high',
    weight: 25,
    meaning:
      'An HTML or SVG attachment contains a password form, script that sends the browser elsewhere, a meta refresh, or script that decodes a hidden payload: a local phishing page.',
    evidence: 'The attachment and the traits found in it (form action, redirect, decoding).',
    action: 'Do not open it; block HTML/SVG attachments from anonymous senders.',
    intent: true,
    vetoesLegitimate: true,
  },
  {
    code: 'DS419',
    title: 'Content only partly inspected',
    severity: 'info',
    weight: 0,
    meaning:
      'Part of the content was not looked at: a limit (pages, images, time, size, nesting) was reached, or a file was corrupt or password protected. Absence of other content findings is not a clean bill.',
    evidence: 'Which part and which limit.',
    action: 'Inspect the skipped part by hand if the rest of the message is suspicious.',
  },
] as const satisfies readonly RuleInfo[];
