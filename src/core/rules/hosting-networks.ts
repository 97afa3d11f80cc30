/**
 * Networks (autonomous systems) that rent servers, VPN exits or cloud machines by the hour: where the Direct
 * Send campaigns send from ("VPS and VPN addresses abroad"), and where an office printer never is.
 * Every entry names its source; organisation names are as the source lists them.
 *
 * Sources:
 * - `bad-asn-list`: bountyyfi/bad-asn-list, `all.txt` at commit 02021e1b (MIT), "ASNs associated with VPN
 *   providers, datacenters, and hosting services".
 * - `decloudflare-vpn`: jiakaiBot/deCloudflare, `tool/useful_ip_list/README.md`, section "Known VPNs (ASN)".
 *
 * `kind`: `vpn` when a source lists the network as a VPN exit; `cloud` for the three large public clouds
 * (which also host legitimate SaaS senders, so they weigh less); `hosting` otherwise.
 * @module
 */

export type NetworkKind = 'hosting' | 'vpn' | 'cloud';

export const NETWORK_SOURCES = {
  'bad-asn-list': 'bountyyfi/bad-asn-list all.txt (commit 02021e1b)',
  'decloudflare-vpn': 'jiakaiBot/deCloudflare tool/useful_ip_list/README.md "Known VPNs (ASN)"',
} as const;

export type NetworkSource = keyof typeof NETWORK_SOURCES;

export interface HostingNetwork {
  asn: number;
  org: string;
  kind: NetworkKind;
  sources: readonly NetworkSource[];
}

export const HOSTING_NETWORKS = [
  { asn: 51167, org: 'Contabo GmbH', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 141995, org: 'Contabo Asia Private Limited', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 40021, org: 'Contabo Inc', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 16276, org: 'OVH SAS', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 35540, org: 'OVH SAS', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 14061, org: 'DigitalOcean, LLC', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 62567, org: 'DigitalOcean, LLC', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 20473, org: 'The Constant Company, LLC (VULTR)', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 24940, org: 'Hetzner Online GmbH', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 213230, org: 'Hetzner Online GmbH', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 63949, org: 'Akamai Technologies, LLC (LINODE)', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 48337, org: 'Linode, LLC (LINODE)', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 12876, org: 'ONLINE S.A.S. (SCALEWAY)', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 47583, org: 'Hostinger International Limited', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 204915, org: 'Hostinger International Limited', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 36007, org: 'Kamatera, Inc', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 54290, org: 'Hostwinds LLC', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 8560, org: 'IONOS SE', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 212238, org: 'Datacamp Limited', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 60068, org: 'Datacamp Limited', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 209103, org: 'Proton AG', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 141039, org: 'Packethub s.a.', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 147049, org: 'PacketHub S.A.', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 207137, org: 'PacketHub S.A.', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 39798, org: 'MivoCloud SRL', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 49981, org: 'WorldStream B.V.', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 43350, org: 'NForce Entertainment B.V.', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 46562, org: 'Performive LLC', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 206446, org: 'CLOUD LEASE Ltd', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 199524, org: 'G-Core Labs S.A.', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 19318, org: 'Interserver, Inc', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 53850, org: 'GorillaServers, Inc.', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 40676, org: 'Psychz Networks', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 36352, org: 'ColoCrossing', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 35913, org: 'DediPath', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 62240, org: 'Clouvider', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 29802, org: 'HIVELOCITY, Inc', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 21859, org: 'Zenlayer Inc', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 7979, org: 'Servers.com, Inc', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 28753, org: 'Leaseweb Deutschland GmbH', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 30633, org: 'Leaseweb USA, Inc', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 9312, org: 'xTom', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 9009, org: 'M247 Europe SRL', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 16247, org: 'M247 Ltd', kind: 'hosting', sources: ['bad-asn-list'] },
  { asn: 11878, org: 'tzulo, inc.', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 39351, org: '31173 Services AB', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 50304, org: 'Blix Solutions AS', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 51765, org: 'Oy Crea Nova Hosting Solution Ltd', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 3214, org: 'xTom GmbH', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 8100, org: 'QuadraNet Enterprises LLC', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 133752, org: 'Leaseweb Asia Pacific pte. ltd.', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 133480, org: 'Intergrid Group Pty Ltd', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 29854, org: 'WestHost, Inc', kind: 'vpn', sources: ['bad-asn-list', 'decloudflare-vpn'] },
  { asn: 16509, org: 'Amazon.com, Inc.', kind: 'cloud', sources: ['bad-asn-list'] },
  { asn: 14618, org: 'Amazon.com, Inc', kind: 'cloud', sources: ['bad-asn-list'] },
  { asn: 15169, org: 'Google LLC', kind: 'cloud', sources: ['bad-asn-list'] },
  { asn: 396982, org: 'Google LLC', kind: 'cloud', sources: ['bad-asn-list'] },
] as const satisfies readonly HostingNetwork[];

const BY_ASN: ReadonlyMap<number, HostingNetwork> = new Map(
  (HOSTING_NETWORKS as readonly HostingNetwork[]).map((n) => [n.asn, n]),
);

export function hostingNetwork(asn: number): HostingNetwork | null {
  return BY_ASN.get(asn) ?? null;
}
