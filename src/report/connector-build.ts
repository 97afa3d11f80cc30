/**
 * One planned connector: its name, its New-InboundConnector command (with -WhatIf, check and rollback) and what it
 * starts allowing and rejecting, from the sources it serves. Pure; commands through core/quote.
 * @module
 */
import { type Cidr, ipInAny, parseCidr, parseIp } from '../core/net-address.js';
import { type BuiltCommand, type PsArg, psCommand, withWhatIf } from '../core/quote/powershell.js';
import type {
  ConnectorMatch,
  ExistingConnectorInput,
  PlannedCommand,
  PlannedConnector,
  PlanSourceInput,
} from './connector-plan-types.js';

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
export const isIpv4 = (ip: string) => parseIp(ip.split('/')[0]!)?.kind() === 'ipv4';

export function domainOf(address: string): string {
  return (address.split('@').pop() ?? '').toLowerCase();
}

export function command(
  c: BuiltCommand,
  effect: string,
  whatIf: boolean,
  shell: PlannedCommand['shell'] = 'powershell',
) {
  return {
    shell,
    text: c.text,
    whatIf: whatIf ? withWhatIf(c).text : null,
    withheld: c.withheld,
    effect,
  } satisfies PlannedCommand;
}

export function coveredBy(
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

export function list(xs: readonly string[]): string {
  return xs.join(', ');
}

export interface Draft {
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

export function build(d: Draft, name: string): PlannedConnector {
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
