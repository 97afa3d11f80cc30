/**
 * Reading the tenant configuration at the edge: a folder of JSON dumps (UTF-8, or UTF-16 LE/BE with a BOM as
 * Windows PowerShell 5.1's `>` writes), or the live Exchange admin API. Both end in the same
 * {@link TenantConfig}, so both give the same scorecard.
 * @module
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExchangeAdminClient } from '../tenant/exchange-admin.js';
import { addBatch, addDocument, CMDLETS, emptyConfig, type TenantConfig } from './config.js';

/** Largest dump file read (a tenant with thousands of transport rules stays far below). */
export const MAX_DUMP_BYTES = 64 * 1024 * 1024;
const MAX_FILES = 200;

/** Decode a dump: BOM-led UTF-16 LE/BE or UTF-8 (BOM optional). */
export function decodeDump(buf: Buffer): string {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    const swapped = Buffer.from(buf.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  return buf.toString('utf8');
}

/** Read every `.json` file of a folder (names do not matter: content decides). */
export async function readConfigDir(dir: string): Promise<TenantConfig> {
  const config = emptyConfig();
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.json')).sort();
  } catch (error) {
    throw new Error(
      `${dir}: cannot read the configuration folder: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  if (names.length > MAX_FILES) throw new Error(`${dir}: more than ${MAX_FILES} .json files`);
  for (const n of names) {
    const path = join(dir, n);
    try {
      const st = await stat(path);
      if (!st.isFile()) continue;
      if (st.size > MAX_DUMP_BYTES) {
        config.problems.push({
          code: 'DS793',
          source: path,
          message: `${path}: larger than ${MAX_DUMP_BYTES} bytes; not read`,
        });
        continue;
      }
      const text = decodeDump(await readFile(path)).trim();
      if (text === '') {
        config.problems.push({ code: 'DS792', source: path, message: `${path}: empty file` });
        continue;
      }
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (error) {
        config.problems.push({
          code: 'DS791',
          source: path,
          message: `${path}: not JSON (${(error as Error).message.slice(0, 120)})`,
        });
        continue;
      }
      addDocument(config, doc, path);
    } catch (error) {
      config.problems.push({
        code: 'DS793',
        source: path,
        message: `${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      });
    }
  }
  return config;
}

/** The same objects through the admin API; a cmdlet that fails is a problem, the others are still read. */
export async function readConfigLive(
  client: ExchangeAdminClient,
  label: string,
  onCmdlet: (done: number, total: number) => void = () => {},
): Promise<{ config: TenantConfig; fatal: string | null }> {
  const config = emptyConfig();
  for (const [i, cmdlet] of CMDLETS.entries()) {
    onCmdlet(i, CMDLETS.length);
    try {
      const rows = await client.invoke(cmdlet, {});
      addBatch(config, cmdlet, rows, `${label} ${cmdlet}`);
    } catch (error) {
      const e = error as Error & { kind?: string };
      // No permission or no token: every other call would fail the same way.
      if (e.kind === 'forbidden' || e.kind === 'unauthorized' || e.kind === 'auth' || e.kind === 'network')
        return { config, fatal: e.message };
      config.problems.push({ code: 'DS793', source: `${label} ${cmdlet}`, message: e.message });
    }
  }
  return { config, fatal: null };
}
