/**
 * Recording the admin's decision on a Direct Send source in `dsguard.yml` (`dsguard sources approve|deny`).
 * The document is read with yaml's Document API and the edit is spliced into the text at the node's position, so
 * every byte the admin wrote (comments, key order, quoting, spacing) stays as it was; only the one list entry is
 * added or completed. Flow-style lists fall back to writing the edited Document (comments kept). The result is parsed and validated again before it is
 * handed back: an edit that would not load is an error, never a broken profile. Pure (text in, text out).
 * @module
 */
import { type Document, isMap, isScalar, isSeq, parseDocument, stringify, type YAMLMap, type YAMLSeq } from 'yaml';
import { ipInAny, parseCidr } from '../core/net-address.js';
import { failure, ok, type Result } from '../core/result.js';
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

/** The edited text, or why the decision cannot be recorded (`usage`: it is about the profile or the request). */
export type ProfileEditResult = Result<{ text: string; action: 'added' | 'updated' | 'unchanged'; list: string }>;

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

function oneLine(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

function entryObject(d: SourceDecision): Record<string, unknown> {
  const entry: Record<string, unknown> = { name: d.name, ips: [...d.ips] };
  if (d.owner !== null) entry.owner = d.owner;
  if (d.kind === 'approve') entry.approved = true;
  return entry;
}

/** A scalar as YAML writes it (quoted when it must be). */
function scalar(value: string): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/** The new list entry as lines, relative to the list's indentation (`- ` included). */
function entryLines(d: SourceDecision): string[] {
  const lines: string[] = [];
  if (d.note) lines.push(`# ${oneLine(d.note)}`);
  lines.push(`- name: ${scalar(d.name)}`, `  ips: [${d.ips.map(scalar).join(', ')}]`);
  if (d.owner !== null) lines.push(`  owner: ${scalar(d.owner)}`);
  if (d.kind === 'approve') lines.push('  approved: true');
  return lines;
}

/** Offset just past the end of the line holding `offset`. */
function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', Math.max(0, offset - 1));
  return nl < 0 ? text.length : nl + 1;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/**
 * Append the entry as text after the last item of a block list (or as a new list at the end of the file), so
 * that every byte the admin wrote stays as it was. `null` when the list is not in block style.
 */
function appendToSeq(
  text: string,
  seq: YAMLSeq | undefined,
  key: string,
  entry: string[],
  keyColumn: number | null,
): string | null {
  if (!seq) {
    const body = entry.map((l) => `  ${l}`).join('\n');
    return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${key}:\n${body}\n`;
  }
  if (!seq.range) return null;
  // An empty flow list (`directSendSources: []`, as a generated profile has it) becomes a block list in place.
  if (
    seq.flow &&
    seq.items.length === 0 &&
    keyColumn !== null &&
    text.slice(seq.range[0], seq.range[1]).trim() === '[]'
  ) {
    const indent = ' '.repeat(keyColumn + 2);
    const body = entry.map((l) => `\n${indent}${l}`).join('');
    // What followed `[]` on its line (a comment) stays on the key's line.
    const eol = text.indexOf('\n', seq.range[1]);
    const end = eol < 0 ? text.length : eol;
    const rest = text.slice(seq.range[1], end).trimEnd();
    return `${text.slice(0, seq.range[0]).trimEnd()}${rest ? ` ${rest.trimStart()}` : ''}${body}${text.slice(end)}`;
  }
  if (seq.flow || seq.items.length === 0) return null;
  const at = lineEnd(text, seq.range[1]);
  const indent = ' '.repeat(columnOf(text, seq.range[0]));
  const body = entry.map((l) => `${indent}${l}\n`).join('');
  const head = text.slice(0, at);
  return `${head}${head.endsWith('\n') || head === '' ? '' : '\n'}${body}${text.slice(at)}`;
}

/** The column of a top-level key, or `null`. */
function keyColumnOf(text: string, map: YAMLMap, key: string): number | null {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  return pair && isScalar(pair.key) && pair.key.range ? columnOf(text, pair.key.range[0]) : null;
}

/** Set the owner of an entry as text: replace its value, or add the key after the entry's last one. */
function setOwner(text: string, entry: YAMLMap, owner: string): string | null {
  if (entry.flow || !entry.range) return null;
  const pair = entry.items.find((p) => isScalar(p.key) && p.key.value === 'owner');
  if (pair) {
    const v = pair.value;
    if (!isScalar(v) || !v.range) return null;
    return `${text.slice(0, v.range[0])}${scalar(owner)}${text.slice(v.range[1])}`;
  }
  const first = entry.items[0]?.key;
  if (!isScalar(first) || !first.range) return null;
  const at = lineEnd(text, entry.range[1]);
  const line = `${' '.repeat(columnOf(text, first.range[0]))}owner: ${scalar(owner)}\n`;
  const head = text.slice(0, at);
  return `${head}${head.endsWith('\n') ? '' : '\n'}${line}${text.slice(at)}`;
}

/** The fallback for flow-style lists: edit the document and write it whole (comments kept, spacing normalised). */
function viaDocument(doc: Document, edit: () => void): string {
  edit();
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** The profile text with the decision recorded, or why it cannot be. */
export function recordSourceDecision(text: string, file: string, d: SourceDecision): ProfileEditResult {
  const before = parseProfile(text, file);
  if (before.status === 'error') return before;
  if (d.ips.length === 0) return failure('usage', 'the source has no known IP: nothing to record');
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) return failure('usage', `${file}: the profile is not a mapping`);
  const key = LISTS[d.kind];
  const other = LISTS[d.kind === 'approve' ? 'deny' : 'approve'];
  // A decision the other way stays the admin's to undo: dsguard never drops an entry written there.
  const otherSeq = doc.get(other, true);
  if (isSeq(otherSeq)) {
    for (const [i, entry] of otherSeq.items.entries()) {
      if (overlaps(ipsOf(entry), d.ips)) {
        const name = isMap(entry) ? String(entry.get('name') ?? '') : '';
        return failure(
          'usage',
          `${file}: ${other}[${i}] ("${name}") already covers ${d.ips.join(', ')}: remove or edit that entry first`,
        );
      }
    }
  }
  const seq = doc.get(key, true);
  if (seq !== undefined && !isSeq(seq)) return failure('usage', `${file}: ${key} is not a list`);
  const same = seq?.items.find((e) => {
    const have = ipsOf(e);
    return have.length === d.ips.length && d.ips.every((ip) => have.includes(ip));
  });
  let out: string;
  let action: 'added' | 'updated' | 'unchanged';
  if (same && isMap(same)) {
    if (d.owner === null || same.get('owner') === d.owner) return ok({ text, action: 'unchanged', list: key });
    action = 'updated';
    out = setOwner(text, same as YAMLMap, d.owner) ?? viaDocument(doc, () => (same as YAMLMap).set('owner', d.owner));
  } else {
    action = 'added';
    const entry = entryLines(d);
    out =
      appendToSeq(text, seq as YAMLSeq | undefined, key, entry, keyColumnOf(text, doc.contents, key)) ??
      viaDocument(doc, () => {
        const node = doc.createNode(entryObject(d)) as YAMLMap;
        if (d.note) node.commentBefore = ` ${oneLine(d.note)}`;
        if (seq) (seq as YAMLSeq).items.push(node);
        else doc.set(key, doc.createNode([node]));
      });
  }
  const after = parseProfile(out, file);
  if (after.status === 'error') return failure('usage', `the edit would not load: ${after.error}`);
  return ok({ text: out, action, list: key });
}
