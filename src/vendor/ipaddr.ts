/**
 * ipaddr.js, loaded through `require`: it is CommonJS, and Node 20's ES module loader pre-parses every CommonJS
 * module it imports for its export names (about 10 ms of each start that handles an IP address). The object is
 * the package's own; only how it is loaded differs. Pure code (src/core/) imports it from here.
 * @module
 */
import { createRequire } from 'node:module';
import type IpAddr from 'ipaddr.js';

const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;
// The package's types under the same name, as `import ipaddr from 'ipaddr.js'` gives them.
declare namespace ipaddr {
  type IPv4 = IpAddr.IPv4;
  type IPv6 = IpAddr.IPv6;
}

export default ipaddr;
