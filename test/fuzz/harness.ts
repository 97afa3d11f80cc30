/**
 * The fuzz harness: seeds, mutating arbitraries and the bounded-work check shared by every parser's properties.
 *
 * - Deterministic by default (the CI run): a fixed seed and a small fixed number of runs. `npm run fuzz --
 *   --minutes N` (scripts/fuzz.mjs) sets DSGUARD_FUZZ_SEED and DSGUARD_FUZZ_RUNS to run the same properties
 *   longer, with new seeds, printing the seed of any failure so it can be replayed.
 * - Inputs are real-shaped seeds (test/fuzz/seeds/<parser>/, built by make-seeds.mjs) mutated by edits drawn
 *   from the characters parsers care about (quotes, delimiters, line ends, control and surrogate characters),
 *   and plain arbitrary strings.
 * - Bounded work is checked without any wall-clock threshold: a piece of a seed is repeated to make a small and
 *   a 16 times larger input, and the CPU time per input character of the large one must stay within a generous
 *   factor of the small one's (linear: about 1; quadratic: about 16). Times are the least of interleaved tries,
 *   so load on the machine moves both alike.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.DSGUARD_FUZZ_SEED ?? 20261207);
/** Runs of each "no exception escapes" property (sync parsers; async front doors run a quarter). */
export const FUZZ_RUNS = Number(process.env.DSGUARD_FUZZ_RUNS ?? 200);
/** Pumped inputs per parser for the bounded-work check. */
export const GROWTH_RUNS = Number(process.env.DSGUARD_FUZZ_GROWTH_RUNS ?? 3);

export function params(runs = FUZZ_RUNS): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(runs)), endOnFailure: true };
}

const SEEDS = 'test/fuzz/seeds';

export function seedBytes(parser: string): Buffer[] {
  const dir = join(SEEDS, parser);
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

export function seedTexts(parser: string, encoding: BufferEncoding = 'latin1'): string[] {
  return seedBytes(parser).map((b) => b.toString(encoding));
}

/** Pieces the parsers split or stop on, and characters that break naive code. */
const TRICKY = [
  '"',
  '""',
  "'",
  ',',
  ';',
  ':',
  '=',
  '\t',
  ' ',
  '\r',
  '\n',
  '\r\n',
  '\r\n ',
  '\n\n',
  '\0',
  '\x01',
  '\x0b',
  '\x1b[2J',
  '\x7f',
  '(',
  ')',
  '((',
  '<',
  '>',
  '[',
  ']',
  '{',
  '}',
  '\\',
  '/',
  '@',
  '.',
  '. ',
  '-',
  '--',
  '#',
  '%',
  '&',
  '*',
  '=?utf-8?B?',
  '?=',
  '<MEP Name="',
  '" />',
  '&amp;',
  'v=spf1 ',
  'include:',
  'redirect=',
  'p=',
  ';;;',
  '\u2019',
  '\u202e',
  '\u2028',
  '\ud800',
  '\udfff',
  '\ufeff',
  '\u00a0',
  'é',
  '🙂',
];

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);

interface Edit {
  at: number;
  cut: number;
  insert: string;
}

const edit: fc.Arbitrary<Edit> = fc.record({
  at: fc.nat(),
  cut: fc.oneof(fc.constant(0), fc.nat({ max: 8 }), fc.nat({ max: 400 })),
  insert: fc.oneof(
    piece,
    fc.array(piece, { maxLength: 6 }).map((a) => a.join('')),
  ),
});

function applyEdits(text: string, edits: readonly Edit[]): string {
  let t = text;
  for (const e of edits) {
    const at = t.length === 0 ? 0 : e.at % (t.length + 1);
    t = t.slice(0, at) + e.insert + t.slice(at + e.cut);
  }
  return t;
}

/** A seed with a few edits, a seed cut short, or an arbitrary string. */
export function mutant(seeds: readonly string[]): fc.Arbitrary<string> {
  const fromSeed = fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 8 }))
    .map(([i, edits]) => applyEdits(seeds[i]!, edits));
  const cut = fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.nat())
    .map(([i, at]) => seeds[i]!.slice(0, at % (seeds[i]!.length + 1)));
  return fc.oneof(
    { weight: 6, arbitrary: fromSeed },
    { weight: 1, arbitrary: cut },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  );
}

/** A seed with one piece of it (or a tricky piece) repeated `times` times in its place. */
export interface Pump {
  seed: string;
  at: number;
  piece: string;
}

export function pump(seeds: readonly string[]): fc.Arbitrary<Pump> {
  return fc
    .tuple(
      fc.nat({ max: seeds.length - 1 }),
      fc.nat(),
      fc.nat({ max: 40 }),
      fc.oneof(fc.constant(null), fc.constantFrom(...TRICKY), fc.array(fc.constantFrom(...TRICKY), { maxLength: 4 })),
    )
    .map(([i, at, len, tricky]) => {
      const seed = seeds[i]!;
      const start = seed.length === 0 ? 0 : at % seed.length;
      let p = tricky === null ? seed.slice(start, start + 1 + len) : Array.isArray(tricky) ? tricky.join('') : tricky;
      if (p.length === 0) p = '. ';
      return { seed, at: start, piece: p };
    });
}

export function pumped(p: Pump, chars: number): string {
  const times = Math.max(1, Math.ceil(chars / p.piece.length));
  return p.seed.slice(0, p.at) + p.piece.repeat(times) + p.seed.slice(p.at);
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** CPU microseconds per call of `fn`, averaged over `reps` calls. */
async function leastCpu(fn: () => unknown, reps: number): Promise<number> {
  const t0 = cpuMicros();
  for (let i = 0; i < reps; i++) await fn();
  return (cpuMicros() - t0) / reps;
}

/**
 * How much more CPU time per input character a 16 times larger pumped input costs than a small one: about 1
 * for linear work, about 16 for quadratic. Small: `base` pumped characters; large: 16 times that.
 */
export async function superlinearity(
  run: (input: string) => unknown,
  p: Pump,
  base = 4096,
): Promise<{ factor: number; small: number; large: number }> {
  const small = pumped(p, base);
  const large = pumped(p, base * 16);
  // Repetitions so that one try of the small input takes at least ~20 ms of CPU (rusage may count in ticks).
  let reps = 1;
  for (;;) {
    const t = await leastCpu(() => run(small), reps);
    if (t * reps >= 20_000 || reps >= 4096) break;
    reps *= 2;
  }
  const repsLarge = Math.max(1, Math.round(reps / 16));
  let tSmall = Number.POSITIVE_INFINITY;
  let tLarge = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    tSmall = Math.min(tSmall, await leastCpu(() => run(small), reps));
    tLarge = Math.min(tLarge, await leastCpu(() => run(large), repsLarge));
  }
  const perSmall = Math.max(tSmall, 1) / small.length;
  const perLarge = tLarge / large.length;
  return { factor: perLarge / perSmall, small: small.length, large: large.length };
}

/** The bound on {@link superlinearity}: generous for linear work under load, well under quadratic's 16. */
export const MAX_SUPERLINEARITY = 5;

/** Run `fn`, turning an escaped exception into a failure message naming the input's start. */
export function noThrow<T>(fn: () => T, input: string): T {
  try {
    return fn();
  } catch (error) {
    throw new Error(
      `exception escaped on input ${JSON.stringify(input.slice(0, 200))}…: ${(error as Error)?.stack ?? String(error)}`,
    );
  }
}
