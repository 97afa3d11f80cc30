/**
 * SPF (RFC 7208): `parseSpf` reads one record into terms (pure, linear, bounded); `auditSpf` walks a domain's
 * record and everything it includes or redirects to over DNS answers already fetched, counting the terms that
 * cost DNS lookups (include, a, mx, ptr, exists, redirect: at most 10, §4.6.4) and the void lookups (NXDOMAIN or
 * no records: at most 2), spotting loops, and reporting the effective `all`. The audit never throws for a
 * domain's problems: it returns them. When it needs an answer it does not have, it lists the query in `needs`
 * and the edge fetches it and runs the audit again (see src/exposure.ts).
 *
 * There is no connecting IP here: this is a static audit of the policy, not `check_host()`. `a`, `mx` and
 * `exists` targets are looked up only to count void lookups, as a receiver evaluating the record in full would.
 * @module
 */
import { isPlausibleDomain, normalizeDomain } from '../domain-name.js';
import { parseCidr } from '../net-address.js';
import { type DnsAnswers, type DnsQuery, describeFailure, isTemporary, isVoid, NeededQueries } from './dns-answer.js';
import { EXO_SPF_INCLUDE } from './smart-host.js';

export type SpfQualifier = '+' | '-' | '~' | '?';
export type SpfMechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

export interface SpfMechanism {
  kind: 'mechanism';
  qualifier: SpfQualifier;
  name: SpfMechanismName;
  /** domain-spec (include, exists, a:, mx:, ptr:) or the address/CIDR (ip4, ip6); `null` when absent. */
  value: string | null;
  /** `/24` or `//64` after a / mx, as written. */
  cidr: string | null;
  raw: string;
}

export interface SpfModifier {
  kind: 'modifier';
  name: string;
  value: string;
  raw: string;
}

export type SpfTerm = SpfMechanism | SpfModifier;

export interface SpfSyntaxError {
  term: string;
  reason: string;
}

export interface ParsedSpf {
  terms: SpfTerm[];
  errors: SpfSyntaxError[];
}

/** Longest record parsed (a TXT RRset can be large; SPF records should fit 450 bytes, RFC 7208 §3.4). */
export const MAX_SPF_RECORD = 4096;
export const SPF_LOOKUP_LIMIT = 10;
export const SPF_VOID_LIMIT = 2;
/** How far past the limit the audit keeps walking so that it can report the real count. */
const WALK_LOOKUP_CAP = 20;

const MECHANISMS: ReadonlySet<string> = new Set(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);

/** A TXT record is an SPF record when it starts with `v=spf1` followed by a space or the end (§4.5). */
export function isSpfRecord(txt: string): boolean {
  const t = txt.slice(0, 7).toLowerCase();
  return t === 'v=spf1' || t === 'v=spf1 ';
}

function validDomainSpec(spec: string): string | null {
  if (spec.length === 0) return 'empty domain';
  if (spec.length > 253 && !spec.includes('%')) return 'domain longer than 253 characters';
  if (spec.includes('%')) {
    // macro-string: %{x...}, %%, %_, %- (RFC 7208 §7.1); validated with a linear scan.
    for (let i = 0; i < spec.length; i++) {
      if (spec[i] !== '%') continue;
      const next = spec[i + 1];
      if (next === '%' || next === '_' || next === '-') {
        i++;
        continue;
      }
      if (next !== '{') return `bad macro at "${spec.slice(i, i + 8)}"`;
      const close = spec.indexOf('}', i + 2);
      if (close < 0) return 'unterminated macro';
      if (!/^[slodiphcrtv]\d{0,3}r?[-.+,/_=]*$/i.test(spec.slice(i + 2, close)))
        return `bad macro "${spec.slice(i, close + 1)}"`;
      i = close;
    }
    return null;
  }
  const d = spec.endsWith('.') ? spec.slice(0, -1) : spec;
  return isPlausibleDomain(d) ? null : `"${spec}" is not a valid domain`;
}

function validDualCidr(cidr: string): boolean {
  // "/n" (ip4 0-32), "//n" (ip6 0-128) or "/n//m".
  const m = /^(?:\/(\d{1,2}))?(?:\/\/(\d{1,3}))?$/.exec(cidr);
  if (!m) return false;
  if (m[1] !== undefined && Number(m[1]) > 32) return false;
  if (m[2] !== undefined && Number(m[2]) > 128) return false;
  return true;
}

function parseTerm(raw: string): SpfTerm | SpfSyntaxError {
  // Modifier: name "=" macro-string, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
  const eq = raw.indexOf('=');
  const colon = raw.indexOf(':');
  const slash = raw.indexOf('/');
  const firstSep = [colon, slash].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), raw.length);
  if (eq > 0 && eq < firstSep) {
    const name = raw.slice(0, eq).toLowerCase();
    if (!/^[a-z][a-z0-9._-]*$/.test(name)) return { term: raw, reason: 'bad modifier name' };
    const value = raw.slice(eq + 1);
    if ((name === 'redirect' || name === 'exp') && validDomainSpec(value) !== null) {
      return { term: raw, reason: `${name}: ${validDomainSpec(value)}` };
    }
    return { kind: 'modifier', name, value, raw };
  }
  let qualifier: SpfQualifier = '+';
  let body = raw;
  const q = raw[0];
  if (q === '+' || q === '-' || q === '~' || q === '?') {
    qualifier = q;
    body = raw.slice(1);
  }
  const nameEnd = [body.indexOf(':'), body.indexOf('/')]
    .filter((i) => i >= 0)
    .reduce((a, b) => Math.min(a, b), body.length);
  const name = body.slice(0, nameEnd).toLowerCase();
  if (!MECHANISMS.has(name)) return { term: raw, reason: `unknown mechanism "${body.slice(0, nameEnd)}"` };
  const rest = body.slice(nameEnd);
  const mech = (value: string | null, cidr: string | null): SpfMechanism => ({
    kind: 'mechanism',
    qualifier,
    name: name as SpfMechanismName,
    value,
    cidr,
    raw,
  });
  switch (name) {
    case 'all':
      return rest === '' ? mech(null, null) : { term: raw, reason: '"all" takes no argument' };
    case 'include':
    case 'exists': {
      if (!rest.startsWith(':')) return { term: raw, reason: `"${name}" needs a domain` };
      const spec = rest.slice(1);
      const bad = validDomainSpec(spec);
      return bad ? { term: raw, reason: bad } : mech(spec, null);
    }
    case 'a':
    case 'mx':
    case 'ptr': {
      let spec: string | null = null;
      let cidr: string | null = null;
      let r = rest;
      if (r.startsWith(':')) {
        const s = r.indexOf('/', 1);
        spec = s >= 0 ? r.slice(1, s) : r.slice(1);
        r = s >= 0 ? r.slice(s) : '';
        const bad = validDomainSpec(spec);
        if (bad) return { term: raw, reason: bad };
      }
      if (r !== '') {
        if (name === 'ptr') return { term: raw, reason: '"ptr" takes no CIDR length' };
        if (!validDualCidr(r)) return { term: raw, reason: `bad CIDR length "${r}"` };
        cidr = r;
      }
      return mech(spec, cidr);
    }
    default: {
      // ip4 / ip6
      if (!rest.startsWith(':')) return { term: raw, reason: `"${name}" needs an address` };
      const value = rest.slice(1);
      const c = parseCidr(value);
      const isV6 = value.includes(':');
      if (!c || (name === 'ip4') === isV6) return { term: raw, reason: `"${value}" is not a valid ${name} address` };
      return mech(value, null);
    }
  }
}

/** Parse one SPF record (`v=spf1 …`). Syntax problems are returned, never thrown. */
export function parseSpf(record: string): ParsedSpf {
  const errors: SpfSyntaxError[] = [];
  const terms: SpfTerm[] = [];
  if (record.length > MAX_SPF_RECORD) {
    errors.push({ term: record.slice(0, 40), reason: `record longer than ${MAX_SPF_RECORD} characters` });
    return { terms, errors };
  }
  if (!isSpfRecord(record)) {
    errors.push({ term: record.slice(0, 40), reason: 'does not start with "v=spf1"' });
    return { terms, errors };
  }
  // Terms are separated by one or more spaces (§4.6.1); tabs are not allowed but are common: accept them.
  for (const raw of record.slice(6).split(/[ \t]+/)) {
    if (raw === '') continue;
    const t = parseTerm(raw);
    if ('reason' in t) errors.push(t);
    else terms.push(t);
  }
  const redirects = terms.filter((t) => t.kind === 'modifier' && t.name === 'redirect').length;
  const exps = terms.filter((t) => t.kind === 'modifier' && t.name === 'exp').length;
  if (redirects > 1) errors.push({ term: 'redirect=', reason: '"redirect" appears more than once' });
  if (exps > 1) errors.push({ term: 'exp=', reason: '"exp" appears more than once' });
  return { terms, errors };
}

export type SpfErrorCode =
  | 'missing'
  | 'multiple-records'
  | 'syntax'
  | 'lookup-limit'
  | 'void-limit'
  | 'loop'
  | 'include-without-spf'
  | 'too-many-mx'
  | 'temperror';

export interface SpfProblem {
  code: SpfErrorCode;
  /** The domain whose record has the problem. */
  domain: string;
  message: string;
}

export interface SpfLookupStep {
  /** `include:spf.protection.outlook.com`, `redirect=_spf.example.com`, `a`, `mx:example.com`, ... */
  term: string;
  /** The domain whose record holds the term. */
  in: string;
  /** The running count of DNS-lookup terms after this one. */
  count: number;
  void: boolean;
}

export interface SpfAudit {
  domain: string;
  /** The SPF record of the domain itself (the first one when there are several). */
  record: string | null;
  records: string[];
  /** `none`: no record; `permerror`: the record cannot be evaluated; `temperror`: DNS failed. */
  result: 'ok' | 'none' | 'permerror' | 'temperror';
  /** The qualifier of the effective `all` (`-all`, `~all`, `?all`, `+all`), following redirects; `null`: none. */
  all: '-all' | '~all' | '?all' | '+all' | null;
  /** The domain whose record supplies the effective `all` (differs from `domain` after a redirect). */
  allFrom: string | null;
  dnsLookups: number;
  voidLookups: number;
  includesExchangeOnline: boolean;
  /** Direct includes of the domain's own record (and its redirect chain). */
  includes: string[];
  redirect: string | null;
  /** Static addresses in the domain's own record (and its redirect chain), not in included third-party records. */
  ip4: string[];
  ip6: string[];
  usesPtr: boolean;
  /** The terms that cost DNS lookups, in evaluation order. */
  lookups: SpfLookupStep[];
  problems: SpfProblem[];
  /** The first problem's message, or `null`. */
  error: string | null;
}

interface WalkState {
  answers: DnsAnswers;
  needs: NeededQueries;
  lookups: number;
  voids: number;
  steps: SpfLookupStep[];
  problems: SpfProblem[];
  includesExo: boolean;
  usesPtr: boolean;
  stopped: boolean;
}

function problem(st: WalkState, code: SpfErrorCode, domain: string, message: string): void {
  if (!st.problems.some((p) => p.code === code && p.domain === domain)) st.problems.push({ code, domain, message });
}

/** Read the SPF record(s) of `domain` from the answers; `undefined` when the TXT answer is still needed. */
function spfRecordsOf(
  st: WalkState,
  domain: string,
): { records: string[]; void: boolean; temp: string | null } | undefined {
  const ans = st.answers.get(domain, 'TXT');
  if (ans === undefined) {
    st.needs.add(domain, 'TXT');
    return undefined;
  }
  if (isTemporary(ans)) return { records: [], void: false, temp: describeFailure(ans) };
  if (ans.status !== 'ok') return { records: [], void: true, temp: null };
  return { records: ans.records.filter(isSpfRecord), void: ans.records.length === 0, temp: null };
}

function countLookup(st: WalkState, term: string, inDomain: string): boolean {
  st.lookups++;
  if (st.lookups === SPF_LOOKUP_LIMIT + 1) {
    problem(
      st,
      'lookup-limit',
      inDomain,
      `more than ${SPF_LOOKUP_LIMIT} DNS-lookup terms (the 11th is ${term} in ${inDomain})`,
    );
  }
  if (st.lookups > WALK_LOOKUP_CAP) {
    st.stopped = true;
    return false;
  }
  st.steps.push({ term, in: inDomain, count: st.lookups, void: false });
  return true;
}

function markVoid(st: WalkState, inDomain: string, what: string): void {
  st.voids++;
  const last = st.steps[st.steps.length - 1];
  if (last) last.void = true;
  if (st.voids === SPF_VOID_LIMIT + 1) {
    problem(st, 'void-limit', inDomain, `more than ${SPF_VOID_LIMIT} void lookups (the 3rd is ${what})`);
  }
}

function hasMacro(spec: string): boolean {
  return spec.includes('%');
}

function targetOf(spec: string): string {
  return normalizeDomain(spec);
}

/** Look up the void-ness of an address query pair (A and AAAA); `null` when still needed or failed. */
function addressVoid(st: WalkState, name: string): boolean | null {
  const a = st.answers.get(name, 'A');
  const aaaa = st.answers.get(name, 'AAAA');
  if (a === undefined) st.needs.add(name, 'A');
  if (aaaa === undefined) st.needs.add(name, 'AAAA');
  if (a === undefined || aaaa === undefined) return null;
  if (isTemporary(a) && isTemporary(aaaa)) return null;
  return isVoid(a) && isVoid(aaaa);
}

interface RecordOutcome {
  all: SpfAudit['all'];
  allFrom: string | null;
}

/**
 * Walk the record of `domain`. `own` is true for the audited domain and its redirect chain (whose static
 * addresses and includes are the organisation's own). `stack` holds the domains being walked, for loops.
 */
function walk(
  st: WalkState,
  domain: string,
  own: boolean,
  stack: string[],
  out: Partial<SpfAudit>,
): RecordOutcome | null {
  if (st.stopped) return null;
  const found = spfRecordsOf(st, domain);
  if (found === undefined) return null;
  const isRoot = stack.length === 0;
  if (found.temp !== null) {
    problem(st, 'temperror', domain, `TXT lookup for ${domain} failed: ${found.temp}`);
    return null;
  }
  if (isRoot) out.records = found.records;
  if (found.records.length === 0) {
    if (!isRoot) {
      if (found.void) markVoid(st, domain, `${domain} (no TXT record)`);
      problem(st, 'include-without-spf', domain, `${domain} has no SPF record but is included or redirected to`);
    }
    return null;
  }
  if (found.records.length > 1) {
    problem(st, 'multiple-records', domain, `${domain} publishes ${found.records.length} SPF records (permerror)`);
    if (!isRoot) return null;
  }
  const record = found.records[0]!;
  if (isRoot) out.record = record;
  const parsed = parseSpf(record);
  if (parsed.errors.length > 0) {
    const list = parsed.errors.slice(0, 8).map((e) => `${e.reason} ("${e.term.slice(0, 80)}")`);
    problem(st, 'syntax', domain, `${domain}: ${list.join('; ')}`);
  }
  if (parsed.errors.length > 0) return null;
  const path = [...stack, domain];
  let all: RecordOutcome | null = null;
  for (const term of parsed.terms) {
    if (term.kind !== 'mechanism') continue;
    if (st.stopped) return null;
    switch (term.name) {
      case 'all':
        all = { all: `${term.qualifier}all` as SpfAudit['all'], allFrom: domain };
        break;
      case 'ip4':
        if (own) out.ip4?.push(term.value ?? '');
        break;
      case 'ip6':
        if (own) out.ip6?.push(term.value ?? '');
        break;
      case 'include': {
        const target = targetOf(term.value ?? '');
        if (own) out.includes?.push(target);
        if (target === EXO_SPF_INCLUDE) st.includesExo = true;
        if (!countLookup(st, `include:${target}`, domain)) return null;
        if (hasMacro(target)) break;
        if (path.includes(target)) {
          problem(st, 'loop', domain, `include loop: ${[...path, target].join(' → ')}`);
          break;
        }
        walk(st, target, false, path, out);
        break;
      }
      case 'a': {
        const target = term.value ? targetOf(term.value) : domain;
        if (!countLookup(st, term.raw, domain)) return null;
        if (hasMacro(target)) break;
        if (addressVoid(st, target) === true) markVoid(st, domain, `${term.raw} in ${domain}`);
        break;
      }
      case 'mx': {
        const target = term.value ? targetOf(term.value) : domain;
        if (!countLookup(st, term.raw, domain)) return null;
        if (hasMacro(target)) break;
        const mx = st.answers.get(target, 'MX');
        if (mx === undefined) st.needs.add(target, 'MX');
        else if (isVoid(mx)) markVoid(st, domain, `${term.raw} in ${domain}`);
        else if (mx.status === 'ok' && mx.records.length > 10) {
          problem(st, 'too-many-mx', domain, `${term.raw} in ${domain}: ${mx.records.length} MX records (limit 10)`);
        }
        break;
      }
      case 'ptr':
        st.usesPtr = true;
        if (!countLookup(st, term.raw, domain)) return null;
        break;
      case 'exists': {
        const target = term.value ?? '';
        if (!countLookup(st, `exists:${target}`, domain)) return null;
        if (hasMacro(target)) break;
        const a = st.answers.get(targetOf(target), 'A');
        if (a === undefined) st.needs.add(targetOf(target), 'A');
        else if (isVoid(a)) markVoid(st, domain, `exists:${target} in ${domain}`);
        break;
      }
    }
    // Terms after "all" are never evaluated (§5.1); stop at the first all.
    if (all) return all;
  }
  const redirect = parsed.terms.find((t): t is SpfModifier => t.kind === 'modifier' && t.name === 'redirect');
  if (redirect) {
    const target = targetOf(redirect.value);
    if (own) out.redirect = out.redirect ?? target;
    if (!countLookup(st, `redirect=${target}`, domain)) return null;
    if (hasMacro(target)) return null;
    if (path.includes(target)) {
      problem(st, 'loop', domain, `redirect loop: ${[...path, target].join(' → ')}`);
      return null;
    }
    return walk(st, target, own, path, out);
  }
  return null;
}

/** Audit the SPF policy of `domain` over the answers; `needs` lists queries still to fetch. */
export function auditSpf(domainIn: string, answers: DnsAnswers): { audit: SpfAudit; needs: DnsQuery[] } {
  const domain = normalizeDomain(domainIn);
  const st: WalkState = {
    answers,
    needs: new NeededQueries(),
    lookups: 0,
    voids: 0,
    steps: [],
    problems: [],
    includesExo: false,
    usesPtr: false,
    stopped: false,
  };
  const out: Partial<SpfAudit> = { record: null, records: [], includes: [], ip4: [], ip6: [], redirect: null };
  const outcome = walk(st, domain, true, [], out);
  const records = out.records ?? [];
  let result: SpfAudit['result'] = 'ok';
  if (st.problems.some((p) => p.code === 'temperror')) result = 'temperror';
  else if (records.length === 0) result = 'none';
  else if (st.problems.length > 0) result = 'permerror';
  if (records.length === 0 && result === 'none') {
    st.problems.unshift({ code: 'missing', domain, message: `${domain} publishes no SPF record` });
  }
  const audit: SpfAudit = {
    domain,
    record: out.record ?? null,
    records,
    result,
    all: outcome?.all ?? null,
    allFrom: outcome?.allFrom ?? null,
    dnsLookups: st.lookups,
    voidLookups: st.voids,
    includesExchangeOnline: st.includesExo,
    includes: out.includes ?? [],
    redirect: out.redirect ?? null,
    ip4: out.ip4 ?? [],
    ip6: out.ip6 ?? [],
    usesPtr: st.usesPtr,
    lookups: st.steps,
    problems: st.problems,
    error: st.problems[0]?.message ?? null,
  };
  return { audit, needs: st.needs.list };
}
