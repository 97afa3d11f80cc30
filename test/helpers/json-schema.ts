/**
 * A small JSON Schema (2020-12) validator for the keywords scripts/build-schemas.mjs emits: type, const, enum,
 * anyOf, properties, required, additionalProperties, items, prefixItems, minItems, maxItems, $ref to #/$defs.
 * An unknown keyword is an error, so a schema cannot silently check less than it says.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$schema',
  '$id',
  '$defs',
  '$ref',
  'title',
  'description',
  'format',
  'type',
  'const',
  'enum',
  'anyOf',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function validate(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  const check = (s: Schema, v: unknown, at: string): void => {
    for (const k of Object.keys(s)) if (!KNOWN.has(k)) throw new Error(`${at}: unsupported keyword ${k}`);
    if (typeof s.$ref === 'string') {
      const name = s.$ref.replace('#/$defs/', '');
      const def = (root.$defs as Record<string, Schema>)[name];
      if (!def) throw new Error(`${at}: unknown $ref ${s.$ref}`);
      check(def, v, at);
    }
    if (s.type !== undefined) {
      const t = typeOf(v);
      const ok = s.type === t || (s.type === 'integer' && Number.isInteger(v));
      if (!ok) errors.push(`${at}: expected ${String(s.type)}, got ${t}`);
      if (!ok) return;
    }
    if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(v)) {
      errors.push(`${at}: expected ${JSON.stringify(s.const)}, got ${JSON.stringify(v)}`);
    }
    if (Array.isArray(s.enum) && !s.enum.includes(v)) errors.push(`${at}: ${JSON.stringify(v)} not in ${s.enum}`);
    if (Array.isArray(s.anyOf)) {
      const results = (s.anyOf as Schema[]).map((alt) => {
        const before = errors.length;
        check(alt, v, at);
        return errors.splice(before);
      });
      if (!results.some((r) => r.length === 0)) {
        const best = results.reduce((a, b) => (b.length < a.length ? b : a));
        errors.push(`${at}: matches no alternative; closest: ${best.join('; ')}`);
      }
    }
    if (typeOf(v) === 'object' && (s.properties || s.required || 'additionalProperties' in s)) {
      const obj = v as Record<string, unknown>;
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const r of (s.required ?? []) as string[]) if (!(r in obj)) errors.push(`${at}: missing ${r}`);
      for (const [k, val] of Object.entries(obj)) {
        if (props[k]) check(props[k], val, `${at}.${k}`);
        else if (s.additionalProperties === false) errors.push(`${at}: unexpected property ${k}`);
        else if (typeof s.additionalProperties === 'object') check(s.additionalProperties as Schema, val, `${at}.${k}`);
      }
    }
    if (Array.isArray(v)) {
      if (typeof s.minItems === 'number' && v.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`);
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) errors.push(`${at}: more than ${s.maxItems} items`);
      const prefix = (s.prefixItems ?? []) as Schema[];
      v.forEach((item, i) => {
        const itemSchema = prefix[i] ?? (s.items as Schema | undefined);
        if (itemSchema) check(itemSchema, item, `${at}[${i}]`);
      });
    }
  };
  check(root, value, '$');
  return errors;
}
