/**
 * Recording the admin's decision on a Direct Send source in `dsguard.yml` (`dsguard sources approve|deny`).
 * Edits go through yaml's Document API, so the admin's comments, key order, quoting and every other entry stay as
 * written; only the one list entry is added or completed. The result is parsed and validated again before it is
 * handed back: an edit that would not load is an error, never a broken profile. Pure (text in, text out).
 * @module
 */
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { ipInAny, parseCidr } from '../core/net-address.js';
import { parseProfile } from './profile-file.js';

export interface SourceDecision {
  kind: 'approve' | 'deny';
  /** The name the admin gives it (required to approve). */
  name: string;
  owner: string | null;
  /** The source's connecting IPs (or the one IP given). */
  ips: readonly string[];
  /** A comment written above the new entry (what dsguard saw of the source), or `null`. */
  note: string | null;
}

export type ProfileEditResult =
  | { status: 'ok'; text: string; action: 'added' | 'updated' | 'unchanged'; list: string }
  | { status: 'error'; error: string };

const LISTS = { approve: 'directSendSources', deny: 'deniedSources' } as const;

function ipsOf(entry: unknown): string[] {
  if (!isMap(entry)) return [];
  const ips = entry.get('ips', true);
  if (!isSeq(ips)) return [];
  return ips.items.map((i) => (isScalar(i) ? String(i.value) : '')).filter((x) => x !== '');
}

function overlaps(entryIps: readonly string[], ips: readonly string[]): boolean {
  const cidrs = entryIps.map(parseCidr).filter((c) => c !== null);
  return ips.some((ip) => ipInAny(ip, cidrs) !== null);
}

/** The profile text with the decision recorded, or why it cannot be. */
export function recordSourceDecision(text: string, file: string, d: SourceDecision): ProfileEditResult {
  const before = parseProfile(text, file);
  if (before.status === 'error') return before;
  if (d.ips.length === 0) return { status: 'error', error: 'the source has no known IP: nothing to record' };
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (!isMap(doc.contents)) return { status: 'error', error: `${file}: the profile is not a mapping` };
  const key = LISTS[d.kind];
  const other = LISTS[d.kind === 'approve' ? 'deny' : 'approve'];
  // A decision the other way stays the admin's to undo: dsguard never drops an entry written there.
  const otherSeq = doc.get(other, true);
  if (isSeq(otherSeq)) {
    for (const [i, entry] of otherSeq.items.entries()) {
      if (overlaps(ipsOf(entry), d.ips)) {
        const name = isMap(entry) ? String(entry.get('name') ?? '') : '';
        return {
          status: 'error',
          error: `${file}: ${other}[${i}] ("${name}") already covers ${d.ips.join(', ')}: remove or edit that entry first`,
        };
      }
    }
  }
  let seq = doc.get(key, true) as YAMLSeq | undefined;
  if (seq !== undefined && !isSeq(seq)) return { status: 'error', error: `${file}: ${key} is not a list` };
  let action: 'added' | 'updated' | 'unchanged' = 'added';
  const same = seq?.items.find((e) => {
    const have = ipsOf(e);
    return have.length === d.ips.length && d.ips.every((ip) => have.includes(ip));
  });
  if (same && isMap(same)) {
    const m = same as YAMLMap;
    action = 'unchanged';
    if (d.owner !== null && m.get('owner') !== d.owner) {
      m.set('owner', d.owner);
      action = 'updated';
    }
  } else {
    const entry: Record<string, unknown> = { name: d.name, ips: [...d.ips] };
    if (d.owner !== null) entry.owner = d.owner;
    if (d.kind === 'approve') entry.approved = true;
    const node = doc.createNode(entry) as YAMLMap;
    const ips = node.get('ips', true);
    if (isSeq(ips)) ips.flow = true;
    if (d.note) node.commentBefore = ` ${d.note.replace(/[\r\n]+/g, ' ')}`;
    if (!seq) {
      seq = doc.createNode([]) as YAMLSeq;
      doc.set(key, seq);
    }
    seq.items.push(node);
  }
  const out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  const after = parseProfile(out, file);
  if (after.status === 'error') return { status: 'error', error: `the edit would not load: ${after.error}` };
  return { status: 'ok', text: out, action, list: key };
}
