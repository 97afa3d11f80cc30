/**
 * The library entry for domain exposure: `auditDomain(domain, { resolver })` fetches what the pure audit asks
 * for (src/core/posture/exposure-audit.ts), round after round, until it needs nothing more; `auditDomains` does it
 * for many domains with bounded concurrency, yielding results in input order with memory bounded by the
 * concurrency (not by the batch). A domain's DNS problems are part of its result, never an exception.
 * @module
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { domainToASCII } from 'node:url';
import { isPlausibleDomain, normalizeDomain } from '../core/domain-name.js';
import { AnswerMap } from '../core/posture/dns-answer.js';
import { auditExposure, type DomainExposure } from '../core/posture/exposure-audit.js';
import type { Resolver } from '../net/dns.js';

export type { DomainExposure } from '../core/posture/exposure-audit.js';

export interface AuditDomainOptions {
  resolver: Resolver;
  /** Upper bound on DNS queries for one domain (default 120). */
  maxQueries?: number;
}

/** Rounds of "audit, fetch what it needs": the SPF include depth bounds it well below this. */
const MAX_ROUNDS = 32;

export async function auditDomain(domain: string, opts: AuditDomainOptions): Promise<DomainExposure> {
  const answers = new AnswerMap();
  const maxQueries = opts.maxQueries ?? 120;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { result, needs } = auditExposure(domain, answers);
    if (needs.length === 0) return result;
    const budget = Math.max(0, maxQueries - answers.size);
    const batch = needs.slice(0, budget);
    for (const q of needs.slice(budget))
      answers.set(q.name, q.type, { status: 'error', detail: 'query budget exhausted' });
    await Promise.all(
      batch.map(async (q) => {
        answers.set(q.name, q.type, await opts.resolver.query(q.name, q.type));
      }),
    );
  }
  // Still needing answers after MAX_ROUNDS: mark the rest as not fetched and report what is known.
  const { needs } = auditExposure(domain, answers);
  for (const q of needs) answers.set(q.name, q.type, { status: 'error', detail: 'lookup depth exhausted' });
  return auditExposure(domain, answers).result;
}

export interface DomainInputError {
  input: string;
  error: string;
}

export type DomainItem = { domain: string; input: string } | DomainInputError;

export function isDomainInputError(x: unknown): x is DomainInputError {
  return typeof x === 'object' && x !== null && 'error' in x && 'input' in x && !('risk' in x);
}

/** Normalise a domain as typed (case, trailing dot, IDN → A-label); `null` when it is not a domain. */
export function toDomain(text: string): string | null {
  let t = text.trim();
  if (t.length === 0 || t.length > 300) return null;
  if (t.includes('@')) return null;
  t = normalizeDomain(t);
  if (!/^[\x21-\x7e]+$/.test(t)) t = domainToASCII(t);
  return t && isPlausibleDomain(t) ? t : null;
}

/**
 * Domains from a list (a file path, or a stream named `label`): one a line, `#` comments and blank lines
 * ignored; streamed, so the list can be any length. A line that is not a domain is yielded as an error.
 */
export async function* readDomainList(
  source: string | NodeJS.ReadableStream,
  label = 'stdin',
): AsyncGenerator<DomainItem> {
  const path = typeof source === 'string' ? source : label;
  const input = typeof source === 'string' ? createReadStream(source, { encoding: 'utf8' }) : source;
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const raw of rl) {
    n++;
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const domain = toDomain(line);
    const input = `${path}:${n}`;
    if (domain) yield { domain, input };
    else yield { input, error: `not a domain name: "${line.slice(0, 80)}"` };
  }
}

/** Map with bounded concurrency, yielding in input order. `fn` must not reject. */
export async function* mapOrdered<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const it =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (source as Iterable<T>)[Symbol.iterator]();
  const window: Promise<R>[] = [];
  let done = false;
  for (;;) {
    while (!done && window.length < concurrency) {
      const next = await it.next();
      if (next.done) done = true;
      else window.push(fn(next.value));
    }
    const head = window.shift();
    if (head === undefined) return;
    yield await head;
  }
}

export interface AuditDomainsOptions extends AuditDomainOptions {
  /** Domains audited at once (default 16). */
  concurrency?: number;
}

/** Audit many domains (or input errors passed through), in input order. */
export async function* auditDomains(
  items: AsyncIterable<DomainItem | string> | Iterable<DomainItem | string>,
  opts: AuditDomainsOptions,
): AsyncGenerator<(DomainExposure & { input?: string }) | DomainInputError> {
  yield* mapOrdered(items, Math.max(1, opts.concurrency ?? 16), async (item) => {
    if (typeof item === 'string') {
      const d = toDomain(item);
      if (!d) return { input: item, error: `not a domain name: "${item.slice(0, 80)}"` };
      return auditDomain(d, opts);
    }
    if ('error' in item) return item;
    try {
      return await auditDomain(item.domain, opts);
    } catch (err) {
      return { input: item.input, error: `audit failed: ${(err as Error).message}` };
    }
  });
}
