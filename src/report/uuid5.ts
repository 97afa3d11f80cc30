/**
 * RFC 9562 name-based UUIDs (version 5, SHA-1): the same name always gives the same id, so exported rules and
 * STIX objects are deterministic (derived from content, never from the clock or a random source).
 * @module
 */
import { createHash } from 'node:crypto';

/** dsguard's namespace (itself a v5 UUID of "dsguard" in the RFC 9562 URL namespace). */
export const DSGUARD_NAMESPACE = 'b6b7a1e2-5f0c-5a44-9c2e-6d1c1f0b7e3a';

export function uuid5(name: string, namespace: string = DSGUARD_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
