/**
 * Every value dsguard puts into a command, checked by tokenizers of the shells' own quoting rules (written in
 * quote-tokenizers.ts from PowerShell's tokenizer and POSIX sh): hostile vectors in addresses, names, subjects
 * and paths either come out as exactly one literal holding exactly the value, or are withheld and the command is
 * a comment. The same checks run against planted regressions to show they can fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shCommand, shLiteral } from '../../src/core/quote/posix.js';
import { psCommand, psLiteral } from '../../src/core/quote/powershell.js';
import { checkValue, type ValueKind } from '../../src/core/quote/values.js';
import { collectionScript } from '../../src/report/tenant-report-powershell.js';
import { PS_QUOTES, psProblems, psTokens, shProblems, shTokens } from './quote-tokenizers.js';

const QUOTES = ["'", '\u2018', '\u2019', '\u201a', '\u201b', '"', '\u201c', '\u201d', '\u201e', '`'];
/** Pieces an attacker puts in a value to break out of a literal. */
const PAYLOADS = [
  ...QUOTES.map((q) => `${q}; calc; ${q}`),
  ...QUOTES.map((q) => `x${q}${q}${q}y`),
  '$(Remove-Item -Recurse C:\\)',
  '`$(calc)`',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a PowerShell variable, on purpose
  '${env:PATH}',
  '@(1)',
  'a;b',
  'a&b',
  'a&&calc',
  'a|calc',
  'a\ncalc',
  'a\r\ncalc',
  'a\u0085calc',
  'a\u2028calc',
  'a\u202ecalc',
  '#comment',
  '<x>',
  '%PATH%',
  'a\\',
  "'\\''",
];

/** Hostile values of each kind dsguard prints. */
const VECTORS: { kind: ValueKind; value: string }[] = [
  ...PAYLOADS.map((p) => ({ kind: 'address' as const, value: `a${p}b@contoso.com` })),
  ...PAYLOADS.map((p) => ({ kind: 'address' as const, value: `scan@con${p}toso.com` })),
  { kind: 'address', value: "o'brien@contoso.com" },
  { kind: 'address', value: 'a&b$c`d{e}|f@contoso.com' },
  { kind: 'address', value: "a'''b@contoso.com" },
  ...PAYLOADS.map((p) => ({ kind: 'name' as const, value: `MFP ${p} 2nd floor` })),
  ...PAYLOADS.map((p) => ({ kind: 'text' as const, value: `Invoice ${p} due` })),
  ...PAYLOADS.map((p) => ({ kind: 'path' as const, value: `C:\\exports\\${p}` })),
  ...PAYLOADS.map((p) => ({ kind: 'domain' as const, value: `contoso${p}.com` })),
  ...PAYLOADS.map((p) => ({ kind: 'ipv4-range' as const, value: `198.51.100.20${p}` })),
];

describe('PowerShell single-quoted literals', () => {
  it('hold every string verbatim, quote-like characters included', () => {
    for (const v of [...PAYLOADS, ...QUOTES, "''", '\u2019\u2019', "'\u2019", '']) {
      const tokens = psTokens(psLiteral(v));
      expect(tokens, JSON.stringify(v)).toEqual([{ kind: 'string', value: v }]);
    }
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...QUOTES, 'a', ' ', '$', '(', ';', '\n') }), (v) => {
        expect(psTokens(psLiteral(v))).toEqual([{ kind: 'string', value: v }]);
      }),
    );
  });

  it('POSIX single-quoted words hold every string verbatim', () => {
    for (const v of [...PAYLOADS, ...QUOTES]) {
      expect(shTokens(shLiteral(v)), JSON.stringify(v)).toEqual([{ kind: 'string', value: v }]);
    }
  });
});

describe('commands carry a checked value or withhold it', () => {
  it('PowerShell: each vector is one exact literal, or the command is a comment with the reason', () => {
    let quoted = 0;
    let withheld = 0;
    for (const v of VECTORS) {
      const c = psCommand('New-InboundConnector', [
        ['Name', { kind: 'name', value: 'dsguard x' }],
        ['Comment', { kind: v.kind, value: v.value }],
        ['RequireTls', { bool: false }],
      ]);
      if (checkValue(v.kind, v.value).ok) {
        quoted++;
        expect(c.withheld, v.value).toEqual([]);
        expect(psProblems(c.text, ['dsguard x', v.value]), v.value).toEqual([]);
      } else {
        withheld++;
        expect(c.text.startsWith('# '), v.value).toBe(true);
        expect(c.text).toContain('<withheld: ');
        expect(c.withheld.length).toBe(1);
        expect(psProblems(c.text, null), v.value).toEqual([]);
      }
    }
    // Both paths are exercised.
    expect(quoted).toBeGreaterThan(20);
    expect(withheld).toBeGreaterThan(50);
  });

  it('POSIX sh: the same', () => {
    for (const v of VECTORS) {
      const c = shCommand('dsguard', ['probe', 'contoso.com', '--to', { kind: v.kind, value: v.value }]);
      if (checkValue(v.kind, v.value).ok) expect(shProblems(c.text, [v.value]), v.value).toEqual([]);
      else {
        expect(c.text.startsWith('# '), v.value).toBe(true);
        expect(shProblems(c.text, null)).toEqual([]);
      }
    }
  });

  it('withholds what is not plain ASCII or not of its kind, and says why', () => {
    const reason = (k: ValueKind, v: string) => {
      const c = checkValue(k, v);
      return c.ok ? 'ok' : c.reason;
    };
    expect(reason('address', "o'brien@contoso.com")).toBe('ok');
    expect(reason('address', 'o\u2019brien@contoso.com')).toBe('not plain ASCII');
    expect(reason('address', '"a b"@contoso.com')).toBe('address outside dot-atom');
    expect(reason('address', 'a\n@contoso.com')).toBe('control character');
    expect(reason('name', "Contoso's lab")).toBe('name with a quote character');
    expect(reason('domain', 'xn--bcher-kva.example')).toBe('ok');
    expect(reason('domain', 'bücher.example')).toBe('not plain ASCII');
    expect(reason('ipv4-range', '198.51.100.0/16')).toBe('range wider than /24 (connectors take /24 to /32)');
    expect(reason('ipv4-range', '198.51.100.0/24')).toBe('ok');
    expect(reason('ipv4', '2001:db8::1')).toBe('not an IPv4 address');
  });

  it('the collection script withholds a hostile path or address, and says it cannot run', () => {
    const ps = collectionScript({
      tenantName: 'Contoso',
      domains: ['contoso.com'],
      days: 30,
      notifyAddress: 'admin\u2019; calc; \u2019@contoso.com',
      outDir: "C:\\x'; calc; '",
    });
    expect(ps.split('\n')[0]).toMatch(
      /^# NOT RUNNABLE: value\(s\) withheld \(not plain ASCII; path with a quote character\)/,
    );
    expect(ps).toContain('$OutDir = <withheld: path with a quote character>');
    expect(ps).not.toContain('calc');
    const ok = collectionScript({
      tenantName: null,
      domains: ['contoso.com'],
      days: 30,
      notifyAddress: "o'brien@contoso.com",
      outDir: 'C:\\exports & more\\$(x)',
    });
    const line = (prefix: string) => ok.split('\n').find((l) => l.startsWith(prefix))!;
    expect(psProblems(line('$OutDir = ').replace(/^\$OutDir = /, ''), ['C:\\exports & more\\$(x)'])).toEqual([]);
    expect(line('  -ConnectorType NoConnector')).toContain("-NotifyAddress 'o''brien@contoso.com'");
  });
});

describe('the checks fail on planted regressions', () => {
  // A quoting function as it could regress: U+2019 not doubled (only ASCII ' handled).
  const asciiOnlyPs = (v: string) => `'${v.replace(/'/g, "''")}'`;
  // A POSIX quoting that escapes with a backslash inside the quotes (what PowerShell or sh do not honour).
  const backslashSh = (v: string) => `'${v.replace(/'/g, "\\'")}'`;

  it('a PowerShell literal that does not double U+2019 lets the value out', () => {
    const bad = PAYLOADS.filter((p) => psProblems(`Set-X -Comment ${asciiOnlyPs(p)}`, [p]).length > 0);
    expect(bad).toContain('\u2019; calc; \u2019');
    expect(psProblems(`Set-X -Comment ${asciiOnlyPs('\u2019; calc; \u2019')}`, ['\u2019; calc; \u2019'])).toContain(
      'active token outside quotes: ;',
    );
    // The real one passes the same check.
    for (const p of PAYLOADS) expect(psProblems(`Set-X -Comment ${psLiteral(p)}`, [p]), p).toEqual([]);
    for (const q of PS_QUOTES)
      expect(psProblems(`Set-X -Comment ${psLiteral(`${q};calc`)}`, [`${q};calc`])).toEqual([]);
  });

  it('a POSIX word with a backslash-escaped quote lets the value out', () => {
    expect(
      shProblems(`dsguard probe --to ${backslashSh("a';calc;'@x.com")}`, ["a';calc;'@x.com"]).length,
    ).toBeGreaterThan(0);
    expect(shProblems(`dsguard probe --to ${shLiteral("a';calc;'@x.com")}`, ["a';calc;'@x.com"])).toEqual([]);
  });

  it('PowerShell context with POSIX quoting (the old probe line) is caught', () => {
    // What issue #14 found: '\'' does not escape in PowerShell, so ;calc; lands outside the quotes.
    const posixInPs = `dsguard probe 'contoso.com' --to ${shLiteral("a';calc;'@contoso.com")}`;
    expect(psProblems(posixInPs, null)).toContain('active token outside quotes: ;');
  });
});
