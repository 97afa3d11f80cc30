/**
 * Load and validate `dsguard.yml` (the tenant profile). Errors name the file, the line and what is wrong.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { normalizeDomain } from '../core/domain-name.js';
import { cidrs, type KnownSourceProfile, type TenantProfile } from '../core/profile.js';
import { failure, ok, type Result } from '../core/result.js';
import { ioErrorText } from '../sources/io-error.js';

const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a tenant GUID');
const domain = z
  .string()
  .min(3)
  .max(253)
  .regex(/^(?!-)[A-Za-z0-9.-]+\.[A-Za-z]{2,}\.?$/, 'must be a domain name like contoso.com');
const ipList = z.array(z.string().min(1).max(64)).default([]);
const REJECT_DIRECT_SEND =
  'must be true, false, or when it was enabled: a day (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM:SSZ or with an offset)';
/** A calendar day (UTC) that exists, or an ISO 8601 time with a zone. */
const enabledWhen = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i, REJECT_DIRECT_SEND)
  .refine((d) => {
    const day = d.slice(0, 10);
    const t = Date.parse(`${day}T00:00:00Z`);
    return Number.isFinite(t) && new Date(t).toISOString().startsWith(day) && Number.isFinite(Date.parse(d));
  }, 'is not a calendar day or time');

/** A day stays a day; a time becomes UTC, to the second. */
function normalizeEnabled(v: string): string {
  return v.length === 10 ? v : `${new Date(Date.parse(v)).toISOString().slice(0, 19)}Z`;
}

/** A Direct Send source in the profile: declared by hand, or recorded by `dsguard sources approve|deny`. */
const sourceEntry = z
  .object({
    name: z.string().min(1).max(200),
    ips: z.array(z.string().min(1).max(64)).min(1, 'a known source needs at least one IP or CIDR'),
    senders: z.array(z.string().min(3).max(320)).default([]),
    subject: z.string().min(1).max(500).optional(),
    owner: z.string().min(1).max(200).optional(),
    approved: z.boolean().optional(),
  })
  .strict();

const profileSchema = z
  .object({
    tenant: z
      .object({
        name: z.string().max(200).optional(),
        ids: z.array(guid).default([]),
        domains: z.array(domain).min(1, 'list at least one accepted domain'),
        // true / false, or the day it was enabled: Direct Send received before that day predates it.
        rejectDirectSend: z.union([z.boolean(), enabledWhen], { error: REJECT_DIRECT_SEND }).optional(),
      })
      .strict(),
    connectors: z
      .array(
        z
          .object({
            name: z.string().min(1).max(200),
            type: z.enum(['Partner', 'OnPremises']).default('Partner'),
            senderIps: ipList,
            certificateNames: z.array(z.string().min(1).max(253)).default([]),
          })
          .strict(),
      )
      .default([]),
    directSendSources: z.array(sourceEntry).default([]),
    deniedSources: z.array(sourceEntry).default([]),
    homeCountries: z
      .array(z.string().regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166 alpha-2 code such as US'))
      .default([]),
  })
  .strict();

function sourceOf(s: z.infer<typeof sourceEntry>, path: string, bad: string[]): KnownSourceProfile {
  const r = cidrs(s.ips);
  for (const b of r.bad) bad.push(`${path}.ips: "${b}" is not an IP address or CIDR`);
  const out: KnownSourceProfile = {
    name: s.name,
    ips: r.ok,
    senders: s.senders.map((x) => x.toLowerCase()),
    subject: s.subject ?? null,
  };
  if (s.owner !== undefined) out.owner = s.owner;
  if (s.approved === true) out.approved = true;
  return out;
}

/**
 * A profile, or why not: `usage` when the profile's text is invalid (it is the user's configuration, like a
 * flag), `io` when the file cannot be read.
 */
export type ProfileLoadResult = Result<{ profile: TenantProfile }>;

/** Nesting a profile may have: it needs four levels; the YAML parser recurses once per level. */
const MAX_NESTING = 32;
/** Indentation a profile line may have (each nesting level indents it further). */
const MAX_INDENT = 128;

/**
 * The first line nested deeper than a profile can be (sequence indicators on one line, indentation, open flow
 * brackets), in one pass: deep YAML costs the parser superlinear work and then overflows its stack.
 */
function tooDeep(text: string): { line: number; why: string } | null {
  let line = 1;
  let flow = 0;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let i = pos;
    while (i < end && text.charCodeAt(i) === 32) i++;
    if (i - pos > MAX_INDENT) return { line, why: `indented more than ${MAX_INDENT} columns` };
    let indicators = 0;
    while (i + 1 < end && (text[i] === '-' || text[i] === '?') && text.charCodeAt(i + 1) === 32) {
      indicators++;
      i += 2;
      while (i < end && text.charCodeAt(i) === 32) i++;
    }
    if (indicators > MAX_NESTING) return { line, why: `more than ${MAX_NESTING} nested sequences on one line` };
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 91 || c === 123) flow++;
      else if ((c === 93 || c === 125) && flow > 0) flow--;
      if (flow > MAX_NESTING) return { line, why: `more than ${MAX_NESTING} nested [ or { brackets` };
    }
    pos = end + 1;
    line++;
  }
  return null;
}

export function parseProfile(text: string, file: string): ProfileLoadResult {
  const deep = tooDeep(text);
  if (deep) return failure('usage', `${file}:${deep.line}: invalid YAML: ${deep.why}`);
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    // The parser's own limits (its stack): a profile error, never an exception.
    return failure('usage', `${file}: invalid YAML: ${(error as Error).message.split('\n')[0]!.slice(0, 200)}`);
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    return failure('usage', `${file}:${pos.line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const lineOf = (path: readonly PropertyKey[]): number | null => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (node && (isScalar(node) || isMap(node) || isSeq(node)) && node.range)
        return lineCounter.linePos(node.range[0]).line;
    }
    return null;
  };
  // An alias without its anchor, or aliases expanding past the library's count (a "billion laughs" document),
  // throw here: a profile error like any other, never an exception.
  let plain: unknown;
  try {
    plain = doc.toJS();
  } catch (error) {
    return failure('usage', `${file}: invalid YAML: ${(error as Error).message.split('\n')[0]!.slice(0, 200)}`);
  }
  const parsed = profileSchema.safeParse(plain);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const line = lineOf(issue.path);
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return failure('usage', `${file}${line ? `:${line}` : ''}: ${where}: ${issue.message}`);
  }
  const p = parsed.data;
  const bad: string[] = [];
  const profile: TenantProfile = {
    name: p.tenant.name ?? null,
    tenantIds: p.tenant.ids.map((i) => i.toLowerCase()),
    acceptedDomains: [...new Set(p.tenant.domains.map(normalizeDomain))],
    connectors: p.connectors.map((c, i) => {
      const r = cidrs(c.senderIps);
      for (const b of r.bad) bad.push(`connectors.${i}.senderIps: "${b}" is not an IP address or CIDR`);
      return { name: c.name, type: c.type, senderIps: r.ok, certificateNames: c.certificateNames };
    }),
    knownSources: p.directSendSources.map((s, i) => sourceOf(s, `directSendSources.${i}`, bad)),
    homeCountries: p.homeCountries.map((c) => c.toUpperCase()),
    rejectDirectSend: p.tenant.rejectDirectSend === undefined ? null : p.tenant.rejectDirectSend !== false,
    rejectDirectSendSince:
      typeof p.tenant.rejectDirectSend === 'string' ? normalizeEnabled(p.tenant.rejectDirectSend) : null,
    inferred: false,
  };
  if (p.deniedSources.length > 0) {
    profile.deniedSources = p.deniedSources.map((s, i) => sourceOf(s, `deniedSources.${i}`, bad));
  }
  if (bad.length > 0) {
    const first = bad[0]!;
    const path = first
      .split(':')[0]!
      .split('.')
      .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const line = lineOf(path);
    return failure('usage', `${file}${line ? `:${line}` : ''}: ${first}`);
  }
  return ok({ profile });
}

export async function loadProfile(file: string): Promise<ProfileLoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return failure('io', `${file}: cannot read profile: ${ioErrorText(error)}`);
  }
  if (text.length > 1024 * 1024) return failure('usage', `${file}: profile larger than 1 MiB`);
  return parseProfile(text, file);
}
