/**
 * One Direct Send source (a printer, an app, an attacker) weighed into one verdict by the weight of its evidence —
 * never the worst verdict of its rows. Pure: the report hands in what the store knows about the source (finding
 * codes per message, days, senders, subjects, hours of arrival, the profile's word on it) and gets back the verdict
 * with every signal that decided it, each citing rows. The table of signals is documented in docs/sources.md.
 *
 * - Evidence for legitimacy: authentication that passes for the sender's domain, recurrence over days, a small
 *   stable sender set, templated subjects, a business-hours rhythm, the home country.
 * - Evidence against; each one *vetoes* legitimacy: script fingerprints, a loopback/private HELO from a public IP,
 *   lure language, self-sent mail, many senders spoofed from one IP, a hosting/VPN network abroad, campaign
 *   indicators (Exchange's phish verdict, forged authentication results, a known campaign address).
 * - Rows without authentication data (message trace, historical search) are neutral: they neither help nor hurt.
 * @module
 */
import { ipKind, looksLikeIp } from '../net-address.js';

export type SourceVerdict = 'legitimate' | 'likely-legitimate' | 'suspicious' | 'malicious' | 'undetermined';

export const SOURCE_VERDICTS: readonly SourceVerdict[] = [
  'malicious',
  'suspicious',
  'undetermined',
  'likely-legitimate',
  'legitimate',
];

/** A row that shows a signal: the export file and its row number. */
export interface RowRef {
  file: string;
  row: number;
}

/** Which way a signal pulls. `veto`: rules legitimacy out whatever else is seen. */
export type SignalEffect = 'for' | 'against' | 'veto' | 'neutral' | 'decision';

export type SignalId =
  | 'declared'
  | 'approved'
  | 'denied'
  | 'no-profile'
  | 'auth-pass'
  | 'auth-fail'
  | 'no-auth-data'
  | 'spoof-flagged'
  | 'recurring'
  | 'stable-senders'
  | 'templated-subjects'
  | 'business-hours'
  | 'home-country'
  | 'script-client'
  | 'private-helo'
  | 'lure'
  | 'self-sent'
  | 'many-senders'
  | 'hosting-abroad'
  | 'campaign';

export interface SourceSignal {
  signal: SignalId;
  effect: SignalEffect;
  /** Plain words: what was seen, with counts. */
  text: string;
  /** Messages that show it (0 for signals of the whole source, such as recurrence). */
  messages: number;
  /** Finding codes behind it, if any. */
  codes: string[];
  /** Example rows (file and row) that show it. */
  rows: RowRef[];
}

export interface SourceFacts {
  ips: readonly string[];
  helos: readonly string[];
  /** Distinct envelope senders (P1) over all its rows (at least that many when `sendersCapped`). */
  senderCount: number;
  /** The sender list was capped: there are `senderCount` or more. */
  sendersCapped?: boolean;
  /** Distinct recipients. */
  recipients: number;
  messages: number;
  /** Distinct days (YYYY-MM-DD) it sent on. */
  days: readonly string[];
  /** Finding code → messages that carry it. */
  codes: ReadonlyMap<string, number>;
  /** Finding code → first rows that carry it (for the explanation). */
  codeRows: ReadonlyMap<string, readonly RowRef[]>;
  /** Subjects with their message counts (may be a capped list: `subjectRows` counts every row with a subject). */
  subjects: readonly { subject: string; messages: number }[];
  subjectRows: number;
  /** Messages received on a weekday between 06:00 and 19:59 UTC, of `hoursTotal`. */
  businessHours: number;
  hoursTotal: number;
  /** Sample rows of the source (for signals of the whole source). */
  examples: readonly RowRef[];
  /** The profile's word on it: a `directSendSources` entry (declared or approved) or a `deniedSources` one. */
  decision: { kind: 'declared' | 'approved' | 'denied'; name: string; owner: string | null } | null;
  /** Whether the rows were assessed with a profile (without one, no source is called (likely) legitimate). */
  profile: boolean;
  /** Whether the profile names home countries (else the home-country signal cannot fire). */
  homeCountries: boolean;
}

export interface SourceWeighing {
  verdict: SourceVerdict;
  /** The admin has decided on it (declared, approved or denied in the profile). */
  confirmed: boolean;
  /** For minus against (vetoes not counted): how strongly the evidence leans, for the explanation only. */
  score: number;
  signals: SourceSignal[];
  /** One line: why this verdict. */
  summary: string;
}

/** Finding codes read as signals (see docs/findings.md for each). */
export const SIGNAL_CODES = {
  authPass: ['DS208', 'DS603', 'DS605'],
  authFail: ['DS201', 'DS203', 'DS205'],
  spoofFlagged: ['DS204', 'DS206', 'DS207'],
  script: ['DS302', 'DS303', 'DS304', 'DS305'],
  privateHelo: ['DS506'],
  lure: ['DS401', 'DS402', 'DS403', 'DS404'],
  selfSent: ['DS301'],
  abroad: ['DS502'],
  hosting: ['DS503', 'DS504'],
  campaign: ['DS209', 'DS115', 'DS507'],
  origin: ['DS501'],
} as const;

/** Days a source must be seen on to count as recurring (readiness uses the same number). */
export const RECURRING_DAYS = 2;
/** Days that make recurrence evidence of a regular sender. */
const REGULAR_DAYS = 3;
/** At most this many distinct senders is a small, stable set. */
const STABLE_SENDERS = 3;
/** From this many distinct internal senders, one IP is spoofing many (when they are not a stable set). */
const MANY_SENDERS = 8;
/** Share of messages in business hours that makes a rhythm. */
const BUSINESS_SHARE = 0.8;
/** Subject shapes (digits and hex runs folded) at most this many, over at least TEMPLATE_ROWS rows: templated. */
const TEMPLATE_SHAPES = 3;
const TEMPLATE_ROWS = 3;
const ROWS_CITED = 3;
/** Lures to at least this many recipients within BURST_DAYS days: a campaign. */
const BURST_RECIPIENTS = 5;
const BURST_DAYS = 3;

/** A subject with its variable parts folded, so `Scan 0042 from MFP` and `Scan 0043 from MFP` are one shape. */
export function subjectShape(subject: string): string {
  return subject
    .toLowerCase()
    .replace(/[0-9a-f]*[0-9][0-9a-f]*/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Messages that carry at least one of the codes, as near as per-code counts tell: the largest count (codes of one
 * kind, such as SPF and DMARC failing, mostly fire on the same messages; a sum would count a message twice).
 */
function most(codes: ReadonlyMap<string, number>, list: readonly string[]): number {
  let n = 0;
  for (const c of list) n = Math.max(n, codes.get(c) ?? 0);
  return n;
}

function fired(codes: ReadonlyMap<string, number>, list: readonly string[]): string[] {
  return list.filter((c) => (codes.get(c) ?? 0) > 0);
}

function rowsOf(f: SourceFacts, codes: readonly string[]): RowRef[] {
  const out: RowRef[] = [];
  const seen = new Set<string>();
  for (const c of codes) {
    for (const r of f.codeRows.get(c) ?? []) {
      const k = `${r.file}\u0001${r.row}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(r);
      if (out.length >= ROWS_CITED) return out;
    }
  }
  return out;
}

function subjectShapes(f: SourceFacts): number {
  return new Set(f.subjects.map((s) => subjectShape(s.subject))).size;
}

/** Few subject shapes over enough messages. */
function templated(f: SourceFacts): boolean {
  return f.subjectRows >= TEMPLATE_ROWS && f.subjects.length > 0 && subjectShapes(f) <= TEMPLATE_SHAPES;
}

/** A HELO that is a loopback or private address literal, from a public connecting IP. */
function privateHelo(f: SourceFacts): string | null {
  if (!f.ips.some((ip) => ipKind(ip) === 'public')) return null;
  for (const h of f.helos) {
    const literal = looksLikeIp(h);
    const kind = literal ? ipKind(literal) : h.toLowerCase() === 'localhost' ? 'loopback' : null;
    if (kind === 'loopback' || kind === 'private' || kind === 'link-local') return h;
  }
  return null;
}

/** Adds one signal (its rows: the first that carry its codes, unless given). */
type AddSignal = (
  signal: SignalId,
  effect: SignalEffect,
  text: string,
  messages: number,
  codes: readonly string[],
  rows?: RowRef[],
) => void;

/** The profile's word on the source, and whether there was a profile at all. */
function decisionSignals(f: SourceFacts, add: AddSignal): void {
  if (f.decision) {
    const d = f.decision;
    const who = d.owner ? ` (owner ${d.owner})` : '';
    const text =
      d.kind === 'denied'
        ? `denied in the profile as "${d.name}": the admin says it is not a legitimate sender`
        : d.kind === 'approved'
          ? `approved in the profile as "${d.name}"${who}`
          : `declared in the profile as "${d.name}"${who}`;
    add(d.kind, 'decision', text, f.messages, [], []);
  }
  if (!f.profile) {
    add('no-profile', 'neutral', 'its rows were assessed without a profile: no sender can be vouched for', 0, [], []);
  }
}

/** The signals that each veto legitimacy. `whole`: rows cited for signals of the whole source. */
function vetoSignals(f: SourceFacts, add: AddSignal, whole: RowRef[]): void {
  // Vetoes.
  const script = fired(f.codes, SIGNAL_CODES.script);
  if (script.length > 0) {
    add(
      'script-client',
      'veto',
      `a script or command-line mail client (${script.join(', ')})`,
      most(f.codes, script),
      script,
    );
  }
  const helo = privateHelo(f);
  const heloCodes = fired(f.codes, SIGNAL_CODES.privateHelo);
  if (helo !== null || heloCodes.length > 0) {
    add(
      'private-helo',
      'veto',
      `a loopback or private HELO${helo ? ` (${helo})` : ''} from a public address`,
      most(f.codes, heloCodes),
      heloCodes,
      heloCodes.length > 0 ? undefined : whole,
    );
  }
  // Authentication passes for the sender's domain on most of its messages, and fails on none.
  const authPassing =
    most(f.codes, SIGNAL_CODES.authPass) * 2 > f.messages && most(f.codes, SIGNAL_CODES.authFail) === 0;
  // Many senders from one source are spoofed in turn, unless the domain authorises the source (an app that sends
  // as each of its users from an IP in your SPF record).
  const manySpoofed = f.senderCount >= MANY_SENDERS && !authPassing;
  const lure = fired(f.codes, SIGNAL_CODES.lure);
  if (lure.length > 0) {
    // A lure word alone (DS401: "invoice", "purchase order") in mail that passes authentication for the sender's
    // domain on most of its messages, and fails it on none, is a business subject: weighed against, not a veto.
    // Lure attachments always veto, and so does a lure word in mail that is not authenticated or shows any other
    // intent signal (an SPF pass through an over-broad include does not excuse a self-sent fax lure).
    const wordOnly = lure.length === 1 && lure[0] === 'DS401';
    const otherIntent =
      script.length > 0 ||
      helo !== null ||
      heloCodes.length > 0 ||
      fired(f.codes, SIGNAL_CODES.selfSent).length > 0 ||
      manySpoofed ||
      fired(f.codes, SIGNAL_CODES.campaign).length > 0;
    const soft = wordOnly && authPassing && !otherIntent;
    add(
      'lure',
      soft ? 'against' : 'veto',
      soft
        ? 'lure words in the subjects of authenticated mail (a business subject such as an invoice or order?)'
        : `lure language or attachments (${lure.join(', ')})`,
      most(f.codes, lure),
      lure,
    );
  }
  const self = fired(f.codes, SIGNAL_CODES.selfSent);
  if (self.length > 0) {
    add('self-sent', 'veto', 'messages sent to their own sender', most(f.codes, self), self);
  }
  if (manySpoofed) {
    add(
      'many-senders',
      'veto',
      `${f.senderCount}${f.sendersCapped ? ' or more' : ''} different envelope senders from one source: addresses spoofed in turn`,
      f.messages,
      [],
      whole,
    );
  }
  const abroad = fired(f.codes, SIGNAL_CODES.abroad);
  const hosting = fired(f.codes, SIGNAL_CODES.hosting);
  if (abroad.length > 0 && hosting.length > 0) {
    add(
      'hosting-abroad',
      'veto',
      'a hosting or VPN network outside the home countries',
      Math.min(most(f.codes, abroad), most(f.codes, hosting)),
      [...hosting, ...abroad],
    );
  }
  const campaign = fired(f.codes, SIGNAL_CODES.campaign);
  if (lure.length > 0 && f.recipients >= BURST_RECIPIENTS && f.days.length <= BURST_DAYS) {
    add(
      'campaign',
      'veto',
      `a burst of lures: ${f.recipients} recipients within ${f.days.length} day(s)`,
      most(f.codes, lure),
      lure,
    );
  }
  if (campaign.length > 0) {
    add(
      'campaign',
      'veto',
      `campaign indicators (${campaign.join(', ')}: Exchange's phish verdict, forged results or a known campaign address)`,
      most(f.codes, campaign),
      campaign,
    );
  }
}

/** Authentication (rows without it are neutral) and behaviour: the evidence for and against. */
function evidenceSignals(f: SourceFacts, add: AddSignal, whole: RowRef[]): void {
  // Authentication: only rows that carry it count; the others are neutral.
  const pass = fired(f.codes, SIGNAL_CODES.authPass);
  const fail = fired(f.codes, SIGNAL_CODES.authFail);
  const passN = most(f.codes, pass);
  const failN = most(f.codes, fail);
  if (failN > passN) {
    add('auth-fail', 'against', `authentication fails for the sender's domain on ${failN} message(s)`, failN, fail);
  } else if (passN > 0) {
    add('auth-pass', 'for', `authentication passes for the sender's domain on ${passN} message(s)`, passN, pass);
  }
  const spoof = fired(f.codes, SIGNAL_CODES.spoofFlagged);
  if (spoof.length > 0) {
    add('spoof-flagged', 'against', `Exchange flagged a spoof (${spoof.join(', ')})`, most(f.codes, spoof), spoof);
  }

  // Behaviour.
  if (f.days.length >= REGULAR_DAYS) {
    add(
      'recurring',
      'for',
      `seen on ${f.days.length} different days (${f.days[0]} to ${f.days[f.days.length - 1]})`,
      f.messages,
      [],
      whole,
    );
  }
  if (f.senderCount > 0 && f.senderCount <= STABLE_SENDERS && f.messages >= 2) {
    add('stable-senders', 'for', `a small, stable sender set (${f.senderCount})`, f.messages, [], whole);
  }
  if (templated(f)) {
    add(
      'templated-subjects',
      'for',
      `templated subjects (${subjectShapes(f)} pattern(s) over ${f.subjectRows} message(s))`,
      f.subjectRows,
      [],
      whole,
    );
  }
  if (f.hoursTotal >= TEMPLATE_ROWS && f.businessHours >= BUSINESS_SHARE * f.hoursTotal) {
    add(
      'business-hours',
      'for',
      `a business-hours rhythm (${f.businessHours} of ${f.hoursTotal} on weekdays 06:00–20:00 UTC)`,
      f.businessHours,
      [],
      whole,
    );
  }
  const abroad = fired(f.codes, SIGNAL_CODES.abroad);
  const origin = fired(f.codes, SIGNAL_CODES.origin);
  if (f.homeCountries && origin.length > 0 && abroad.length === 0) {
    add('home-country', 'for', 'sent from a home country', most(f.codes, origin), origin);
  }
  const withAuth = Math.min(f.messages, passN + failN);
  if (withAuth < f.messages) {
    add(
      'no-auth-data',
      'neutral',
      `${f.messages - withAuth} message(s) come from rows without authentication data (trace or historical summaries): neutral`,
      f.messages - withAuth,
      [],
      [],
    );
  }
}

/** The signals of a source, in a fixed order: decision, vetoes, against, for, neutral. */
export function sourceSignals(f: SourceFacts): SourceSignal[] {
  const out: SourceSignal[] = [];
  const add: AddSignal = (signal, effect, text, messages, codes, rows) =>
    out.push({ signal, effect, text, messages, codes: [...codes], rows: rows ?? rowsOf(f, codes) });
  const whole = f.examples.slice(0, ROWS_CITED);
  decisionSignals(f, add);
  vetoSignals(f, add, whole);
  evidenceSignals(f, add, whole);
  return out;
}

const WEIGHT: Partial<Record<SignalId, number>> = {
  lure: -1,
  'auth-pass': 2,
  'auth-fail': -2,
  'spoof-flagged': -1,
  recurring: 1,
  'stable-senders': 1,
  'templated-subjects': 1,
  'business-hours': 1,
  'home-country': 1,
};

/** Score at or above which passing authentication plus behaviour make a source likely legitimate. */
const LIKELY_WITH_AUTH = 3;
/** Without any authentication data, behaviour alone must be this strong. */
const LIKELY_WITHOUT_AUTH = 4;

/** The verdict of one source, with the signals that decided it. */
export function weighSource(f: SourceFacts): SourceWeighing {
  const signals = sourceSignals(f);
  const has = (id: SignalId) => signals.some((s) => s.signal === id);
  const vetoes = signals.filter((s) => s.effect === 'veto');
  const score = signals.reduce((n, s) => n + (WEIGHT[s.signal] ?? 0), 0);
  const malicious = has('campaign') || new Set(vetoes.map((v) => v.signal)).size >= 2;
  const vetoNames = [...new Set(vetoes.map((v) => v.signal))].join(', ');
  const decision = f.decision;
  let verdict: SourceVerdict;
  let summary: string;
  if (decision?.kind === 'denied') {
    verdict = malicious ? 'malicious' : 'suspicious';
    summary = `denied by the admin${vetoes.length > 0 ? `; ${vetoNames}` : ''}`;
  } else if (decision) {
    if (vetoes.length > 0) {
      verdict = 'suspicious';
      summary = `${decision.kind} in the profile, but its mail shows ${vetoNames}: check that this is still your sender`;
    } else {
      verdict = 'legitimate';
      summary = `${decision.kind} in the profile`;
    }
  } else if (vetoes.length > 0) {
    verdict = malicious ? 'malicious' : 'suspicious';
    summary = `vetoed by ${vetoNames}`;
  } else if (!f.profile) {
    verdict = 'undetermined';
    summary = 'assessed without a profile: nothing can be vouched for';
  } else if (has('auth-pass') && score >= LIKELY_WITH_AUTH) {
    verdict = 'likely-legitimate';
    summary = `authentication passes and its behaviour is a regular sender's (score ${score}): confirm it`;
  } else if (!has('auth-pass') && !has('auth-fail') && score >= LIKELY_WITHOUT_AUTH) {
    verdict = 'likely-legitimate';
    summary = `no authentication data, but its behaviour is a regular sender's (score ${score}): confirm it`;
  } else if (has('auth-fail') && score <= 0) {
    verdict = 'suspicious';
    summary = `authentication fails and nothing speaks for it (score ${score})`;
  } else {
    verdict = 'undetermined';
    summary = `the evidence does not decide (score ${score})`;
  }
  const confirmed = decision?.kind === 'denied' || (decision !== null && verdict === 'legitimate');
  return { verdict, confirmed, score, signals, summary };
}
