/**
 * The architecture checks, as plain functions over a folder of TypeScript sources: what `src/core/` may not
 * touch (Node built-ins, the process, the clock, the console), the import graph and its cycles, and the
 * functions longer than a limit. The tests run them over `src/` and over small planted-violation trees, so
 * each check is shown to fail when it should.
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** Every `.ts` file under `root`, as sorted paths relative to `root` with `/` separators. */
export function listSources(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        out.push(relative(root, path).split(sep).join('/'));
      }
    }
  };
  walk(root);
  return out.sort();
}

function parse(root: string, file: string): ts.SourceFile {
  const text = readFileSync(join(root, file), 'utf8');
  return ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

function lineOf(source: ts.SourceFile, node: ts.Node): number {
  return source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
}

/** Module specifiers of a file: static imports and re-exports (type-only included) and literal `import()`. */
function moduleSpecifiers(source: ts.SourceFile): { specifier: string; line: number }[] {
  const out: { specifier: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      out.push({ specifier: node.moduleSpecifier.text, line: lineOf(source, node) });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      out.push({ specifier: node.moduleReference.expression.text, line: lineOf(source, node) });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      out.push({ specifier: node.arguments[0].text, line: lineOf(source, node) });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) out.push({ specifier: literal.text, line: lineOf(source, node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

export interface Violation {
  file: string;
  line: number;
  what: string;
}

const BUILTINS = new Set(builtinModules);
/** Globals that reach outside a pure function: the process (env, argv, exit), the console, the clock. */
const FORBIDDEN_GLOBALS = new Set(['process', 'console', 'performance']);

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0] ?? '');
}

/** Is this identifier a reference to a global (not a property name, a declaration or a label)? */
function isValueReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if (ts.isQualifiedName(parent) && parent.right === node) return false;
  if (
    (ts.isPropertyAssignment(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isMethodDeclaration(parent) ||
      ts.isMethodSignature(parent) ||
      ts.isGetAccessorDeclaration(parent) ||
      ts.isSetAccessorDeclaration(parent) ||
      ts.isEnumMember(parent)) &&
    parent.name === node
  ) {
    return false;
  }
  if (
    (ts.isVariableDeclaration(parent) ||
      ts.isParameter(parent) ||
      ts.isFunctionDeclaration(parent) ||
      ts.isClassDeclaration(parent) ||
      ts.isBindingElement(parent)) &&
    parent.name === node
  ) {
    return false;
  }
  if (ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent) || ts.isImportClause(parent)) return false;
  if (ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) return false;
  return true;
}

/**
 * What a pure file may not do: import a Node built-in (`node:fs`, `fs`, `worker_threads`…), refer to
 * `process`, `console` or `performance`, read the clock with `Date.now()` or `new Date()` (no argument).
 * `new Date(x)` is fine: it converts a value the caller passed in.
 */
export function findImpurities(root: string, files: readonly string[]): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const source = parse(root, file);
    for (const { specifier, line } of moduleSpecifiers(source)) {
      if (isBuiltin(specifier)) out.push({ file, line, what: `imports the Node built-in '${specifier}'` });
    }
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) && FORBIDDEN_GLOBALS.has(node.text) && isValueReference(node)) {
        out.push({ file, line: lineOf(source, node), what: `uses ${node.text}` });
      } else if (
        ts.isPropertyAccessExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'Date' &&
        node.name.text === 'now'
      ) {
        out.push({ file, line: lineOf(source, node), what: 'reads the clock (Date.now)' });
      } else if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'Date' &&
        (node.arguments === undefined || node.arguments.length === 0)
      ) {
        out.push({ file, line: lineOf(source, node), what: 'reads the clock (new Date())' });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

/** The local import graph: file → the files it imports (relative specifiers resolved, `.js` → `.ts`). */
export function importGraph(root: string, files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = new Set<string>();
    for (const { specifier } of moduleSpecifiers(parse(root, file))) {
      if (!specifier.startsWith('.')) continue;
      const absolute = resolve(root, dirname(file), specifier);
      const base = relative(root, absolute).split(sep).join('/');
      const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`];
      const target = candidates.find((c) => known.has(c));
      if (target !== undefined) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

export interface ImportCycle {
  /** Every file of the strongly connected component, sorted. */
  files: string[];
  /** One cycle through it, from its first file back to that file. */
  example: string[];
}

/**
 * The import cycles of a graph: each strongly connected component with more than one file (or a file that
 * imports itself), with its files and one cycle path through them.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): ImportCycle[] {
  // Tarjan's algorithm, iterative enough for a source tree (recursion depth = longest import chain).
  let index = 0;
  const indices = new Map<string, number>();
  const lowlink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string): void => {
    indices.set(v, index);
    lowlink.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        connect(w);
        lowlink.set(v, Math.min(lowlink.get(v)!, lowlink.get(w)!));
      } else if (onStack.has(w)) {
        lowlink.set(v, Math.min(lowlink.get(v)!, indices.get(w)!));
      }
    }
    if (lowlink.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = component.length === 1 && (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) connect(v);
  return components
    .map((files) => ({ files, example: cyclePath(graph, files) }))
    .sort((a, b) => a.files[0]!.localeCompare(b.files[0]!));
}

/** One cycle through a strongly connected component, by breadth-first search back to its first file. */
function cyclePath(graph: ReadonlyMap<string, readonly string[]>, component: readonly string[]): string[] {
  const members = new Set(component);
  const start = component[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = previous.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component, start];
}

export interface LongFunction {
  /** `file: name`, e.g. `ingest/ingest.ts: Ingestor.ingestFile`. */
  name: string;
  lines: number;
}

function functionName(node: ts.Node): string | null {
  const className = (n: ts.Node): string => {
    const cls = n.parent;
    return cls !== undefined && ts.isClassLike(cls) && cls.name !== undefined ? `${cls.name.text}.` : '';
  };
  if (ts.isFunctionDeclaration(node)) return node.name?.text ?? 'default';
  if (ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) {
    return `${className(node)}${node.name.getText()}`;
  }
  if (ts.isConstructorDeclaration(node)) return `${className(node)}constructor`;
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
    const parent = node.parent;
    if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
    if (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText();
    return null; // a callback: counted as part of the function that holds it
  }
  return null;
}

/** Named functions, methods and function-valued constants longer than `maxLines` lines (first to last line). */
export function findLongFunctions(root: string, files: readonly string[], maxLines: number): LongFunction[] {
  const out: LongFunction[] = [];
  for (const file of files) {
    const source = parse(root, file);
    const visit = (node: ts.Node): void => {
      const name = functionName(node);
      if (name !== null) {
        const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = last - first + 1;
        if (lines > maxLines) out.push({ name: `${file}: ${name}`, lines });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Files longer than `maxLines` lines. */
export function findLongFiles(root: string, files: readonly string[], maxLines: number): LongFunction[] {
  const out: LongFunction[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    if (lines > maxLines) out.push({ name: file, lines });
  }
  return out;
}

/** Every file that imports `specifier` (or a subpath of it), with the line. */
export function importersOf(root: string, files: readonly string[], specifier: string): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    for (const m of moduleSpecifiers(parse(root, file))) {
      if (m.specifier === specifier || m.specifier.startsWith(`${specifier}/`)) {
        out.push({ file, line: m.line, what: `imports '${m.specifier}'` });
      }
    }
  }
  return out;
}

/** What the CLI may test with `instanceof`: its own failure mechanism, and values that are not errors. */
const CLI_INSTANCEOF_ALLOWED = new Set([
  'Error',
  'UsageError',
  'CommandFailure',
  'CommanderError',
  'Array',
  'ArrayBuffer',
  'Buffer',
  'Date',
  'Map',
  'RegExp',
  'Set',
  'Uint8Array',
  'URL',
]);
/** String tests that read a message's text. */
const TEXT_TESTS = new Set(['startsWith', 'endsWith', 'includes', 'indexOf', 'match', 'search', 'test']);

/**
 * Where code tells errors apart other than by a Result's `kind`: `instanceof` an error class (anything but
 * the CLI's own `UsageError`/`CommandFailure`/`CommanderError`, plain `Error`, and values that are not
 * errors), or a test of an error's `.message` text (`===`, `startsWith`, `includes`, `match`, a regular
 * expression's `test`…). Reported as `file: Name` for classes and `file: message text` for text tests.
 */
export function findErrorTriage(root: string, files: readonly string[]): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const source = parse(root, file);
    const visit = (node: ts.Node): void => {
      if (
        ts.isBinaryExpression(node) &&
        node.operatorToken.kind === ts.SyntaxKind.InstanceOfKeyword &&
        ts.isIdentifier(node.right) &&
        !CLI_INSTANCEOF_ALLOWED.has(node.right.text)
      ) {
        out.push({ file, line: lineOf(source, node), what: node.right.text });
      } else if (ts.isPropertyAccessExpression(node) && node.name.text === 'message' && readsText(node)) {
        out.push({ file, line: lineOf(source, node), what: 'message text' });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

/** Is this `x.message` compared, searched or matched (rather than shown)? */
function readsText(message: ts.PropertyAccessExpression): boolean {
  let node: ts.Node = message;
  while (ts.isParenthesizedExpression(node.parent) || ts.isAsExpression(node.parent)) node = node.parent;
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.expression === node) return TEXT_TESTS.has(parent.name.text);
  if (ts.isBinaryExpression(parent)) {
    const op = parent.operatorToken.kind;
    return (
      op === ts.SyntaxKind.EqualsEqualsEqualsToken ||
      op === ts.SyntaxKind.ExclamationEqualsEqualsToken ||
      op === ts.SyntaxKind.EqualsEqualsToken ||
      op === ts.SyntaxKind.ExclamationEqualsToken
    );
  }
  if (ts.isCallExpression(parent) && parent.arguments.includes(node as ts.Expression)) {
    const callee = parent.expression;
    return ts.isPropertyAccessExpression(callee) && TEXT_TESTS.has(callee.name.text);
  }
  return false;
}
