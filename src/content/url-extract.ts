/**
 * URLs from plain text and HTML, and HTML reduced to text. Linear time on hostile input: every pattern is a
 * single bounded character class (no nested quantifiers), block elements are skipped with indexOf, and every
 * output is capped. Microsoft Safe Links wrappers are unwrapped so the rules see the real destination.
 * @module
 */

const MAX_URL = 2048;

/** `http(s)://` followed by URL characters; bounded so a run of URL characters cannot grow without limit. */
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`{}|\\^[\]]{1,2048}/gi;

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  sol: '/',
  colon: ':',
  period: '.',
  quest: '?',
  equals: '=',
  num: '#',
  percnt: '%',
};

/** Decode HTML character references (named subset, decimal, hex). */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});?/gi, (m, body: string) => {
    if (body[0] === '#') {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? m;
  });
}

function trimUrl(url: string): string {
  let end = url.length;
  // Sentence punctuation and a closing bracket that has no opening one are not part of the URL.
  while (end > 0 && '.,;:!?\'")]>'.includes(url[end - 1] ?? '')) {
    if (url[end - 1] === ')' && url.slice(0, end).includes('(')) break;
    end--;
  }
  return url.slice(0, Math.min(end, MAX_URL));
}

/** The destination of a Microsoft Safe Links wrapper, or the URL itself. */
export function unwrapSafeLinks(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (!parsed.hostname.toLowerCase().endsWith('.safelinks.protection.outlook.com')) return url;
  const inner = parsed.searchParams.get('url');
  return inner && /^https?:\/\//i.test(inner) ? inner.slice(0, MAX_URL) : url;
}

export function urlsFromText(text: string, max: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  TEXT_URL.lastIndex = 0;
  for (let m = TEXT_URL.exec(text); m !== null && out.length < max; m = TEXT_URL.exec(text)) {
    const url = unwrapSafeLinks(trimUrl(m[0]));
    if (!seen.has(url)) {
      seen.add(url);
      out.push(url);
    }
  }
  return out;
}

/**
 * URLs in HTML attributes (href, src, action, ...) plus those written in the visible text. The attribute URLs
 * are `linkValues`: the link attribute values and script URLs from the HTML scan's parse (`scanHtml` in
 * html-inspect.ts), so no pattern runs over the markup for them.
 */
export function urlsFromHtml(html: string, max: number, linkValues: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (u: string) => {
    const url = unwrapSafeLinks(u);
    if (out.length < max && !seen.has(url)) {
      seen.add(url);
      out.push(url);
    }
  };
  for (const v of linkValues) {
    const raw = v.trim();
    if (/^https?:\/\//i.test(raw)) add(trimUrl(raw.replace(/\s/g, '')));
  }
  for (const u of urlsFromText(htmlToText(html, 1_000_000), max)) add(u);
  return out;
}

/** Visible text of an HTML document: script/style/head blocks dropped, tags removed, entities decoded. */
export function htmlToText(html: string, maxChars: number): string {
  const lower = html.toLowerCase();
  let out = '';
  let i = 0;
  while (i < html.length && out.length < maxChars) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) break;
    const tag = lower.slice(lt + 1, Math.min(gt, lt + 12));
    const block = /^(script|style|head|title)\b/.exec(tag)?.[1];
    if (block) {
      const close = lower.indexOf(`</${block}`, gt + 1);
      if (close < 0) break;
      const closeEnd = html.indexOf('>', close);
      i = closeEnd < 0 ? html.length : closeEnd + 1;
      continue;
    }
    if (/^(br|p|div|tr|li|h[1-6]|table|td)\b|^\/(p|div|tr|li|h[1-6]|table)\b/.test(tag)) out += '\n';
    else out += ' ';
    i = gt + 1;
  }
  return decodeEntities(out)
    .replace(/[ \t\r\f\v\u00a0]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n')
    .trim()
    .slice(0, maxChars);
}
