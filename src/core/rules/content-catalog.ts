/**
 * Finding codes of content analysis (DS407–DS424): 2-D codes, PDFs, archives, URLs, HTML attachments,
 * lure language, and what the sandbox and the work budgets kept from being inspected. Rules in content.ts; the term lists they use are exported there and listed in
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
  {
    code: 'DS420',
    title: 'Content partly inspected: decoder stopped at the deadline',
    severity: 'info',
    weight: 0,
    meaning:
      'Decoding an attachment (a PDF, an image, an Outlook .msg) ran past the sandbox deadline (15 s) and its worker was terminated. The work budgets that decide results are counted in bytes, pages and operators and fire first on every hostile file known; the deadline is the last line of defence, so this result is partial and, unlike every other result, may differ between runs on a loaded machine.',
    evidence: 'The attachment and the deadline.',
    action: 'Inspect the attachment by hand (in a disposable environment); report the file to the dsguard maintainers.',
  },
  {
    code: 'DS421',
    title: 'Content partly inspected: decoder ran out of memory',
    severity: 'info',
    weight: 0,
    meaning:
      'The sandbox worker decoding an attachment exceeded its heap limit (512 MiB) or died, and was replaced. The rest of the message was analysed; this attachment was not.',
    evidence: 'The attachment and what stopped the decoder.',
    action: 'Inspect the attachment by hand (in a disposable environment); report the file to the dsguard maintainers.',
  },
  {
    code: 'DS422',
    title: 'Content partly inspected: decoding budget reached',
    severity: 'info',
    weight: 0,
    meaning:
      'A PDF or an image was not (fully) handed to its decoder because decoding it would pass a work budget: bytes decoded from its streams, content operators a page expands to through nested forms, form nesting depth, image pixels; or the PDF is encrypted, so its streams cannot be measured before decoding. Budgets count work, so the same file is cut at the same place on any machine.',
    evidence: 'The attachment and the budget it reached.',
    action: 'Inspect the skipped part by hand if the rest of the message is suspicious.',
  },
  {
    code: 'DS423',
    title: 'Decompression bomb in an image or PDF',
    severity: 'medium',
    weight: 10,
    meaning:
      'An image whose compressed data inflates past the size its own header declares (a PNG that says 100x100 but inflates to 900 MB), or a PDF stream that inflates more than a hundredfold past the decoding budget: built to exhaust the memory of scanners. It was not decoded.',
    evidence: 'The attachment, the declared size and the budget.',
    action: 'Do not open it; treat the message as an attack on your mail filters.',
    intent: true,
  },
  {
    code: 'DS424',
    title: 'Archive entry with an unsafe path',
    severity: 'medium',
    weight: 10,
    meaning:
      'An archive entry is named with an absolute path or `..` segments ("zip slip"): extracted by a careless tool it lands outside the target folder. No legitimate sender needs such names; they are also used to hide the entries that follow from scanners that stop at the first bad name.',
    evidence: 'ZIP central directory entry name.',
    action: 'Do not extract it; block the sender.',
    intent: true,
  },
  {
    code: 'DS440',
    title: 'QR code drawn as an HTML table',
    severity: 'high',
    weight: 15,
    meaning:
      'The message draws a QR code as an HTML table, one cell a module with dark cells coloured by bgcolor or a background style. Campaigns draw QR codes this way because mail filters decode images; a code drawn without an image is itself a strong lure signal. The URL in it is reported as a 2-D code URL (DS407) and goes through the same URL checks.',
    evidence: 'The decoded URL and the part, with the size of the grid.',
    action:
      'Do not scan it. Block the URL / domain in the code and purge the campaign; tell users that internal notices never ask them to scan a code.',
    intent: true,
  },
  {
    code: 'DS441',
    title: 'QR code drawn in inline SVG',
    severity: 'high',
    weight: 15,
    meaning:
      'The message draws a QR code as inline SVG: axis-aligned rect elements or simple M/H/V/L/Z paths, filled or stroked. Campaigns draw QR codes this way because mail filters decode images; a code drawn without an image is itself a strong lure signal. The URL in it is reported as a 2-D code URL (DS407) and goes through the same URL checks.',
    evidence: 'The decoded URL and the part, with the size of the grid.',
    action:
      'Do not scan it. Block the URL / domain in the code and purge the campaign; tell users that internal notices never ask them to scan a code.',
    intent: true,
  },
  {
    code: 'DS442',
    title: 'QR code drawn with block characters',
    severity: 'high',
    weight: 15,
    meaning:
      'The message draws a QR code as lines of text: Unicode block characters (full, upper-half and lower-half blocks) or # and spaces. Campaigns draw QR codes this way because mail filters decode images; a code drawn without an image is itself a strong lure signal. The URL in it is reported as a 2-D code URL (DS407) and goes through the same URL checks.',
    evidence: 'The decoded URL and the part, with the size of the grid.',
    action:
      'Do not scan it. Block the URL / domain in the code and purge the campaign; tell users that internal notices never ask them to scan a code.',
    intent: true,
  },
  {
    code: 'DS443',
    title: 'QR code drawn with CSS boxes',
    severity: 'high',
    weight: 15,
    meaning:
      'The message draws a QR code with CSS boxes: a display: grid container, a wrapping flex container or rows of display: flex boxes, each box a module coloured by an inline style or a style-sheet rule. Campaigns draw QR codes this way because mail filters decode images; a code drawn without an image is itself a strong lure signal. The URL in it is reported as a 2-D code URL (DS407) and goes through the same URL checks.',
    evidence: 'The decoded URL and the part, with the size of the grid.',
    action:
      'Do not scan it. Block the URL / domain in the code and purge the campaign; tell users that internal notices never ask them to scan a code.',
    intent: true,
  },
  {
    code: 'DS444',
    title: 'QR code drawn with vector paths in a PDF',
    severity: 'high',
    weight: 15,
    meaning:
      'A PDF page with no image draws a QR code as filled rectangles or axis-aligned paths. Campaigns draw QR codes this way because mail filters decode page images; a code drawn without an image is itself a strong lure signal. The URL in it is reported as a 2-D code URL (DS407) and goes through the same URL checks.',
    evidence: 'The decoded URL, the attachment and page, with the size of the grid.',
    action:
      'Do not scan it. Block the URL / domain in the code and purge the campaign; tell users that internal notices never ask them to scan a code.',
    intent: true,
  },
] as const satisfies readonly RuleInfo[];
