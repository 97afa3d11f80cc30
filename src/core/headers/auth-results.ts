/**
 * `Authentication-Results` (RFC 8601) in both the standard form (`authserv-id; method=result ...`) and
 * Exchange Online's form, which has no authserv-id and inserts the recipient domain as a bare unit
 * (`spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=contoso.com; contoso.com; dkim=none ...`).
 * @module
 */

export interface AuthMethodResult {
  method: string;
  result: string;
  /** `reason=`, `action=` and `ptype.property=` pairs, keys lower-cased. */
  props: Record<string, string>;
  comment: string | null;
}

export interface AuthResults {
  /** `null` when the header has none (Exchange Online style). */
  authservId: string | null;
  /** ARC instance (`i=`) for ARC-Authentication-Results. */
  instance: number | null;
  results: AuthMethodResult[];
}

const MAX_AUTH_RESULTS = 16 * 1024;

/** Split on `;` outside comments and quotes. */
function splitUnits(value: string): string[] {
  const units: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (quoted) {
      if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (c === ';' && depth === 0) {
      units.push(value.slice(start, i));
      start = i + 1;
    }
  }
  units.push(value.slice(start));
  return units.map((u) => u.trim()).filter((u) => u.length > 0);
}

/** Tokens of one unit: words outside comments, and the comments. */
function unitTokens(unit: string): { words: string[]; comments: string[] } {
  const words: string[] = [];
  const comments: string[] = [];
  const n = unit.length;
  let wordStart = -1;
  let i = 0;
  while (i < n) {
    const c = unit.charCodeAt(i);
    if (c === 40 /* ( */) {
      if (wordStart >= 0) words.push(unit.slice(wordStart, i));
      wordStart = -1;
      let depth = 1;
      let j = i + 1;
      while (j < n && depth > 0) {
        const d = unit.charCodeAt(j);
        if (d === 40) depth++;
        else if (d === 41) depth--;
        j++;
      }
      comments.push(unit.slice(i + 1, depth === 0 ? j - 1 : j).trim());
      i = j;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 10) {
      if (wordStart >= 0) words.push(unit.slice(wordStart, i));
      wordStart = -1;
    } else if (wordStart < 0) {
      wordStart = i;
    }
    i++;
  }
  if (wordStart >= 0) words.push(unit.slice(wordStart));
  // Exchange writes "header.from=x;compauth=..." and sometimes "spf=pass(comment)": words are clean here.
  return { words, comments };
}

export function parseAuthResults(value: string, arc = false): AuthResults {
  const text = value.length > MAX_AUTH_RESULTS ? value.slice(0, MAX_AUTH_RESULTS) : value;
  const units = splitUnits(text);
  const out: AuthResults = { authservId: null, instance: null, results: [] };
  let idx = 0;
  if (arc && units[0] && /^i\s*=\s*\d+$/i.test(units[0])) {
    out.instance = Number(units[0].split('=')[1]);
    idx = 1;
  }
  const first = units[idx];
  if (first !== undefined) {
    const { words } = unitTokens(first);
    const head = words[0] ?? '';
    if (!head.includes('=')) {
      out.authservId = head.toLowerCase();
      // "mx.microsoft.com 1; spf=..." or "mx.google.com; spf=..." or "host; spf=pass ..." in the same unit.
      const rest = words.slice(1).filter((w) => !/^\d+$/.test(w));
      if (rest.length > 0 && rest[0]!.includes('=')) {
        units[idx] = first.slice(first.indexOf(rest[0]!));
      } else {
        idx++;
      }
    }
  }
  for (const unit of units.slice(idx)) {
    const { words, comments } = unitTokens(unit);
    let current: AuthMethodResult | null = null;
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq <= 0) continue; // bare recipient-domain units and stray words
      const key = w.slice(0, eq).toLowerCase();
      const val = w.slice(eq + 1).replace(/^"|"$/g, '');
      if (current === null) {
        if (key.includes('.')) continue;
        current = { method: key, result: val.toLowerCase(), props: {}, comment: comments[0] ?? null };
      } else {
        current.props[key] = val;
      }
    }
    if (current) out.results.push(current);
  }
  return out;
}

export function resultFor(ar: AuthResults, method: string): AuthMethodResult | null {
  return ar.results.find((r) => r.method === method) ?? null;
}

/** authserv-ids that belong to Microsoft's mail stack. `null` (Exchange's own form) counts as Microsoft's. */
export function isMicrosoftAuthservId(id: string | null): boolean {
  if (id === null) return true;
  return id === 'mx.microsoft.com' || id.endsWith('.protection.outlook.com') || id.endsWith('.outlook.com');
}
