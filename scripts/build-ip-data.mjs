#!/usr/bin/env node
// Run by `npm run build` after tsc: writes the bundled IP data the package ships to data/ip-location-db/ —
// the compact ASN tables (from @ip-location-db/asn's *-num.csv, CC BY 4.0) and the combined country MMDB
// (@ip-location-db/geo-whois-asn-country-mmdb, CC0) with their licence files. The two packages are build-time
// (dev) dependencies, so an installed dsguard carries 18 MB of data instead of their 93 MB (four CSV forms
// and three MMDB forms, of which two are read).
import { copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'data', 'ip-location-db');
const require = createRequire(import.meta.url);
const pkgDir = (name) => dirname(require.resolve(`${name}/package.json`));

let asnDir;
let countryDir;
try {
  asnDir = pkgDir('@ip-location-db/asn');
  countryDir = pkgDir('@ip-location-db/geo-whois-asn-country-mmdb');
} catch {
  // A production install (npm install --omit=dev) does not rebuild: the data came in the tarball.
  console.error('build-ip-data: @ip-location-db packages not installed; data/ left as it is');
  process.exit(0);
}

mkdirSync(out, { recursive: true });
const { writeAsnTables } = await import(join(root, 'dist', 'enrich', 'asn-table.js'));
const rows = writeAsnTables(asnDir, out);
copyFileSync(join(countryDir, 'geo-whois-asn-country.mmdb'), join(out, 'geo-whois-asn-country.mmdb'));
const licences = [];
for (const [dir, prefix] of [
  [asnDir, 'asn'],
  [countryDir, 'geo-whois-asn-country'],
]) {
  for (const f of readdirSync(dir)) {
    if (/LICENSE|MODIFICATIONS/.test(f)) {
      copyFileSync(join(dir, f), join(out, `${prefix}.${f}`));
      licences.push(`${prefix}.${f}`);
    }
  }
}
const version = (name) => require(`${name}/package.json`).version;
writeFileSync(
  join(out, 'README.md'),
  `# Bundled IP data

Written by \`npm run build\` (scripts/build-ip-data.mjs); do not edit.

- \`asn-ipv4.bin\`, \`asn-ipv6.bin\`: the ASN tables of @ip-location-db/asn ${version('@ip-location-db/asn')}
  (RouteViews, the five RIRs, DB-IP ASN Lite; CC BY 4.0), converted from its \`asn-ipv4-num.csv\` and
  \`asn-ipv6-num.csv\` to dsguard's compact column form (${rows.v4Rows} IPv4 and ${rows.v6Rows} IPv6 ranges;
  no row added, removed or changed).
- \`geo-whois-asn-country.mmdb\`: @ip-location-db/geo-whois-asn-country-mmdb ${version('@ip-location-db/geo-whois-asn-country-mmdb')}
  (CC0), unchanged.

Licences and attributions: ${licences.join(', ')}.
`,
);
const size = readdirSync(out).reduce((n, f) => n + statSync(join(out, f)).size, 0);
console.error(
  `build-ip-data: ${rows.v4Rows} IPv4 + ${rows.v6Rows} IPv6 ASN ranges, ${(size / 1e6).toFixed(1)} MB in data/ip-location-db`,
);
