/**
 * The connector plan: which inbound connector each legitimate Direct Send source needs before RejectDirectSend is
 * enabled, chosen so that creating it rejects nothing by surprise. Pure: it takes a narrow description of the
 * sources (see {@link PlanInput}) and returns connectors with their commands, what each starts allowing and
 * rejecting, and per source the choice made and why.
 *
 * Microsoft's documented semantics it follows (New-InboundConnector parameter reference, quoted in
 * docs/connector-plan.md):
 * - A Partner connector's `SenderIPAddresses` apply "only if the value of the RestrictDomainsToIPAddresses
 *   parameter is $true", and that switch rejects every message from the `SenderDomains` whose source IP is not
 *   listed. `RestrictDomainsToCertificate $true` is the same trap for mail without the certificate.
 * - A Partner connector's `RequireTls` defaults to `$true`: a source that sends without TLS is rejected.
 * - An OnPremises connector (Microsoft's SMTP-relay option for devices and applications) matches by IP or
 *   certificate without rejecting anyone else, but grants relay to what it matches.
 * So: an address of the organisation's own network gets an OnPremises connector by IP; a service on shared
 * infrastructure gets a Partner connector by its certificate when it presents one, else by IP (which also admits
 * the provider's other customers); a restricting connector is planned only when no other legitimate sender of its
 * domains is known, and one accepted domain is never restricted by two connectors.
 * @module
 */
import { type Cidr, ipInAny, parseCidr, parseIp } from '../core/net-address.js';
import { shCommand } from '../core/quote/posix.js';
import { type BuiltCommand, type PsArg, psCommand, withWhatIf } from '../core/quote/powershell.js';
import { checkValue } from '../core/quote/values.js';

/** Whose network a source sends from, as far as the evidence tells. */
export type Infrastructure = 'organisation' | 'shared' | 'unknown';

export interface PlanSourceInput {
  id: string;
  /** The profile's (or the admin's) name for it. */
  name: string | null;
  /** Who answers for it (profile `directSendSources[].owner`). */
  owner: string | null;
  ips: readonly string[];
  helos: readonly string[];
  /** Envelope senders (P1) seen. */
  senders: readonly string[];
  /** Whether its mail arrived over TLS, from the exports. */
  tls: 'yes' | 'no' | 'mixed' | 'unknown';
  /** Certificate names the source was seen presenting (verified evidence only; never guessed from a HELO). */
  certificateNames: readonly string[];
  /** Its verdict, as the report gives it. */
  verdict: string;
  /** Declared in the profile or approved by the admin: only confirmed sources get connectors. */
  confirmed: boolean;
  /** Its mail was (proven or inferred) Direct Send, which RejectDirectSend would reject. */
  directSend: boolean;
  infrastructure: { kind: Infrastructure; why: string };
  messages: number;
  firstSeen: string;
  lastSeen: string;
}

export interface ExistingConnectorInput {
  name: string;
  type: 'Partner' | 'OnPremises';
  senderIps: readonly string[];
  certificateNames: readonly string[];
}

export interface PlanInput {
  acceptedDomains: readonly string[];
  sources: readonly PlanSourceInput[];
  existingConnectors: readonly ExistingConnectorInput[];
  /**
   * Other legitimate (or not yet judged) senders of an accepted domain, seen arriving from elsewhere than the
   * sources above: a restriction of that domain would reject them.
   */
  otherSenders: readonly { domain: string; what: string }[];
}

/** A command as printed: whole, with its `-WhatIf` variant and what running it changes. */
export interface PlannedCommand {
  shell: 'powershell' | 'posix';
  text: string;
  /** The same command with -WhatIf (PowerShell only; `null` for commands that change nothing). */
  whatIf: string | null;
  /** Why values were withheld (then the command is printed as a comment and cannot run as is). */
  withheld: string[];
  /** What running it changes, in a sentence. */
  effect: string;
}

export type ConnectorMatch = 'ip' | 'certificate';

export interface PlannedConnector {
  name: string;
  type: 'OnPremises' | 'Partner';
  match: ConnectorMatch;
  sources: string[];
  owners: string[];
  senderDomains: string[];
  ips: string[];
  certificate: string | null;
  /** RequireTls as set (`null`: not a Partner connector, where it does not apply). */
  requireTls: boolean | null;
  /** Whether it restricts its SenderDomains (rejects their mail from anywhere else). */
  restricts: boolean;
  /** What it starts allowing. */
  allows: string[];
  /** What it starts rejecting (empty: nothing). */
  rejects: string[];
  notes: string[];
  create: PlannedCommand;
  /** Get-InboundConnector to check what was created. */
  check: PlannedCommand;
  rollback: PlannedCommand;
}

export type SourceChoice =
  | 'onpremises-ip'
  | 'onpremises-certificate'
  | 'partner-ip'
  | 'partner-certificate'
  | 'covered'
  | 'no-connector'
  | 'not-needed'
  | 'awaiting-confirmation';

export interface SourcePlan {
  source: string;
  name: string | null;
  owner: string | null;
  choice: SourceChoice;
  /** Connectors planned for it (a source restricted per domain can be in more than one). */
  connectors: string[];
  /** Why this choice, and what it means for this source. */
  why: string[];
  /** For a source awaiting confirmation: the command that records the admin's decision. */
  commands: PlannedCommand[];
}

export interface ConnectorPlan {
  connectors: PlannedConnector[];
  sources: SourcePlan[];
}

/** Connector names: Exchange keeps at most 64 characters. */
const NAME_MAX = 64;

/** A label from untrusted text: letters, digits, space and `._()-` only (linear: no backtracking regex). */
export function connectorLabel(text: string): string {
  let out = '';
  let dash = false;
  for (const ch of text) {
    if (/^[A-Za-z0-9 ._()]$/.test(ch)) {
      out += ch;
      dash = false;
    } else if (!dash) {
      out += '-';
      dash = true;
    }
  }
  let a = 0;
  let b = out.length;
  while (a < b && '-. '.includes(out[a]!)) a++;
  while (b > a && '-. '.includes(out[b - 1]!)) b--;
  return out.slice(a, b);
}

/** `dsguard <label> <suffix>` in at most 64 characters: the label is shortened at a word, never the suffix. */
export function connectorName(label: string, suffix: string): string {
  const clean = connectorLabel(label);
  const tail = suffix === '' ? '' : ` ${suffix}`;
  const room = NAME_MAX - 'dsguard'.length - tail.length - 1;
  let l = clean;
  if (l.length > room) {
    const cut = l.slice(0, Math.max(0, room));
    const space = cut.lastIndexOf(' ');
    l = (space > 8 ? cut.slice(0, space) : cut).replace(/[-. ]+$/, '');
  }
  return `dsguard${l ? ` ${l}` : ''}${tail}`;
}

/** An IPv4 address or range (`a.b.c.d/n`, as the profile declares them). */
const isIpv4 = (ip: string) => parseIp(ip.split('/')[0]!)?.kind() === 'ipv4';

function domainOf(address: string): string {
  return (address.split('@').pop() ?? '').toLowerCase();
}

/** Origin codes that put an address on a provider's network: hosting/VPS, VPN, public cloud. */
const SHARED_NETWORK_CODES = new Set(['DS503', 'DS504', 'DS505']);

/**
 * Whose network the source is on, from its HELO names and the origin findings of its messages (the only identity
 * the exports give). A HELO name in an accepted domain wins (the organisation's own server, even in a cloud).
 */
export function infrastructureOf(
  helos: readonly string[],
  acceptedDomains: readonly string[],
  codes: readonly string[] = [],
): { kind: Infrastructure; why: string } {
  const names = helos.map((h) => h.toLowerCase()).filter((h) => checkValue('domain', h).ok);
  const own = names.find((h) => acceptedDomains.some((d) => h === d || h.endsWith(`.${d}`)));
  if (own) return { kind: 'organisation', why: `its HELO name ${own} is in your domain` };
  const network = codes.filter((c) => SHARED_NETWORK_CODES.has(c));
  if (network.length > 0) {
    return {
      kind: 'shared',
      why: `it sends from a hosting, VPN or public cloud network (${[...new Set(network)].sort().join(', ')}), whose addresses serve many customers`,
    };
  }
  const other = names[0];
  if (other) {
    return {
      kind: 'shared',
      why: `its HELO name ${other} is not in your domains: a provider's server, likely shared with its other customers`,
    };
  }
  return { kind: 'unknown', why: 'no HELO name tells whose network it is' };
}

function command(c: BuiltCommand, effect: string, whatIf: boolean, shell: PlannedCommand['shell'] = 'powershell') {
  return {
    shell,
    text: c.text,
    whatIf: whatIf ? withWhatIf(c).text : null,
    withheld: c.withheld,
    effect,
  } satisfies PlannedCommand;
}

function coveredBy(
  source: PlanSourceInput,
  existing: readonly ExistingConnectorInput[],
): ExistingConnectorInput | null {
  const v4 = source.ips.filter(isIpv4);
  if (v4.length === 0 || v4.length < source.ips.length) return null;
  for (const c of existing) {
    const ranges = c.senderIps.map(parseCidr).filter((x): x is Cidr => x !== null);
    if (ranges.length > 0 && v4.every((ip) => ipInAny(ip.split('/')[0]!, ranges))) return c;
  }
  return null;
}

function list(xs: readonly string[]): string {
  return xs.join(', ');
}

interface Draft {
  type: 'OnPremises' | 'Partner';
  match: ConnectorMatch;
  sources: PlanSourceInput[];
  domains: string[];
  ips: string[];
  certificate: string | null;
  label: string;
  suffix: string;
  /** On a provider's shared infrastructure (its matching admits the provider's other customers). */
  shared?: boolean;
}

/** RequireTls for a Partner connector from the TLS evidence of its sources, and why. */
function tlsSetting(sources: readonly PlanSourceInput[], match: ConnectorMatch): { on: boolean; why: string } {
  const states = new Set(sources.map((s) => s.tls));
  if (match === 'certificate') {
    const plain = states.has('no') || states.has('mixed');
    return {
      on: true,
      why: `RequireTls $true: a certificate is only presented over TLS.${plain ? ' Some of its mail arrived without TLS: that mail presents no certificate and is rejected; turn TLS on at the source first.' : ''}`,
    };
  }
  if (states.size === 1 && states.has('yes')) {
    return {
      on: true,
      why: 'RequireTls $true (the default): every message seen from it arrived over TLS.',
    };
  }
  if (states.has('no') || states.has('mixed')) {
    return {
      on: false,
      why: 'RequireTls $false: some of its mail arrived without TLS, and the default ($true) would reject it. Turn TLS on at the source, then set RequireTls $true.',
    };
  }
  return {
    on: false,
    why: 'RequireTls $false: these exports do not say whether it uses TLS, and the default ($true) would reject it if it does not. Set RequireTls $true once trace detail shows S:tlsversion for its mail.',
  };
}

function comment(d: Draft): string {
  const ids = d.sources.map((s) => s.id).join(' ');
  const n = d.sources.reduce((x, s) => x + s.messages, 0);
  const first = d.sources.map((s) => s.firstSeen.slice(0, 10)).sort()[0] ?? '';
  const last =
    d.sources
      .map((s) => s.lastSeen.slice(0, 10))
      .sort()
      .pop() ?? '';
  if (n === 0) return `Direct Send source(s) ${ids} declared in the dsguard profile, not seen in the exports`;
  return `Direct Send source(s) ${ids} found by dsguard: ${n} message(s), ${first} to ${last}`;
}

function build(d: Draft, name: string): PlannedConnector {
  const owners = [...new Set(d.sources.map((s) => s.owner).filter((o): o is string => o !== null))].sort();
  const notes: string[] = [];
  const allows: string[] = [];
  const rejects: string[] = [];
  const params: [string, PsArg][] = [
    ['Name', { kind: 'name', value: name }],
    ['ConnectorType', { word: d.type }],
    ['SenderDomains', { kind: 'domain-pattern', values: d.domains }],
  ];
  let requireTls: boolean | null = null;
  const where = d.match === 'ip' ? `from ${list(d.ips)}` : `presenting a TLS certificate for ${d.certificate}`;
  if (d.type === 'OnPremises') {
    if (d.match === 'ip') params.push(['SenderIPAddresses', { kind: 'ipv4-range', values: d.ips }]);
    else params.push(['TlsSenderCertificateName', { kind: 'domain-pattern', value: d.certificate! }]);
    allows.push(
      `Mail ${where} matches this connector, so it is no longer Direct Send: RejectDirectSend will not reject it.`,
      `OnPremises connectors grant relay: mail ${where} may also be relayed through your tenant to external recipients.`,
    );
    if (d.shared) {
      allows.push(
        `${d.match === 'ip' ? 'IP' : 'Certificate'} matching also admits the provider's other customers ${where}: they match this connector and may relay through your tenant too.`,
      );
    }
    notes.push(
      'RequireTls and the Restrict switches apply only to Partner connectors: this one accepts the source with or without TLS and rejects no one.',
    );
  } else {
    const tls = tlsSetting(d.sources, d.match);
    requireTls = tls.on;
    if (d.match === 'ip') {
      params.push(
        ['SenderIPAddresses', { kind: 'ipv4-range', values: d.ips }],
        ['RestrictDomainsToIPAddresses', { bool: true }],
      );
      rejects.push(
        `From the moment it is created: every message whose sender domain is ${list(d.domains)} arriving from any IP other than ${list(d.ips)} (RestrictDomainsToIPAddresses $true). No other legitimate sender of ${d.domains.length > 1 ? 'these domains' : 'this domain'} is known from the exports: check with the owners before creating it.`,
      );
    } else {
      params.push(
        ['TlsSenderCertificateName', { kind: 'domain-pattern', value: d.certificate! }],
        ['RestrictDomainsToCertificate', { bool: true }],
      );
      rejects.push(
        `From the moment it is created: every message whose sender domain is ${list(d.domains)} that does not present a certificate for ${d.certificate} (RestrictDomainsToCertificate $true).`,
      );
    }
    params.push(['RequireTls', { bool: tls.on }]);
    if (tls.on) rejects.push(`Mail ${where} sent without TLS (RequireTls $true).`);
    notes.push(tls.why);
    allows.push(
      `Mail ${where} with sender domain ${list(d.domains)} matches this connector, so it is no longer Direct Send: RejectDirectSend will not reject it.`,
    );
    if (d.match === 'ip' && d.sources.some((s) => s.infrastructure.kind === 'shared')) {
      allows.push(
        `IP matching also admits the provider's other customers: anyone sending from ${list(d.ips)} as ${list(d.domains)} matches it too. Ask the provider for the certificate name its servers present and match that instead.`,
      );
    }
  }
  params.push(['Comment', { kind: 'text', value: comment(d) }]);
  const create = psCommand('New-InboundConnector', params);
  const effect =
    rejects.length > 0
      ? `Creates connector ${name}; starts rejecting: ${rejects.join(' ')}`
      : `Creates connector ${name}; rejects nothing.`;
  return {
    name,
    type: d.type,
    match: d.match,
    sources: d.sources.map((s) => s.id),
    owners,
    senderDomains: d.domains,
    ips: d.ips,
    certificate: d.certificate,
    requireTls,
    restricts: d.type === 'Partner',
    allows,
    rejects,
    notes,
    create: command(create, effect, true),
    check: command(
      psCommand('Get-InboundConnector', [['Identity', { kind: 'name', value: name }]]),
      'Changes nothing: shows the connector as created.',
      false,
    ),
    rollback: command(
      psCommand('Remove-InboundConnector', [['Identity', { kind: 'name', value: name }]]),
      `Removes connector ${name} (asks for confirmation): ${d.type === 'Partner' ? 'its restriction ends, and ' : ''}mail ${where} is Direct Send again — rejected while RejectDirectSend is enabled, so turn that off first.`,
      true,
    ),
  };
}

/**
 * The plan. Deterministic: the same input gives the same plan (sources in input order, connectors in the order
 * their first source comes, names made unique by source id).
 */
export function planConnectors(input: PlanInput): ConnectorPlan {
  const accepted = new Set(input.acceptedDomains.map((d) => d.toLowerCase()));
  const decisions = new Map<string, SourcePlan>();
  const decide = (s: PlanSourceInput, choice: SourceChoice, why: string[], commands: PlannedCommand[] = []) => {
    decisions.set(s.id, { source: s.id, name: s.name, owner: s.owner, choice, connectors: [], why, commands });
  };
  const drafts: Draft[] = [];
  // Sources for a restricting Partner connector, and how each is matched.
  const partnerBy = new Map<string, ConnectorMatch>();
  const domainsOf = (s: PlanSourceInput) =>
    [...new Set(s.senders.map(domainOf).filter((d) => accepted.size === 0 || accepted.has(d)))].sort();

  for (const s of input.sources) {
    if (!s.confirmed) {
      if (s.directSend && /^(likely-legitimate|undetermined|unknown)$/.test(s.verdict)) {
        // By IP when it has one (report ids are positions, they change between reports).
        const byIp = s.ips.length === 1 && isIpv4(s.ips[0]!);
        const approve = shCommand('dsguard', [
          'sources',
          'approve',
          byIp ? { kind: 'ipv4', value: s.ips[0]! } : { kind: 'name', value: s.id },
          '--name',
          // A starting name from what the evidence shows (its HELO, else its sender's local part): the admin's to improve.
          {
            kind: 'name',
            value: connectorLabel(s.name ?? s.helos[0] ?? s.senders[0]?.split('@')[0] ?? s.id) || s.id,
          },
          ...(s.owner === null ? [] : ['--owner', { kind: 'name' as const, value: s.owner }]),
        ]);
        decide(
          s,
          'awaiting-confirmation',
          [
            `${s.verdict}: not yet confirmed, so no connector is planned for it. If it is yours, approve it (give it a real --name, and an --owner); if not, deny it (dsguard sources deny).`,
          ],
          [
            command(
              approve,
              'Records in the profile that this source is legitimate; the next report plans its connector.',
              false,
              'posix',
            ),
          ],
        );
      }
      continue;
    }
    const domains = domainsOf(s);
    if (domains.length === 0) {
      decide(s, 'not-needed', [
        'None of its envelope senders is in an accepted domain: RejectDirectSend does not apply to its mail, so it needs no connector.',
      ]);
      continue;
    }
    const existing = coveredBy(s, input.existingConnectors);
    if (existing) {
      decide(s, 'covered', [
        existing.type === 'OnPremises'
          ? `Already matched by the OnPremises connector ${existing.name} (per the profile).`
          : `Listed in the Partner connector ${existing.name} (per the profile): it matches only if that connector has RestrictDomainsToIPAddresses $true (SenderIPAddresses of a Partner connector take effect only then). Check with Get-InboundConnector.`,
      ]);
      continue;
    }
    const v4 = s.ips.filter(isIpv4);
    const v6 = s.ips.filter((ip) => !isIpv4(ip));
    const cert = s.certificateNames.find((c) => checkValue('domain-pattern', c).ok) ?? null;
    const why = [`${s.infrastructure.kind === 'unknown' ? 'Network unknown' : 'Network'}: ${s.infrastructure.why}.`];
    if (v6.length > 0 && v4.length > 0 && cert === null) {
      why.push(
        `It also sent over IPv6 (${list(v6)}): connectors match IPv4 addresses only, so that mail matches no connector and will be rejected once RejectDirectSend is on. Make it send over IPv4, or present a certificate.`,
      );
    }
    if (s.infrastructure.kind === 'shared') {
      if (cert !== null) {
        partnerBy.set(s.id, 'certificate');
        why.push(
          `It presents a certificate for ${cert}: matched by that certificate, not by the provider's shared IPs.`,
        );
        decide(s, 'partner-certificate', why);
      } else if (v4.length > 0) {
        partnerBy.set(s.id, 'ip');
        why.push(
          'It presents no certificate the exports show: matched by IP, which also admits the provider’s other customers sending from those addresses. Ask the provider for the certificate name its servers present.',
        );
        decide(s, 'partner-ip', why);
      } else {
        decide(s, 'no-connector', [
          ...why,
          `It sends over IPv6 only (${list(v6)}) and no certificate of it is known: a connector can match neither. Ask the provider for the certificate name its servers present, or have it send with its own envelope domain.`,
        ]);
      }
      continue;
    }
    // The organisation's own network, or unknown: OnPremises, which rejects no one.
    if (v4.length > 0) {
      if (s.infrastructure.kind === 'unknown') {
        why.push(
          `dsguard cannot tell whether ${list(v4)} is your own address. An OnPremises connector lets whatever sends from it relay through your tenant: confirm it is a static address of your network (if it belongs to a hosting or SaaS provider, record that and match its certificate instead).`,
        );
      }
      why.push(
        'OnPremises connector by IP (Microsoft’s SMTP relay option for devices and applications): it matches the address without rejecting any other sender of your domains.',
      );
      drafts.push({
        type: 'OnPremises',
        match: 'ip',
        sources: [s],
        domains,
        ips: v4,
        certificate: null,
        label: s.name ?? s.helos[0] ?? s.senders[0]?.split('@')[0] ?? s.id,
        suffix: v4.length === 1 && !v4[0]!.includes('/') ? v4[0]! : s.id,
      });
      decide(s, 'onpremises-ip', why);
    } else if (cert !== null) {
      why.push(
        `It sends over IPv6 (${list(v6)}), which connectors cannot match: matched by its certificate ${cert} on an OnPremises connector.`,
      );
      drafts.push({
        type: 'OnPremises',
        match: 'certificate',
        sources: [s],
        domains,
        ips: [],
        certificate: cert,
        label: s.name ?? s.id,
        suffix: s.id,
      });
      decide(s, 'onpremises-certificate', why);
    } else {
      decide(s, 'no-connector', [
        ...why,
        `It sends over IPv6 only (${list(v6) || 'no IP known'}): connectors match IPv4 addresses or a certificate. Make it send over IPv4, or configure a certificate on it and list that name.`,
      ]);
    }
  }

  // Restricting (Partner) connectors: one per accepted domain, holding every planned sender of that domain, and
  // only when nothing else is known to send as that domain. A source left out for one domain is another sender
  // of its other domains: repeat until no more is left out.
  const byId = new Map(input.sources.map((s) => [s.id, s]));
  const active = new Set(partnerBy.keys());
  const blocked = new Map<string, string[]>();
  let byDomain = new Map<string, PlanSourceInput[]>();
  for (let changed = true; changed; ) {
    changed = false;
    byDomain = new Map();
    for (const id of active) {
      const s = byId.get(id)!;
      for (const d of domainsOf(s)) byDomain.set(d, [...(byDomain.get(d) ?? []), s]);
    }
    for (const [domain, members] of [...byDomain].sort((a, b) => a[0].localeCompare(b[0]))) {
      const ids = new Set(members.map((m) => m.id));
      const others: string[] = [];
      for (const s of input.sources) {
        if (ids.has(s.id) || !domainsOf(s).includes(domain)) continue;
        if (/^(malicious|suspicious)$/.test(s.verdict) && !s.confirmed) continue;
        others.push(`${s.id} (${list(s.ips) || 'IP unknown'}, ${s.confirmed ? 'legitimate' : s.verdict})`);
      }
      for (const o of input.otherSenders) if (o.domain.toLowerCase() === domain) others.push(o.what);
      const matches = new Set(members.map((m) => partnerBy.get(m.id)));
      const certs = new Set(members.map((m) => m.certificateNames[0] ?? ''));
      let reason: string | null = null;
      if (others.length > 0) {
        reason = `Restricting ${domain} to it would reject the other senders of ${domain}: ${list(others)}. No restricting connector is planned for ${domain}.`;
      } else if (matches.size > 1 || (matches.has('certificate') && certs.size > 1)) {
        reason = `The senders of ${domain} need different matches (IPs and certificates): one connector cannot restrict ${domain} to all of them, and several would each reject the others' mail. No restricting connector is planned for ${domain}.`;
      }
      if (reason === null) continue;
      for (const id of ids) {
        blocked.set(id, [...(blocked.get(id) ?? []), reason]);
        active.delete(id);
      }
      changed = true;
      break;
    }
  }
  const partnerDrafts: Draft[] = [];
  for (const [domain, sources] of [...byDomain].sort((a, b) => a[0].localeCompare(b[0]))) {
    const match = partnerBy.get(sources[0]!.id)!;
    partnerDrafts.push({
      type: 'Partner',
      match,
      sources,
      domains: [domain],
      ips: match === 'ip' ? [...new Set(sources.flatMap((s) => s.ips.filter(isIpv4)))] : [],
      certificate: match === 'certificate' ? (sources[0]!.certificateNames[0] ?? null) : null,
      label: sources.length === 1 ? (sources[0]!.name ?? sources[0]!.helos[0] ?? sources[0]!.id) : 'Partner',
      suffix: domain,
    });
  }
  for (const id of partnerBy.keys()) {
    const d = decisions.get(id)!;
    const reasons = blocked.get(id);
    if (reasons) {
      // No restriction is safe: match it without rejecting anyone (OnPremises), by its certificate when one is
      // known, else by IP, and say what that admits.
      const s = byId.get(id)!;
      const cert = s.certificateNames.find((c) => checkValue('domain-pattern', c).ok) ?? null;
      const v4 = s.ips.filter(isIpv4);
      d.why.push(...reasons);
      d.choice = cert !== null ? 'onpremises-certificate' : 'onpremises-ip';
      d.why.push(
        cert !== null
          ? `OnPremises connector by its certificate ${cert} instead: it rejects no one, but any server presenting that certificate (the provider's other customers too, if it is the provider's) matches it and may relay through your tenant.`
          : `OnPremises connector by IP instead: it rejects no one, but IP matching also admits the provider's other customers sending from ${list(v4)}, and an OnPremises connector lets them relay through your tenant. Safer, when the provider offers it: its own envelope domain (then RejectDirectSend does not apply), SMTP AUTH or Microsoft Graph, or the certificate its servers present.`,
      );
      drafts.push({
        type: 'OnPremises',
        match: cert !== null ? 'certificate' : 'ip',
        sources: [s],
        domains: domainsOf(s),
        ips: cert !== null ? [] : v4,
        certificate: cert,
        label: s.name ?? s.helos[0] ?? s.id,
        suffix: cert === null && v4.length === 1 && !v4[0]!.includes('/') ? v4[0]! : s.id,
        shared: true,
      });
    } else {
      d.why.push(
        `Partner connector restricted to it: no other sender of ${list(domainsOf(byId.get(id)!))} is known from the exports, so the restriction rejects no known legitimate mail.`,
      );
    }
  }
  // Connectors in source order; names unique.
  const ordered: Draft[] = [];
  const seen = new Set<Draft>();
  for (const s of input.sources) {
    for (const d of [...drafts, ...partnerDrafts]) {
      if (!seen.has(d) && d.sources[0] === s) {
        seen.add(d);
        ordered.push(d);
      }
    }
  }
  // Names already taken by the connectors the profile lists: New-InboundConnector refuses a duplicate.
  const names = new Set<string>(input.existingConnectors.map((c) => c.name));
  const connectors = ordered.map((d) => {
    let name = connectorName(d.label, d.suffix);
    if (names.has(name)) name = connectorName(d.label, `${d.suffix} ${d.sources[0]!.id}`);
    names.add(name);
    const c = build(d, name);
    for (const id of c.sources) decisions.get(id)?.connectors.push(name);
    return c;
  });
  const sources = input.sources.flatMap((s) => decisions.get(s.id) ?? []);
  return { connectors, sources };
}

/** Pairs of restricting connectors that restrict one domain (each would reject the other's senders). */
export function restrictionConflicts(plan: ConnectorPlan): { domain: string; connectors: [string, string] }[] {
  const out: { domain: string; connectors: [string, string] }[] = [];
  const r = plan.connectors.filter((c) => c.restricts);
  for (let i = 0; i < r.length; i++) {
    for (let j = i + 1; j < r.length; j++) {
      for (const d of r[i]!.senderDomains) {
        if (r[j]!.senderDomains.includes(d)) out.push({ domain: d, connectors: [r[i]!.name, r[j]!.name] });
      }
    }
  }
  return out;
}

/** What the plan reads of a report source (structural: the report's SourceEntry has these fields). */
export interface ReportSourceLike {
  id: string;
  name: string | null;
  ips: readonly string[];
  helos: readonly string[];
  senders: readonly { address: string }[];
  tls: PlanSourceInput['tls'];
  channel: string;
  verdict: string;
  counts: { directSend: number };
  /** The findings behind its verdict (origin codes tell a hosting or cloud network). */
  why?: readonly { code: string }[];
  /** Declared or approved by the admin (and not denied), when the report says so. */
  confirmed?: boolean;
  messages: number;
  firstSeen: string;
  lastSeen: string;
}

/** The profile's part of the plan input. */
export interface PlanProfileLike {
  acceptedDomains: readonly string[];
  connectors: readonly {
    name: string;
    type: 'Partner' | 'OnPremises';
    senderIps: readonly { text: string }[];
    certificateNames: readonly string[];
  }[];
  knownSources: readonly {
    name: string;
    owner?: string | null;
    ips: readonly { text: string }[];
    senders: readonly string[];
  }[];
}

/**
 * The plan input from the report's sources and the profile. A source is confirmed when the profile declares it
 * (or the admin approved it) and the evidence does not call it abuse; certificate names come only from evidence
 * (none of the exports carries one today), never from a HELO name.
 */
export function planInputOf(sources: readonly ReportSourceLike[], profile: PlanProfileLike | null): PlanInput {
  const accepted = profile?.acceptedDomains ?? [];
  const owners = new Map((profile?.knownSources ?? []).map((k) => [k.name, k.owner ?? null]));
  const seen = new Set(sources.map((s) => s.name));
  const unseen = (profile?.knownSources ?? []).filter((k) => !seen.has(k.name));
  return {
    acceptedDomains: accepted,
    existingConnectors: (profile?.connectors ?? []).map((c) => ({
      name: c.name,
      type: c.type,
      senderIps: c.senderIps.map((x) => x.text),
      certificateNames: c.certificateNames,
    })),
    otherSenders: [],
    sources: [
      ...sources.map((s) => ({
        id: s.id,
        name: s.name,
        owner: s.name === null ? null : (owners.get(s.name) ?? null),
        ips: s.ips,
        helos: s.helos,
        senders: s.senders.map((x) => x.address),
        tls: s.tls,
        certificateNames: [],
        verdict: s.verdict === 'unknown' ? 'undetermined' : s.verdict,
        confirmed:
          s.confirmed ??
          ((s.verdict === 'legitimate' && s.channel === 'direct-send') ||
            (s.name !== null && s.verdict !== 'malicious' && s.verdict !== 'suspicious')),
        directSend: s.counts.directSend > 0,
        infrastructure: infrastructureOf(
          s.helos,
          accepted,
          (s.why ?? []).map((w) => w.code),
        ),
        messages: s.messages,
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
      })),
      // Declared in the profile but not seen in these exports (a monthly job, a device that was off): they need
      // their connector too, and they are other senders of their domains.
      ...unseen.map((k, i) => ({
        id: `D${i + 1}`,
        name: k.name,
        owner: k.owner ?? null,
        ips: k.ips.map((c) => c.text.replace(/\/32$/, '')),
        helos: [],
        senders: k.senders.length > 0 ? k.senders : accepted.map((d) => `*@${d}`),
        tls: 'unknown' as const,
        certificateNames: [],
        verdict: 'legitimate',
        confirmed: true,
        directSend: true,
        infrastructure: {
          kind: 'unknown' as const,
          why: 'declared in the profile but not seen in these exports (or the report period), so nothing tells whose network it is',
        },
        messages: 0,
        firstSeen: '',
        lastSeen: '',
      })),
    ],
  };
}

/**
 * The mailbox the probe writes to: the recipient in an accepted domain that received the most sampled mail (ties
 * by address), so the smart host cannot refuse it for not existing. Never a sender: senders are the attacker's
 * choice.
 */
export function probeRecipientOf(
  recipients: readonly (string | null)[],
  acceptedDomains: readonly string[],
): string | null {
  const counts = new Map<string, number>();
  for (const r of recipients) {
    if (!r) continue;
    const a = r.toLowerCase();
    if (acceptedDomains.length > 0 && !acceptedDomains.includes(domainOf(a))) continue;
    if (!checkValue('address', a).ok) continue;
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  let best: string | null = null;
  for (const [a, n] of counts) {
    const b = best === null ? 0 : counts.get(best)!;
    if (n > b || (n === b && best !== null && a < best)) best = a;
  }
  return best;
}
