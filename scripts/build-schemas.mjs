#!/usr/bin/env node
// Run by `npm run build`: writes schema/<command>.schema.json, a JSON Schema (2020-12) for each `--format json`
// output, generated from the TypeScript types the CLI serialises (so a schema cannot drift from the code), plus
// the `schemaVersion` the CLI adds to every record. Uses the TypeScript compiler (a dev dependency) and nothing
// else; a production install (no TypeScript) keeps the schemas it came with.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let ts;
try {
  ts = createRequire(import.meta.url)('typescript');
} catch {
  console.error('build-schemas: typescript not installed; schema/ left as it is');
  process.exit(0);
}

/** The schema version the CLI writes (src/core/json-record.ts): read from there, one source of truth. */
const SCHEMA_VERSION = Number(
  /export const SCHEMA_VERSION = (\d+);/.exec(readFileSync(join(root, 'src/core/json-record.ts'), 'utf8'))?.[1],
);
if (!Number.isInteger(SCHEMA_VERSION)) throw new Error('SCHEMA_VERSION not found in src/core/json-record.ts');

/** Each JSON output: the file declaring its type, the type, whether the output is an array of such records. */
const OUTPUTS = [
  { command: 'analyze', file: 'src/analyze/analyze.ts', type: 'AnalyzeResult', array: true },
  {
    command: 'exposure',
    parts: [
      { file: 'src/core/posture/exposure-audit.ts', type: 'DomainExposure' },
      { file: 'src/exposure/exposure.ts', type: 'DomainInputError' },
    ],
    array: true,
  },
  { command: 'probe', file: 'src/probe/probe.ts', type: 'ProbeReport', array: false },
  { command: 'ingest', file: 'src/ingest/ingest.ts', type: 'IngestSummary', array: false },
  { command: 'report', file: 'src/report/tenant-report.ts', type: 'TenantReport', array: false },
  {
    command: 'alert',
    file: 'src/alerts/watch-state.ts',
    type: 'Alert',
    array: false,
    description: 'dsguard watch: one alert (an --ndjson line, the `alert` of a --webhook-env body).',
  },
];

const config = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.json'),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} },
);
const program = ts.createProgram(
  OUTPUTS.flatMap((o) => (o.parts ?? [o]).map((p) => join(root, p.file))),
  { ...config.options, noEmit: true },
);
const checker = program.getTypeChecker();

function findType(file, name) {
  const sf = program.getSourceFile(join(root, file));
  if (!sf) throw new Error(`${file}: not found`);
  for (const st of sf.statements) {
    if ((ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) && st.name.text === name) {
      return checker.getTypeAtLocation(st.name);
    }
  }
  throw new Error(`${file}: no type ${name}`);
}

const F = ts.TypeFlags;

/** A reusable name for named, non-generic object types (their schema goes to $defs). */
function defName(type) {
  if (type.aliasSymbol && !type.aliasTypeArguments?.length) return type.aliasSymbol.name;
  const sym = type.getSymbol();
  if (!sym || sym.name.startsWith('__') || type.aliasTypeArguments?.length) return null;
  if (type.flags & F.Object && type.objectFlags & ts.ObjectFlags.Reference && checker.getTypeArguments(type).length)
    return null;
  if (!(sym.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class))) return null;
  return sym.name;
}

function generate(output) {
  const defs = {};
  const names = new Map(); // type → def name (two types of one name get a suffix)
  const used = new Set();

  function ref(type) {
    let name = names.get(type);
    if (!name) {
      const base = defName(type);
      name = base;
      for (let i = 2; used.has(name); i++) name = `${base}${i}`;
      used.add(name);
      names.set(type, name);
      defs[name] = {}; // placeholder: recursion stops here
      defs[name] = objectSchema(type);
    }
    return { $ref: `#/$defs/${name}` };
  }

  function schema(type) {
    if (type.flags & (F.Any | F.Unknown)) return {};
    if (type.flags & F.String) return { type: 'string' };
    if (type.flags & F.Number) return { type: 'number' };
    if (type.flags & F.Boolean) return { type: 'boolean' };
    if (type.flags & F.Null) return { type: 'null' };
    if (type.flags & F.StringLiteral) return { const: type.value };
    if (type.flags & F.NumberLiteral) return { const: type.value };
    if (type.flags & F.BooleanLiteral) return { const: type.intrinsicName === 'true' };
    if (type.flags & F.Union) return union(type.types);
    if (type.flags & F.Intersection) return objectSchema(type);
    if (checker.isTupleType(type)) {
      const items = checker.getTypeArguments(type).map(schema);
      return { type: 'array', prefixItems: items, minItems: items.length, maxItems: items.length };
    }
    if (checker.isArrayType(type) || checker.isArrayLikeType?.(type)) {
      const [item] = checker.getTypeArguments(type);
      return { type: 'array', items: item ? schema(item) : {} };
    }
    if (type.getSymbol()?.name === 'Date') return { type: 'string', format: 'date-time' };
    if (type.flags & F.Object) return defName(type) ? ref(type) : objectSchema(type);
    throw new Error(`${output.command}: cannot express ${checker.typeToString(type)} in JSON Schema`);
  }

  function union(members) {
    const kept = members.filter((m) => !(m.flags & (F.Undefined | F.Void)));
    const trueLit = kept.some((m) => m.flags & F.BooleanLiteral && m.intrinsicName === 'true');
    const falseLit = kept.some((m) => m.flags & F.BooleanLiteral && m.intrinsicName === 'false');
    let rest = kept;
    const parts = [];
    if (trueLit && falseLit) {
      rest = kept.filter((m) => !(m.flags & F.BooleanLiteral));
      parts.push({ type: 'boolean' });
    }
    const literals = rest.filter((m) => m.flags & F.StringLiteral);
    if (literals.length > 1) {
      parts.push({ enum: literals.map((m) => m.value) });
      rest = rest.filter((m) => !(m.flags & F.StringLiteral));
    }
    parts.push(...rest.map(schema));
    return parts.length === 1 ? parts[0] : { anyOf: parts };
  }

  function objectSchema(type) {
    const properties = {};
    const required = [];
    for (const prop of checker.getPropertiesOfType(type)) {
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      const propType = decl ? checker.getTypeOfSymbolAtLocation(prop, decl) : checker.getTypeOfSymbol(prop);
      if (propType.getCallSignatures().length) continue; // methods are not serialised
      properties[prop.name] = schema(propType);
      const doc = ts.displayPartsToString(prop.getDocumentationComment(checker)).trim();
      if (doc) properties[prop.name] = { description: doc.replace(/\s+/g, ' '), ...properties[prop.name] };
      const optional =
        prop.flags & ts.SymbolFlags.Optional ||
        (propType.flags & F.Union && propType.types.some((t) => t.flags & F.Undefined));
      if (!optional) required.push(prop.name);
    }
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    const out = { type: 'object', properties };
    if (required.length) out.required = required;
    out.additionalProperties = index ? schema(index.type) : false;
    return out;
  }

  const record = output.parts
    ? { anyOf: output.parts.map((p) => schema(findType(p.file, p.type))) }
    : schema(findType(output.file, output.type));
  // The CLI adds `schemaVersion` first in every record (src/core/json-record.ts).
  const versioned = (s) => {
    const target = s.$ref ? defs[s.$ref.slice('#/$defs/'.length)] : s;
    if (target.anyOf) return { anyOf: target.anyOf.map(versioned) };
    if (target.type !== 'object') throw new Error(`${output.command}: a record is not an object`);
    const props = { schemaVersion: { const: SCHEMA_VERSION }, ...target.properties };
    return { ...target, properties: props, required: ['schemaVersion', ...(target.required ?? [])] };
  };
  const top = versioned(record);
  const id = `https://github.com/dsguard/dsguard/schema/${output.command}.schema.json`;
  const description = output.description
    ? output.description
    : output.array
      ? `dsguard ${output.command} --format json: an array of records (--format ndjson: one record a line, $defs.record).`
      : `dsguard ${output.command} --format json: one object.`;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: id,
    title: `dsguard ${output.command} output, schema version ${SCHEMA_VERSION}`,
    description,
    ...(output.array ? { type: 'array', items: { $ref: '#/$defs/record' } } : { $ref: '#/$defs/record' }),
    $defs: { record: top, ...defs },
  };
}

export function buildSchemas() {
  return Object.fromEntries(OUTPUTS.map((o) => [o.command, generate(o)]));
}

const outDir = join(root, 'schema');
mkdirSync(outDir, { recursive: true });
for (const [command, s] of Object.entries(buildSchemas())) {
  writeFileSync(join(outDir, `${command}.schema.json`), `${JSON.stringify(s, null, 2)}\n`);
}
console.error(`build-schemas: ${OUTPUTS.length} schemas (version ${SCHEMA_VERSION}) in schema/`);
