/**
 * `Received-SPF` (RFC 7208 §9.1): `result (comment) key=value; key=value; ...`. Exchange writes
 * `Received-SPF: Pass (protection.outlook.com: domain of x designates 1.2.3.4 as permitted sender)
 * receiver=protection.outlook.com; client-ip=1.2.3.4; helo=host;`.
 * @module
 */

export interface ReceivedSpf {
  result: string;
  comment: string | null;
  /** Lower-cased keys: client-ip, helo, envelope-from, receiver, identity, problem, mechanism. */
  params: Record<string, string>;
}

const MAX = 4096;

export function parseReceivedSpf(value: string): ReceivedSpf | null {
  const v = (value.length > MAX ? value.slice(0, MAX) : value).trim();
  const space = v.search(/[\s(]/);
  const result = (space < 0 ? v : v.slice(0, space)).toLowerCase();
  if (!/^(pass|fail|softfail|neutral|none|temperror|permerror)$/.test(result)) return null;
  let rest = space < 0 ? '' : v.slice(space).trim();
  let comment: string | null = null;
  if (rest.startsWith('(')) {
    let depth = 0;
    let i = 0;
    for (; i < rest.length; i++) {
      if (rest[i] === '(') depth++;
      else if (rest[i] === ')' && --depth === 0) break;
    }
    comment = rest.slice(1, i).trim();
    rest = rest.slice(i + 1);
  }
  const params: Record<string, string> = {};
  for (const part of rest.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    if (!/^[a-z-]{1,32}$/.test(key) || key in params) continue;
    params[key] = part
      .slice(eq + 1)
      .trim()
      .replace(/^"|"$/g, '');
  }
  return { result, comment, params };
}
