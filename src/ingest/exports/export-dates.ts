/**
 * Dates as exports write them: ISO-8601 (`2026-07-23T22:01:22.0480000Z`, `2026-07-23 22:01:22`), numeric forms
 * as Export-Csv writes them in the session's culture — month-first on an en-US machine (`7/23/2026 10:01:22 PM`),
 * day-first on most others (`23/07/2026 22:01:22`, `23.07.2026 22:01:22`) — and month names
 * (`Jul 23, 2026 10:01:22 PM`, `23 Jul 2026 22:01:22`). Times without a zone are UTC (message trace and Defender
 * export UTC). Which numeric order a file uses is decided once for the file ({@link guessDateOrder}), so its
 * ambiguous dates (`05/07/2026`) are all read one way; a date that exists only the other way (`7/14/2026` in a
 * day-first file) is read that way rather than refused. Hand-rolled because it runs on every row; linear, no
 * backtracking.
 * @module
 */

/** The order of the two leading numbers of a numeric date: month first (en-US) or day first. */
export type DateOrder = 'mdy' | 'dmy';

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const NUMERIC =
  /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d{1,9})?\s*([AP]\.?M\.?)?)?$/i;
const MONTH_FIRST =
  /^([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?)?$/i;
const DAY_FIRST =
  /^(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?,?\s+(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?)?$/i;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function build(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, offsetMin: number) {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return null;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 1 : 0;
  if (d > DAYS_IN_MONTH[mo - 1]! + leap) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60_000;
  return Number.isFinite(t) ? t : null;
}

function hour12(h: number, ampm: string | undefined): number {
  if (!ampm) return h;
  const pm = ampm[0]!.toLowerCase() === 'p';
  if (h < 1 || h > 12) return 99;
  return (h % 12) + (pm ? 12 : 0);
}

/** The two numbers of a numeric date as [month, day] in `order`, unless they can only be read the other way. */
function monthDay(a: number, b: number, order: DateOrder): [number, number] {
  if (order === 'mdy') return a > 12 && b <= 12 ? [b, a] : [a, b];
  return b > 12 && a <= 12 ? [a, b] : [b, a];
}

function parseDateText(t: string, order: DateOrder): number | null {
  const iso = ISO.exec(t);
  if (iso) {
    const frac = iso[7] ? Number(iso[7].slice(0, 3).padEnd(3, '0')) : 0;
    let off = 0;
    const z = iso[8];
    if (z && z.toUpperCase() !== 'Z') {
      const sign = z[0] === '-' ? -1 : 1;
      const digits = z.slice(1).replace(':', '');
      off = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
    }
    return build(+iso[1]!, +iso[2]!, +iso[3]!, +(iso[4] ?? 0), +(iso[5] ?? 0), +(iso[6] ?? 0), frac, off);
  }
  const num = NUMERIC.exec(t);
  if (num) {
    const [mo, d] = monthDay(+num[1]!, +num[2]!, order);
    return build(+num[3]!, mo, d, hour12(+(num[4] ?? 0), num[7]), +(num[5] ?? 0), +(num[6] ?? 0), 0, 0);
  }
  const mf = MONTH_FIRST.exec(t);
  if (mf) {
    const mo = MONTHS[mf[1]!.toLowerCase()];
    return mo ? build(+mf[3]!, mo, +mf[2]!, hour12(+(mf[4] ?? 0), mf[7]), +(mf[5] ?? 0), +(mf[6] ?? 0), 0, 0) : null;
  }
  const df = DAY_FIRST.exec(t);
  if (df) {
    const mo = MONTHS[df[2]!.toLowerCase()];
    return mo ? build(+df[3]!, mo, +df[1]!, hour12(+(df[4] ?? 0), df[7]), +(df[5] ?? 0), +(df[6] ?? 0), 0, 0) : null;
  }
  return null;
}

const NUMERIC_DATE = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/;
const TIME = /^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d{1,9})?\s*([AP]\.?M\.?)?$/i;
/** Date part of the numeric form → UTC midnight (`null`: not a date): exports repeat a few days a million times. */
const numericDays: Record<DateOrder, Map<string, number | null>> = { mdy: new Map(), dmy: new Map() };
const MAX_NUMERIC_DAYS = 4096;

/**
 * The numeric form (`7/23/2026 10:01:22 PM`) with its date part looked up in `numericDays`: the same result as
 * NUMERIC in parseDateText, or `undefined` when the text is not that simple shape (the full parser decides).
 */
function parseNumericFast(t: string, order: DateOrder): number | null | undefined {
  const sp = t.indexOf(' ');
  if (sp < 8 || sp > 10) return undefined;
  const datePart = t.slice(0, sp);
  const days = numericDays[order];
  let midnight = days.get(datePart);
  if (midnight === undefined) {
    const m = NUMERIC_DATE.exec(datePart);
    midnight = null;
    if (m) {
      const [mo, d] = monthDay(+m[1]!, +m[2]!, order);
      midnight = build(+m[3]!, mo, d, 0, 0, 0, 0, 0);
    }
    if (days.size >= MAX_NUMERIC_DAYS) days.clear();
    days.set(datePart, midnight);
  }
  if (midnight === null) return undefined;
  const clock = clockFast(t, sp + 1);
  if (clock !== undefined) return clock === null ? null : midnight + clock;
  const tm = TIME.exec(t.slice(sp + 1));
  if (!tm) return undefined;
  const h = hour12(+tm[1]!, tm[4]);
  const mi = +tm[2]!;
  const s = +(tm[3] ?? 0);
  if (h > 23 || mi > 59 || s > 60) return null;
  return midnight + ((h * 60 + mi) * 60 + s) * 1000;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * The time of day of `H:MM:SS`, `HH:MM:SS` (24-hour) or either followed by ` AM` / ` PM` (any case), from
 * `start` to the end of `t`, in ms — what TIME and hour12 give for these shapes, without a match array.
 * `null`: out of range (as the regex path says); `undefined`: another shape (the regex decides).
 */
function clockFast(t: string, start: number): number | null | undefined {
  let i = start;
  if (!isDigit(t.charCodeAt(i))) return undefined;
  let h = t.charCodeAt(i++) - 48;
  if (isDigit(t.charCodeAt(i))) h = h * 10 + t.charCodeAt(i++) - 48;
  if (t.charCodeAt(i) !== 58 || t.charCodeAt(i + 3) !== 58) return undefined;
  const m1 = t.charCodeAt(i + 1);
  const m2 = t.charCodeAt(i + 2);
  const s1 = t.charCodeAt(i + 4);
  const s2 = t.charCodeAt(i + 5);
  if (!isDigit(m1) || !isDigit(m2) || !isDigit(s1) || !isDigit(s2)) return undefined;
  const mi = (m1 - 48) * 10 + m2 - 48;
  const s = (s1 - 48) * 10 + s2 - 48;
  i += 6;
  if (i < t.length) {
    // ` AM` / ` PM` and nothing after.
    if (i + 3 !== t.length || t.charCodeAt(i) !== 32) return undefined;
    const ap = t.charCodeAt(i + 1) | 0x20;
    if ((ap !== 97 && ap !== 112) || (t.charCodeAt(i + 2) | 0x20) !== 109) return undefined;
    if (h < 1 || h > 12) return null;
    h = (h % 12) + (ap === 112 ? 12 : 0);
  }
  if (h > 23 || mi > 59 || s > 60) return null;
  return ((h * 60 + mi) * 60 + s) * 1000;
}

let lastText = '';
let lastOrder: DateOrder = 'mdy';
let lastMs: number | null = null;

/**
 * Milliseconds since the epoch, or `null` when the text is not a date this reader knows. `order`: how the file's
 * numeric dates are written (a date that can only be read the other way is read that way).
 */
export function parseExportDate(text: string, order: DateOrder = 'mdy'): number | null {
  if (text === lastText && order === lastOrder) return lastMs;
  const t = text.trim();
  let ms: number | null = null;
  if (t.length <= 40) {
    const fast = parseNumericFast(t, order);
    ms = fast === undefined ? parseDateText(t, order) : fast;
  }
  lastText = text;
  lastOrder = order;
  lastMs = ms;
  return ms;
}

/** A numeric date as written: its two leading numbers, year and separator, and the date as written. */
export interface NumericDate {
  a: number;
  b: number;
  y: number;
  sep: '/' | '.';
  text: string;
}

/** The parts of a value in the numeric form (date, optionally a time); `null` for anything else. */
export function numericDateOf(text: string): NumericDate | null {
  const t = text.trim();
  if (t.length > 40) return null;
  const m = NUMERIC.exec(t);
  if (!m) return null;
  const sep = t[m[1]!.length] === '.' ? '.' : '/';
  return { a: +m[1]!, b: +m[2]!, y: +m[3]!, sep, text: `${m[1]}${sep}${m[2]}${sep}${m[3]}` };
}

export interface DateOrderGuess {
  order: DateOrder;
  /** `false` when the dates seen read both ways: the order is the usual one for the separator, unconfirmed. */
  decided: boolean;
  /** What decided it, for the user (a date that reads one way only, or the days they span either way). */
  why: string;
  /** Set when dates that read only one way and dates that read only the other both appear (not a lack of them). */
  conflict?: true;
}

/** The day number of a calendar date, `null` when the date does not exist. */
function dayNumber(y: number, mo: number, d: number): number | null {
  const ms = build(y, mo, d, 0, 0, 0, 0, 0);
  return ms === null ? null : Math.floor(ms / 86_400_000);
}

/**
 * The numeric order of a file from its sampled dates: dates that exist read one way only settle it (the more
 * numerous way, undecided when both appear); otherwise the reading under which the dates span fewer days (an
 * export covers days or weeks; read the wrong way, two different days lie a month or more apart); otherwise the
 * usual order for the separator (dots: day first; slashes: month first, as Windows PowerShell on en-US writes),
 * undecided. Dates that exist neither way are left out. `null` when no numeric date was seen.
 */
export function guessDateOrder(dates: readonly NumericDate[]): DateOrderGuess | null {
  const show = (d: NumericDate) => d.text;
  const dayFirstOnly: NumericDate[] = [];
  const monthFirstOnly: NumericDate[] = [];
  const both: NumericDate[] = [];
  for (const d of dates) {
    const md = dayNumber(d.y, d.a, d.b) !== null;
    const dm = dayNumber(d.y, d.b, d.a) !== null;
    if (md && dm) both.push(d);
    else if (dm) dayFirstOnly.push(d);
    else if (md) monthFirstOnly.push(d);
  }
  if (dayFirstOnly.length + monthFirstOnly.length + both.length === 0) return null;
  const usual: DateOrder = (both[0] ?? dayFirstOnly[0] ?? monthFirstOnly[0])!.sep === '.' ? 'dmy' : 'mdy';
  const dm = dayFirstOnly[0];
  const md = monthFirstOnly[0];
  if (dm && !md) return { order: 'dmy', decided: true, why: `${show(dm)} is day-first` };
  if (md && !dm) return { order: 'mdy', decided: true, why: `${show(md)} is month-first` };
  if (dm && md) {
    const order: DateOrder =
      dayFirstOnly.length > monthFirstOnly.length ? 'dmy' : monthFirstOnly.length > dayFirstOnly.length ? 'mdy' : usual;
    return {
      order,
      decided: false,
      conflict: true,
      why: `both ${show(dm)} (day-first, ${dayFirstOnly.length} such) and ${show(md)} (month-first, ${monthFirstOnly.length} such) appear`,
    };
  }
  const span = (order: DateOrder) => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const d of both) {
      const n = (order === 'mdy' ? dayNumber(d.y, d.a, d.b) : dayNumber(d.y, d.b, d.a))!;
      lo = Math.min(lo, n);
      hi = Math.max(hi, n);
    }
    return hi - lo;
  };
  const spanMd = span('mdy');
  const spanDm = span('dmy');
  if (spanMd !== spanDm) {
    const order: DateOrder = spanMd < spanDm ? 'mdy' : 'dmy';
    return {
      order,
      decided: true,
      why: `the dates span ${Math.min(spanMd, spanDm)} day(s) read ${order === 'mdy' ? 'month' : 'day'}-first, ${Math.max(spanMd, spanDm)} the other way`,
    };
  }
  const sample = show(both[0]!);
  return {
    order: usual,
    decided: false,
    why: `dates like ${sample} read either way and none tells which: read ${usual === 'mdy' ? 'month' : 'day'}-first`,
  };
}

let isoDay = Number.NaN;
let isoDayText = '';
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * ISO-8601 UTC text (second precision, `Z`). Rows come in time order: the date part is kept for the last day
 * seen and only the time of day is formatted (years 1970-9999; others take toISOString).
 */
export function isoSeconds(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  if (day !== isoDay) {
    if (!(ms >= 0 && ms < 253_402_300_800_000)) return `${new Date(ms).toISOString().slice(0, 19)}Z`;
    isoDay = day;
    isoDayText = new Date(day * 86_400_000).toISOString().slice(0, 11);
  }
  const sec = Math.floor((ms - day * 86_400_000) / 1000);
  return `${isoDayText}${pad2(Math.floor(sec / 3600))}:${pad2(Math.floor(sec / 60) % 60)}:${pad2(sec % 60)}Z`;
}
