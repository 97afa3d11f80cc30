/**
 * DMARC (RFC 7489): `parseDmarc` reads a record's tag list with the RFC defaults (pure, linear, bounded);
 * `auditDmarc` finds the policy record of a domain over DNS answers: `_dmarc.<domain>`, and when there is none,
 * the nearest parent's (the DMARCbis DNS tree walk, which stands in for the Public Suffix List lookup of
 * RFC 7489 §6.6.3: no list to bundle or go stale). A policy inherited from a parent applies `sp` (default `p`).
 * @module
 */
import { normalizeDomain } from '../domain-name.js';
import { type DnsAnswers, type DnsQuery, describeFailure, isTemporary, NeededQueries } from './dns-answer.js';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface DmarcTag {
  name: string;
  value: string;
}

export interface DmarcRecord {
  p: DmarcPolicy | null;
  /** Default: the value of `p` (RFC 7489 §6.3). */
  sp: DmarcPolicy | null;
  /** DMARCbis: policy for non-existent subdomains; default `sp`. */
  np: DmarcPolicy | null;
  /** 0–100, default 100. */
  pct: number;
  adkim: 'r' | 's';
  aspf: 'r' | 's';
  fo: string;
  rf: string;
  ri: number;
  rua: string[];
  ruf: string[];
  /** DMARCbis `t=y`: testing mode (treated as one step weaker). */
  testing: boolean;
  /** Tags as written, in order. */
  tags: DmarcTag[];
  /** Which tags were given explicitly (the others carry their RFC defaults). */
  explicit: string[];
}

export interface ParsedDmarc {
  record: DmarcRecord | null;
  errors: string[];
  /** Tags DMARC does not define: ignored, as the RFC says. */
  unknownTags: string[];
}

export const MAX_DMARC_RECORD = 2048;

const KNOWN = new Set(['v', 'p', 'sp', 'np', 'pct', 'adkim', 'aspf', 'fo', 'rf', 'ri', 'rua', 'ruf', 'psd', 't']);

/** A TXT record at `_dmarc` counts when it starts with `v=DMARC1` (RFC 7489 §6.6.3; spaces around `=` allowed). */
export function isDmarcRecord(txt: string): boolean {
  return /^v\s*=\s*DMARC1\s*(;|$)/i.test(txt.slice(0, 32));
}

function policy(v: string): DmarcPolicy | null {
  const t = v.toLowerCase();
  return t === 'none' || t === 'quarantine' || t === 'reject' ? t : null;
}

function uris(v: string, tag: string, errors: string[]): string[] {
  const out: string[] = [];
  for (const part of v.split(',')) {
    const u = part.trim();
    if (u === '') continue;
    // dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]
    const bang = u.lastIndexOf('!');
    const base = bang > 0 && /^\d+[kmgt]?$/i.test(u.slice(bang + 1)) ? u.slice(0, bang) : u;
    if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(base)) errors.push(`${tag}: "${u.slice(0, 80)}" is not a URI`);
    else if (!/^mailto:/i.test(base))
      errors.push(`${tag}: only mailto: URIs are used by receivers ("${u.slice(0, 80)}")`);
    else out.push(base);
  }
  return out;
}

/** Parse one DMARC record. Problems are returned, never thrown. */
export function parseDmarc(text: string): ParsedDmarc {
  const errors: string[] = [];
  const unknownTags: string[] = [];
  if (text.length > MAX_DMARC_RECORD) return { record: null, errors: ['record too long'], unknownTags };
  if (!isDmarcRecord(text)) return { record: null, errors: ['does not start with "v=DMARC1"'], unknownTags };
  const tags: DmarcTag[] = [];
  const seen = new Set<string>();
  for (const part of text.split(';')) {
    const t = part.trim();
    if (t === '') continue;
    const eq = t.indexOf('=');
    if (eq <= 0) {
      errors.push(`"${t.slice(0, 40)}" is not a tag=value pair`);
      continue;
    }
    const name = t.slice(0, eq).trim().toLowerCase();
    const value = t.slice(eq + 1).trim();
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      errors.push(`bad tag name "${name.slice(0, 20)}"`);
      continue;
    }
    if (seen.has(name)) errors.push(`tag "${name}" appears more than once`);
    seen.add(name);
    tags.push({ name, value });
    if (!KNOWN.has(name)) unknownTags.push(name);
  }
  const get = (n: string) => tags.find((t) => t.name === n)?.value;
  if (get('v') !== 'DMARC1' && get('v')?.toUpperCase() === 'DMARC1') errors.push('"v" must be exactly "DMARC1"');
  if (tags[0]?.name !== 'v') errors.push('"v" must be the first tag');

  const rua = get('rua') !== undefined ? uris(get('rua')!, 'rua', errors) : [];
  const ruf = get('ruf') !== undefined ? uris(get('ruf')!, 'ruf', errors) : [];
  let p: DmarcPolicy | null = null;
  const pRaw = get('p');
  if (pRaw === undefined) errors.push('"p" is missing (required)');
  else {
    p = policy(pRaw);
    if (p === null) errors.push(`p: "${pRaw.slice(0, 20)}" is not none, quarantine or reject`);
  }
  if (tags[1] && tags[1].name !== 'p' && pRaw !== undefined) errors.push('"p" should directly follow "v"');
  // RFC 7489 §6.6.3: a record with a missing or invalid p but a valid rua is treated as p=none.
  if (p === null && rua.length > 0) p = 'none';
  let sp: DmarcPolicy | null = p;
  if (get('sp') !== undefined) {
    sp = policy(get('sp')!);
    if (sp === null) {
      errors.push(`sp: "${get('sp')!.slice(0, 20)}" is not none, quarantine or reject`);
      sp = p;
    }
  }
  let np: DmarcPolicy | null = sp;
  if (get('np') !== undefined) {
    np = policy(get('np')!);
    if (np === null) {
      errors.push(`np: "${get('np')!.slice(0, 20)}" is not none, quarantine or reject`);
      np = sp;
    }
  }
  let pct = 100;
  if (get('pct') !== undefined) {
    const v = get('pct')!;
    if (!/^\d{1,3}$/.test(v) || Number(v) > 100) errors.push(`pct: "${v.slice(0, 20)}" is not 0–100`);
    else pct = Number(v);
  }
  const align = (n: 'adkim' | 'aspf'): 'r' | 's' => {
    const v = get(n);
    if (v === undefined) return 'r';
    if (v.toLowerCase() === 'r' || v.toLowerCase() === 's') return v.toLowerCase() as 'r' | 's';
    errors.push(`${n}: "${v.slice(0, 20)}" is not r or s`);
    return 'r';
  };
  const adkim = align('adkim');
  const aspf = align('aspf');
  let fo = '0';
  if (get('fo') !== undefined) {
    const v = get('fo')!;
    if (!/^[01ds](\s*:\s*[01ds])*$/i.test(v)) errors.push(`fo: "${v.slice(0, 20)}" is not a list of 0, 1, d, s`);
    else fo = v;
  }
  let rf = 'afrf';
  if (get('rf') !== undefined) rf = get('rf')!;
  let ri = 86400;
  if (get('ri') !== undefined) {
    const v = get('ri')!;
    if (!/^\d{1,10}$/.test(v) || Number(v) > 4294967295) errors.push(`ri: "${v.slice(0, 20)}" is not a 32-bit number`);
    else ri = Number(v);
  }
  const testing = get('t')?.toLowerCase() === 'y';
  if (p === null) return { record: null, errors, unknownTags };
  return {
    record: {
      p,
      sp,
      np,
      pct,
      adkim,
      aspf,
      fo,
      rf,
      ri,
      rua,
      ruf,
      testing,
      tags,
      explicit: tags.map((t) => t.name),
    },
    errors,
    unknownTags,
  };
}

export interface DmarcAudit {
  domain: string;
  /** The record that governs the domain (its own or a parent's), as published. */
  record: string | null;
  /** Where the record was found: `_dmarc.<recordDomain>`. */
  recordDomain: string | null;
  inherited: boolean;
  /** The policy for the domain itself: `p` of its own record, or `sp` of a parent's. */
  policy: DmarcPolicy | null;
  /** `sp` of the governing record (defaults to `p`). */
  subdomainPolicy: DmarcPolicy | null;
  pct: number | null;
  rua: string[];
  ruf: string[];
  parsed: DmarcRecord | null;
  /** `none`: no record; `invalid`: a record that cannot be used; `temperror`: DNS failed. */
  result: 'ok' | 'none' | 'invalid' | 'multiple' | 'temperror';
  /** Syntax problems (a record can be usable and still have them). */
  problems: string[];
  error: string | null;
  /** The `_dmarc` names queried, nearest first. */
  looked: string[];
  /** The lookup that failed temporarily, when `result` is `temperror`. */
  failed: { name: string; error: string } | null;
}

/** At most this many `_dmarc` names are tried (DMARCbis tree walk limit). */
export const DMARC_WALK_LIMIT = 8;

/** `a.b.example.com` → [`a.b.example.com`, `b.example.com`, `example.com`] (never the bare TLD). */
export function dmarcCandidates(domain: string): string[] {
  const labels = normalizeDomain(domain).split('.');
  const out: string[] = [];
  for (let i = 0; i < labels.length - 1 && out.length < DMARC_WALK_LIMIT; i++) out.push(labels.slice(i).join('.'));
  return out;
}

export function auditDmarc(domainIn: string, answers: DnsAnswers): { audit: DmarcAudit; needs: DnsQuery[] } {
  const domain = normalizeDomain(domainIn);
  const needs = new NeededQueries();
  const audit: DmarcAudit = {
    domain,
    record: null,
    recordDomain: null,
    inherited: false,
    policy: null,
    subdomainPolicy: null,
    pct: null,
    rua: [],
    ruf: [],
    parsed: null,
    result: 'none',
    problems: [],
    error: null,
    looked: [],
    failed: null,
  };
  for (const candidate of dmarcCandidates(domain)) {
    const name = `_dmarc.${candidate}`;
    const ans = answers.get(name, 'TXT');
    if (ans === undefined) {
      needs.add(name, 'TXT');
      return { audit, needs: needs.list };
    }
    audit.looked.push(name);
    if (isTemporary(ans)) {
      audit.result = 'temperror';
      audit.error = `TXT lookup for ${name} failed: ${describeFailure(ans)}`;
      audit.failed = { name, error: describeFailure(ans) };
      return { audit, needs: needs.list };
    }
    const records = ans.status === 'ok' ? ans.records.filter(isDmarcRecord) : [];
    if (records.length === 0) continue;
    audit.recordDomain = candidate;
    audit.inherited = candidate !== domain;
    audit.record = records[0]!;
    if (records.length > 1) {
      audit.result = 'multiple';
      audit.error = `${name} publishes ${records.length} DMARC records: receivers apply none of them`;
      return { audit, needs: needs.list };
    }
    const parsed = parseDmarc(records[0]!);
    audit.problems = parsed.errors;
    if (!parsed.record) {
      audit.result = 'invalid';
      audit.error = `${name}: ${parsed.errors[0] ?? 'invalid record'}`;
      return { audit, needs: needs.list };
    }
    audit.result = 'ok';
    audit.parsed = parsed.record;
    audit.policy = audit.inherited ? parsed.record.sp : parsed.record.p;
    audit.subdomainPolicy = parsed.record.sp;
    audit.pct = parsed.record.pct;
    audit.rua = parsed.record.rua;
    audit.ruf = parsed.record.ruf;
    audit.error = parsed.errors.length > 0 ? `${name}: ${parsed.errors[0]}` : null;
    return { audit, needs: needs.list };
  }
  audit.error = `no DMARC record at ${audit.looked.join(', ')}`;
  return { audit, needs: needs.list };
}
