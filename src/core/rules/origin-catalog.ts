/**
 * Finding codes of the origin family (DS501–DS507): where the connecting IP is, whose network it is, and
 * whether it is a known campaign address. Rules in origin.ts.
 * @module
 */
import type { RuleInfo } from './rule-info.js';

export const ORIGIN_RULES = [
  {
    code: 'DS501',
    title: 'Origin of the connecting IP',
    severity: 'info',
    weight: 0,
    meaning:
      'Country and network (autonomous system) of the host that handed the message to Exchange Online, from offline IP databases (bundled ip-location-db data, or your own MaxMind database with --geoip-db).',
    evidence:
      'FFAS CIP / entry Received hop / FromIP / SenderIPv4 / original_client_ip, and the database that answered.',
    action: 'None by itself; used by DS502–DS505.',
  },
  {
    code: 'DS502',
    title: 'Sent from outside the home countries',
    severity: 'medium',
    weight: 10,
    meaning:
      'The connecting IP is in a country that is not one of the profile’s home countries. Printers and line-of-business servers send from the office; Direct Send campaigns send from VPS and VPN addresses abroad.',
    evidence: 'Country of the connecting IP (IP database, else Exchange’s own FFAS CTRY) vs profile homeCountries.',
    action: 'Unless a known SaaS sender explains it, treat the source as hostile.',
  },
  {
    code: 'DS503',
    title: 'Sent from a hosting / VPS network',
    severity: 'medium',
    weight: 10,
    meaning:
      'The connecting IP belongs to a provider that rents servers by the hour. Proofpoint and Varonis describe Direct Send abuse from such virtual servers.',
    evidence: 'ASN of the connecting IP, matched against a sourced table (src/core/rules/hosting-networks.ts).',
    action: 'A legitimate sender hosted there should have a connector restricted to its IP; otherwise block it.',
  },
  {
    code: 'DS504',
    title: 'Sent from a VPN network',
    severity: 'medium',
    weight: 15,
    meaning: 'The connecting IP belongs to a network that public lists record as a commercial VPN exit.',
    evidence: 'ASN of the connecting IP, matched against a sourced table (src/core/rules/hosting-networks.ts).',
    action: 'Legitimate devices do not send internal mail through commercial VPNs: block the source.',
  },
  {
    code: 'DS505',
    title: 'Sent from a public cloud network',
    severity: 'low',
    weight: 5,
    meaning:
      'The connecting IP belongs to a large public cloud (AWS, Google Cloud). Both SaaS senders and attackers’ virtual machines live there.',
    evidence: 'ASN of the connecting IP.',
    action: 'Identify the service; give it a connector if it is yours.',
  },
  {
    code: 'DS506',
    title: 'Loopback or private HELO from a public address',
    severity: 'high',
    weight: 15,
    meaning:
      'The host introduced itself as localhost / 127.0.0.1 / a private address, yet connected from a public IP: a script on a rented server or a NATed workstation, not a mail server. Seen in Direct Send campaigns.',
    evidence: 'HELO (FFAS H:, entry Received hop, client_hostname) and the connecting IP.',
    action: 'Block the source unless a known device explains it.',
    intent: true,
  },
  {
    code: 'DS507',
    title: 'Known Direct Send campaign address',
    severity: 'high',
    weight: 30,
    meaning:
      'The connecting IP is listed as a sender of a documented Direct Send campaign (the entry names its source).',
    evidence: 'Connecting IP matched against the indicator list (bundled table or --indicators file).',
    action: 'Treat as an attack: purge, block the address, enable RejectDirectSend.',
    intent: true,
    vetoesLegitimate: true,
  },
] as const satisfies readonly RuleInfo[];
