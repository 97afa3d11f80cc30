/**
 * Readiness: can RejectDirectSend be enabled today, and if not, what is missing — per source, most important
 * first. Pure: the report hands in its weighed sources, the days the evidence covers and what the profile says.
 * Blocker codes DS900–DS929 are stable and documented in docs/findings.md (section "Readiness blockers").
 * @module
 */
import { RECURRING_DAYS, type SourceVerdict } from './weigh-source.js';

/** Days of evidence below which a weekly or monthly sender may be missing from the exports. */
export const MIN_COVERAGE_DAYS = 30;

export interface ReadinessCodeInfo {
  code: string;
  title: string;
  meaning: string;
  action: string;
}

/** Every readiness blocker code, in the order blockers are listed (most important first). */
export const READINESS_CODES = [
  {
    code: 'DS906',
    title: 'No evidence',
    meaning: 'The store holds no message (or none in the period): nothing tells what RejectDirectSend would break.',
    action:
      'Ingest 30 days or more of message trace, a historical search or EmailEvents (dsguard powershell prints the commands).',
  },
  {
    code: 'DS905',
    title: 'Assessed without a profile',
    meaning:
      'The rows were assessed (or the report was built) without a tenant profile: the accepted domains were guessed, so no source can be vouched for and every one is undetermined.',
    action:
      'Write dsguard.yml (tenant id, accepted domains, connectors), ingest again with --profile, and report with it.',
  },
  {
    code: 'DS903',
    title: 'Declared source without a connector',
    meaning:
      'A source the profile declares or the admin approved sends Direct Send and no connector in the profile covers its IPs: RejectDirectSend would reject its mail.',
    action:
      'Create its inbound connector (see the connector plan), add it to the profile, and let it soak: the source must be seen arriving through the connector before RejectDirectSend is enabled.',
  },
  {
    code: 'DS900',
    title: 'Likely legitimate source not confirmed',
    meaning:
      'The evidence says this source is a regular sender of yours (authentication passes, it recurs, a small sender set…), but nobody has confirmed it: RejectDirectSend would reject its mail.',
    action: 'dsguard sources approve <id> --name … --owner … (then plan its connector), or dsguard sources deny <id>.',
  },
  {
    code: 'DS901',
    title: 'Recurring suspicious source not confirmed',
    meaning:
      'A suspicious source sent Direct Send on two or more days: a regular sender with a fault (SPF not covering a SaaS) looks like this as much as an attacker does.',
    action: 'Find out who sends it; then dsguard sources approve <id> (and a connector) or dsguard sources deny <id>.',
  },
  {
    code: 'DS902',
    title: 'Recurring undetermined source',
    meaning:
      'A source whose evidence decides nothing sent on two or more days (often message trace rows only, which cannot tell Direct Send from authenticated mail).',
    action:
      'Ingest richer data for it (EmailEvents, trace detail, historical search) or decide: dsguard sources approve|deny <id>.',
  },
  {
    code: 'DS904',
    title: 'Evidence covers fewer than 30 days',
    meaning:
      'From the earliest to the latest day in the ingested exports is less than 30 days (gaps listed): a source that sends weekly or monthly (payroll, invoices, reports) may not be in them.',
    action: 'Ingest older or newer exports (a historical search reaches 90 days back) and fill the gaps.',
  },
] as const satisfies readonly ReadinessCodeInfo[];

export type ReadinessCode = (typeof READINESS_CODES)[number]['code'];

export interface ReadinessBlocker {
  code: ReadinessCode;
  text: string;
  sourceIds?: string[];
}

export interface Coverage {
  first: string;
  last: string;
  /** Days from first to last, both included. */
  span: number;
  /** Days in the span that hold no message at all, as ranges. */
  gaps: { from: string; to: string; days: number }[];
}

export interface Readiness {
  ready: boolean;
  blockers: ReadinessBlocker[];
  coverage: Coverage | null;
  /** Rows the export readers rejected, per file: never counted in any source (item of evidence quality). */
  rejectedRows: { file: string; rejected: number }[];
}

/** What readiness needs to know of one weighed source. */
export interface ReadinessSource {
  id: string;
  label: string;
  verdict: SourceVerdict;
  confirmed: boolean;
  decision: 'declared' | 'approved' | 'denied' | null;
  /** Distinct days seen. */
  days: number;
  /** Direct Send deliveries (proven and inferred). */
  directSend: number;
  /** Internal-to-internal summary rows that may be Direct Send. */
  undetermined: number;
  /** Whether a connector in the profile covers every IP of it. */
  hasConnector: boolean;
  /** Whether its connecting IP is known (without one it can only be told apart by richer data, not decided). */
  ipKnown?: boolean;
}

export interface ReadinessInput {
  /** The report was built with a profile. */
  profile: boolean;
  /** The stored rows were assessed without a profile. */
  rowsWithoutProfile: boolean;
  messages: number;
  /** Days (YYYY-MM-DD, sorted) that hold at least one message. */
  days: readonly string[];
  sources: readonly ReadinessSource[];
  rejectedRows: readonly { file: string; rejected: number }[];
}

const DAY_MS = 86_400_000;

function dayNumber(day: string): number {
  return Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY_MS);
}

function dayString(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

export function coverageOf(days: readonly string[]): Coverage | null {
  if (days.length === 0) return null;
  const nums = [...new Set(days.map(dayNumber))].sort((a, b) => a - b);
  const first = nums[0]!;
  const last = nums[nums.length - 1]!;
  const gaps: Coverage['gaps'] = [];
  for (let i = 1; i < nums.length; i++) {
    const a = nums[i - 1]!;
    const b = nums[i]!;
    if (b - a > 1) gaps.push({ from: dayString(a + 1), to: dayString(b - 1), days: b - a - 1 });
  }
  return { first: dayString(first), last: dayString(last), span: last - first + 1, gaps };
}

const ORDER = new Map<string, number>(READINESS_CODES.map((c, i) => [c.code, i]));

/** Sources RejectDirectSend can affect: Direct Send, or internal mail that may be. */
function affected(s: ReadinessSource): boolean {
  return s.directSend > 0 || s.undetermined > 0;
}

function perSource(s: ReadinessSource): ReadinessBlocker | null {
  const mail = `${s.directSend} Direct Send${s.undetermined > 0 ? ` + ${s.undetermined} undetermined` : ''} message(s) on ${s.days} day(s)`;
  const who = `${s.id} ${s.label}`;
  const one = (code: ReadinessCode, text: string): ReadinessBlocker => ({ code, text, sourceIds: [s.id] });
  if ((s.decision === 'declared' || s.decision === 'approved') && s.verdict === 'legitimate') {
    if (s.hasConnector || s.directSend + s.undetermined === 0) return null;
    return one(
      'DS903',
      `${who} (${s.decision}, ${mail}) has no connector yet: create it from the connector plan, add it to the profile and wait until the source is seen arriving through it`,
    );
  }
  if (s.confirmed || !affected(s)) return null;
  const approve = `dsguard sources approve ${s.id} --name …`;
  if (s.verdict === 'likely-legitimate') {
    return one(
      'DS900',
      `${who} is likely legitimate (${mail}), unconfirmed: RejectDirectSend would reject its mail. Confirm it (${approve}) or deny it (dsguard sources deny ${s.id})`,
    );
  }
  if (s.verdict === 'suspicious' && s.days >= RECURRING_DAYS) {
    return one(
      'DS901',
      `${who} is suspicious but recurring (${mail}): find out who sends it, then ${approve} or dsguard sources deny ${s.id}`,
    );
  }
  if (s.verdict === 'undetermined' && s.days >= RECURRING_DAYS) {
    const decide = s.ipKnown === false ? '' : `, or decide (${approve} | dsguard sources deny ${s.id})`;
    return one(
      'DS902',
      `${who} is undetermined and recurring (${mail}): ingest EmailEvents or trace detail for it${decide}`,
    );
  }
  return null;
}

/** Whether RejectDirectSend can be enabled now, and every blocker, most important first. */
export function assessReadiness(input: ReadinessInput): Readiness {
  const blockers: ReadinessBlocker[] = [];
  const coverage = coverageOf(input.days);
  if (input.messages === 0) {
    blockers.push({
      code: 'DS906',
      text: 'The store holds no message: nothing tells what RejectDirectSend would break. Ingest 30 days or more of exports first.',
    });
  }
  if (!input.profile || input.rowsWithoutProfile) {
    blockers.push({
      code: 'DS905',
      text: input.profile
        ? 'The stored rows were assessed without a profile: ingest them again with --profile so sources can be weighed.'
        : 'No profile: the accepted domains are guessed, so no source can be vouched for. Report with --profile dsguard.yml.',
    });
  }
  const ranked = input.sources.map(perSource).filter((b): b is ReadinessBlocker => b !== null);
  const messagesOf = new Map(input.sources.map((s) => [s.id, s.directSend + s.undetermined]));
  ranked.sort(
    (a, b) =>
      ORDER.get(a.code)! - ORDER.get(b.code)! ||
      (messagesOf.get(b.sourceIds![0]!) ?? 0) - (messagesOf.get(a.sourceIds![0]!) ?? 0) ||
      a.sourceIds![0]!.localeCompare(b.sourceIds![0]!, 'en', { numeric: true }),
  );
  blockers.push(...ranked);
  if (coverage && coverage.span < MIN_COVERAGE_DAYS) {
    const gaps = coverage.gaps.map((g) => (g.days === 1 ? g.from : `${g.from} to ${g.to}`));
    blockers.push({
      code: 'DS904',
      text: `The evidence covers ${coverage.span} day(s) (${coverage.first} to ${coverage.last}${gaps.length > 0 ? `; no data on ${gaps.join(', ')}` : ''}): cover ${MIN_COVERAGE_DAYS} days or more (a historical search reaches 90 days back)`,
    });
  }
  blockers.sort((a, b) => ORDER.get(a.code)! - ORDER.get(b.code)!);
  return {
    ready: blockers.length === 0,
    blockers,
    coverage,
    rejectedRows: input.rejectedRows.filter((r) => r.rejected > 0).map((r) => ({ ...r })),
  };
}
