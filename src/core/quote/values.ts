/**
 * What may go into an emitted command. Every value dsguard prints inside a PowerShell or POSIX shell command
 * passes one of these checks first; a value that fails is withheld (shown as `<withheld: reason>`, which no
 * shell runs) instead of being cleaned up into something the admin did not see in the data.
 *
 * The checks are deliberately narrower than what the shells could quote: plain printable ASCII only, so that
 * what the admin reads is exactly what the shell receives (no look-alike letters, no bidi controls, no
 * typographic quotes that PowerShell treats as quotes).
 * @module
 */

/** The kinds of value a command can carry. */
export type ValueKind =
  | 'domain' // an SMTP domain: LDH labels, at least two
  | 'domain-pattern' // a domain or `*.domain` (SenderDomains, TlsSenderCertificateName)
  | 'address' // dot-atom local part @ domain
  | 'ipv4' // dotted quad
  | 'ipv4-range' // dotted quad or CIDR /24../32 (what SenderIPAddresses accepts)
  | 'name' // a label: printable ASCII without quote-like characters
  | 'text' // free text: printable ASCII (quotes allowed: they are escaped)
  | 'path'; // a file or folder path: printable ASCII without quote-like characters

export type Checked = { ok: true; value: string } | { ok: false; reason: string };

const MAX: Record<ValueKind, number> = {
  domain: 253,
  'domain-pattern': 255,
  address: 320,
  ipv4: 15,
  'ipv4-range': 18,
  name: 200,
  text: 1000,
  path: 1000,
};

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
// RFC 5322 atext.
const ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const QUOTE_LIKE = /['"`]/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function isDomain(v: string): boolean {
  const labels = v.split('.');
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

function isIpv4(v: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  return m?.slice(1).every((o) => Number(o) <= 255 && (o === '0' || !o.startsWith('0'))) ?? false;
}

/** Why `value` cannot go into a command as a `kind`, or the value itself. */
export function checkValue(kind: ValueKind, value: string): Checked {
  const no = (reason: string): Checked => ({ ok: false, reason });
  if (value.length === 0) return no(`empty ${kind}`);
  if (value.length > MAX[kind]) return no(`${kind} longer than ${MAX[kind]} characters`);
  if (!PRINTABLE_ASCII.test(value)) {
    // Say what kind of character it is (one linear scan).
    for (const ch of value) {
      const c = ch.codePointAt(0)!;
      if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) return no('control character');
    }
    return no('not plain ASCII');
  }
  switch (kind) {
    case 'domain':
      return isDomain(value) ? { ok: true, value } : no('not a domain name');
    case 'domain-pattern': {
      const bare = value.startsWith('*.') ? value.slice(2) : value;
      return isDomain(bare) ? { ok: true, value } : no('not a domain name');
    }
    case 'address': {
      const at = value.lastIndexOf('@');
      if (at < 1) return no('not an e-mail address');
      const local = value.slice(0, at);
      const domain = value.slice(at + 1);
      if (local.length > 64 || !local.split('.').every((a) => ATOM.test(a))) return no('address outside dot-atom');
      return isDomain(domain) ? { ok: true, value } : no('address domain is not a domain name');
    }
    case 'ipv4':
      return isIpv4(value) ? { ok: true, value } : no('not an IPv4 address');
    case 'ipv4-range': {
      const [ip, bits, extra] = value.split('/');
      if (extra !== undefined || !isIpv4(ip!)) return no('not an IPv4 address or range');
      if (bits === undefined) return { ok: true, value };
      const n = /^\d{1,2}$/.test(bits) ? Number(bits) : -1;
      return n >= 24 && n <= 32 ? { ok: true, value } : no('range wider than /24 (connectors take /24 to /32)');
    }
    case 'name':
    case 'path':
      return QUOTE_LIKE.test(value) ? no(`${kind} with a quote character`) : { ok: true, value };
    case 'text':
      return { ok: true, value };
  }
}

/** How a withheld value is shown in place of the value: no shell runs it (`<` is reserved in PowerShell, a
 * redirection in sh that fails on the missing file name part). */
export function withheldText(reason: string): string {
  return `<withheld: ${reason.replace(/[<>]/g, '')}>`;
}

/**
 * A generated command: its text and why values were withheld from it (empty: it can be run as printed). A command
 * with a withheld value is printed as a comment (`# …`), so pasting it runs nothing.
 */
export interface BuiltCommand {
  text: string;
  withheld: string[];
}

/** The text of a command, commented out when a value was withheld from it. */
export function finish(parts: readonly string[], withheld: readonly string[]): BuiltCommand {
  const reasons = [...new Set(withheld)];
  const text = parts.join(' ');
  return { text: reasons.length > 0 ? `# ${text}` : text, withheld: reasons };
}
