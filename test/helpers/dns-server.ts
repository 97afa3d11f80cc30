/**
 * A real DNS server for tests: UDP and TCP on 127.0.0.1 (random port), wire format by dns-packet, zones read from
 * master-file fixtures (test/fixtures/dns/*.zone). It answers authoritatively for every name it holds: records
 * (following CNAMEs inside its data), NODATA (NOERROR, no answer, SOA in authority) for names that exist without
 * that type (including empty non-terminals), NXDOMAIN otherwise. Faults per name: SERVFAIL, or no answer at all
 * (the client times out). UDP answers larger than 512 bytes (or the EDNS size offered) are truncated (TC) so the
 * client retries over TCP, as with a real server.
 *
 * Zone file subset: `$ORIGIN`, `$TTL`, `@`, relative and absolute names, one record per line (no parentheses),
 * `;` comments, types A AAAA MX TXT CNAME NS SOA; TXT takes one or more quoted strings. Test directives:
 * `$SERVFAIL <name>` and `$DROP <name>` (no answer).
 */
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';

type Rr = { name: string; type: string; ttl: number; data: unknown };

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

function splitQuoted(text: string): string[] {
  // Tokens separated by whitespace; "quoted strings" keep spaces and \" escapes. A ; outside quotes starts a comment.
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === ';') break;
    if (c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        s += text[i];
        i++;
      }
      i++;
      out.push(`"${s}`); // marker: quoted
      continue;
    }
    let s = '';
    while (i < text.length && text[i] !== ' ' && text[i] !== '\t') s += text[i++];
    out.push(s);
  }
  return out;
}

const TYPES = new Set(['A', 'AAAA', 'MX', 'TXT', 'CNAME', 'NS', 'SOA']);

export interface ZoneData {
  records: Rr[];
  servfail: Set<string>;
  drop: Set<string>;
}

export function parseZone(
  text: string,
  file: string,
  into: ZoneData = { records: [], servfail: new Set(), drop: new Set() },
): ZoneData {
  let origin = '';
  let ttl = 300;
  let last = '';
  const abs = (name: string): string => {
    if (name === '@') return origin;
    if (name.endsWith('.')) return name.slice(0, -1).toLowerCase();
    return (origin ? `${name}.${origin}` : name).toLowerCase();
  };
  text.split(/\r?\n/).forEach((line, n) => {
    const where = `${file}:${n + 1}`;
    const startsBlank = /^[ \t]/.test(line);
    const tok = splitQuoted(line);
    if (tok.length === 0) return;
    const t0 = tok[0]!;
    if (t0 === '$ORIGIN') {
      origin = abs(`${tok[1]!.replace(/\.?$/, '.')}`);
      return;
    }
    if (t0 === '$TTL') {
      ttl = Number(tok[1]);
      return;
    }
    if (t0 === '$SERVFAIL' || t0 === '$DROP') {
      (t0 === '$SERVFAIL' ? into.servfail : into.drop).add(abs(tok[1]!));
      return;
    }
    let i = 0;
    let name: string;
    if (startsBlank) name = last;
    else {
      name = abs(t0);
      i = 1;
    }
    last = name;
    let recTtl = ttl;
    if (/^\d+$/.test(tok[i] ?? '')) recTtl = Number(tok[i++]);
    if (tok[i] === 'IN') i++;
    const type = tok[i++];
    if (!type || !TYPES.has(type)) throw new Error(`${where}: unknown record type ${type}`);
    const rdata = tok.slice(i);
    const unq = (s: string) => (s.startsWith('"') ? s.slice(1) : s);
    let data: unknown;
    switch (type) {
      case 'A':
      case 'AAAA':
        data = rdata[0];
        break;
      case 'MX':
        data = { preference: Number(rdata[0]), exchange: rdata[1] === '.' ? '' : abs(rdata[1]!) };
        break;
      case 'TXT':
        data = rdata.map(unq);
        for (const chunk of data as string[]) {
          if (Buffer.byteLength(chunk) > 255) throw new Error(`${where}: TXT string longer than 255 bytes: split it`);
        }
        break;
      case 'CNAME':
      case 'NS':
        data = abs(rdata[0]!);
        break;
      case 'SOA':
        data = {
          mname: abs(rdata[0]!),
          rname: abs(rdata[1]!),
          serial: Number(rdata[2]),
          refresh: Number(rdata[3]),
          retry: Number(rdata[4]),
          expire: Number(rdata[5]),
          minimum: Number(rdata[6]),
        };
        break;
    }
    into.records.push({ name, type, ttl: recTtl, data });
  });
  return into;
}

export function loadZones(dir: string): ZoneData {
  const data: ZoneData = { records: [], servfail: new Set(), drop: new Set() };
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.zone'))
    .sort()) {
    parseZone(readFileSync(join(dir, f), 'utf8'), f, data);
  }
  return data;
}

export interface DnsTestServer {
  /** `127.0.0.1:port` for --dns-server / setServers. */
  address: string;
  port: number;
  /** Queries received (UDP + TCP). */
  queries: number;
  /** Queries received over TCP (after a truncated UDP answer). */
  readonly tcpQueries: number;
  servfail(name: string): void;
  drop(name: string): void;
  /** Add records at run time (same syntax as a zone file, absolute names). */
  add(zoneText: string): void;
  close(): Promise<void>;
}

export async function startDnsServer(zones: ZoneData): Promise<DnsTestServer> {
  const byName = new Map<string, Rr[]>();
  const existing = new Set<string>();
  const index = (r: Rr) => {
    const list = byName.get(r.name) ?? [];
    list.push(r);
    byName.set(r.name, list);
    // Every ancestor exists too (empty non-terminals answer NODATA, not NXDOMAIN).
    const labels = r.name.split('.');
    for (let i = 0; i < labels.length; i++) existing.add(labels.slice(i).join('.'));
  };
  zones.records.forEach(index);
  const soa = zones.records.find((r) => r.type === 'SOA');

  const soaFor = (name: string): dnsPacket.Answer[] => {
    const labels = name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const z = labels.slice(i).join('.');
      const s = byName.get(z)?.find((r) => r.type === 'SOA');
      if (s) return [{ name: s.name, type: 'SOA', ttl: s.ttl, data: s.data } as dnsPacket.Answer];
    }
    return soa ? [{ name: soa.name, type: 'SOA', ttl: soa.ttl, data: soa.data } as dnsPacket.Answer] : [];
  };

  const answer = (query: dnsPacket.DecodedPacket): dnsPacket.Packet | null => {
    const q = query.questions?.[0];
    const base = { type: 'response' as const, id: query.id ?? 0, questions: query.questions ?? [] };
    if (!q) return { ...base, flags: RCODE.REFUSED };
    const name = q.name.toLowerCase().replace(/\.$/, '');
    if (zones.drop.has(name)) return null;
    if (zones.servfail.has(name)) return { ...base, flags: RCODE.SERVFAIL };
    const answers: dnsPacket.Answer[] = [];
    let cur = name;
    for (let hops = 0; hops < 8; hops++) {
      const rrs = byName.get(cur) ?? [];
      const match = rrs.filter((r) => r.type === q.type);
      if (match.length > 0) {
        for (const r of match)
          answers.push({ name: r.name, type: r.type, ttl: r.ttl, data: r.data } as dnsPacket.Answer);
        break;
      }
      const cname = rrs.find((r) => r.type === 'CNAME');
      if (cname && q.type !== 'CNAME') {
        answers.push({ name: cname.name, type: 'CNAME', ttl: cname.ttl, data: cname.data } as dnsPacket.Answer);
        cur = cname.data as string;
        continue;
      }
      break;
    }
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE;
    if (answers.length > 0) return { ...base, flags, answers };
    if (existing.has(cur)) return { ...base, flags, authorities: soaFor(cur) };
    return { ...base, flags: flags | RCODE.NXDOMAIN, authorities: soaFor(cur) };
  };

  let queries = 0;
  let tcpQueries = 0;
  const udp: Socket = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    queries++;
    const res = answer(query);
    if (!res) return;
    const opt = query.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const limit = Math.max(512, opt?.udpPayloadSize ?? 512);
    let buf = dnsPacket.encode(res);
    if (buf.length > limit)
      buf = dnsPacket.encode({
        ...res,
        flags: (res.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
        answers: [],
        authorities: [],
      });
    udp.send(buf, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;

  const sockets = new Set<import('node:net').Socket>();
  const tcp: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        let query: dnsPacket.DecodedPacket;
        try {
          query = dnsPacket.decode(msg);
        } catch {
          sock.destroy();
          return;
        }
        queries++;
        tcpQueries++;
        const res = answer(query);
        if (res) sock.write(dnsPacket.streamEncode(res));
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', () => resolve());
  });

  return {
    address: `127.0.0.1:${port}`,
    port,
    get queries() {
      return queries;
    },
    set queries(v: number) {
      queries = v;
    },
    get tcpQueries() {
      return tcpQueries;
    },
    servfail(name) {
      zones.servfail.add(name.toLowerCase());
    },
    drop(name) {
      zones.drop.add(name.toLowerCase());
    },
    add(text) {
      const extra = parseZone(text, 'runtime');
      extra.records.forEach(index);
      for (const n of extra.servfail) zones.servfail.add(n);
      for (const n of extra.drop) zones.drop.add(n);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        udp.close(() => tcp.close(() => resolve()));
      }),
  };
}
