/**
 * CLI options shared by commands that assess messages or rows: content analysis (`--no-content`), IP origin
 * (`--geoip-db`, `--no-geoip`) and campaign indicators (`--indicators`). Turns the flags into the analysers
 * and extra rule families that `analyzeInputs` / `assess` take.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createContentAnalyzer } from '../content/content-analyzer.js';
import type { MessageRule } from '../core/assess.js';
import { parseCidr } from '../core/net-address.js';
import { createContentRule } from '../core/rules/content.js';
import { type CampaignIndicator, createOriginRule } from '../core/rules/origin.js';
import { openIpLookup } from '../enrich/ip-lookup.js';
import type { ContentAnalyzer } from '../sources/rfc822.js';
import { RuntimeFailure, UsageError } from './io.js';

export interface ExtrasFlags {
  content?: boolean;
  geoip?: boolean;
  geoipDb?: string[];
  indicators?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addExtrasOptions(cmd: Command, opts: { content: boolean }): Command {
  if (opts.content) cmd.option('--no-content', 'skip attachment and body analysis (QR codes, PDFs, archives, URLs)');
  return cmd
    .option('--geoip-db <file>', 'your own MaxMind-format database (country, city or ASN); repeatable', collect)
    .option('--no-geoip', 'skip the bundled offline country / ASN lookup of the connecting IP')
    .option('--indicators <file>', 'campaign IP indicators: one address or CIDR a line, optional ",campaign,source"');
}

/** Parse an indicator file: `address-or-cidr[,campaign[,source]]`, `#` comments. */
export function parseIndicators(text: string, file: string): CampaignIndicator[] {
  const out: CampaignIndicator[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (!line || line.startsWith('#')) continue;
    const [cidr = '', campaign = '', source = ''] = line.split(',').map((s) => s.trim());
    if (!parseCidr(cidr))
      throw new UsageError(`${file} line ${i + 1}: not an IP address or CIDR range: ${cidr.slice(0, 80)}`);
    out.push({ cidr, campaign: campaign || 'a Direct Send campaign', source: source || file });
  }
  return out;
}

export async function buildExtras(
  flags: ExtrasFlags,
  opts: { content: boolean },
): Promise<{ analyzers: ContentAnalyzer[]; extraRules: MessageRule[] }> {
  const analyzers: ContentAnalyzer[] = [];
  const extraRules: MessageRule[] = [];
  if (opts.content && flags.content !== false) {
    analyzers.push(createContentAnalyzer());
    extraRules.push(createContentRule());
  }
  let indicators: CampaignIndicator[] = [];
  if (flags.indicators) {
    let text: string;
    try {
      text = await readFile(flags.indicators, 'utf8');
    } catch (error) {
      throw new RuntimeFailure(`${flags.indicators}: ${error instanceof Error ? error.message : String(error)}`);
    }
    indicators = parseIndicators(text, flags.indicators);
  }
  const dbs = flags.geoipDb ?? [];
  if (flags.geoip === false && dbs.length === 0) {
    extraRules.push(createOriginRule(null, { indicators }));
  } else {
    const r = await openIpLookup({ geoipDbs: dbs, bundled: flags.geoip !== false });
    if (r.status === 'error') throw new RuntimeFailure(r.error);
    extraRules.push(createOriginRule(r.lookup, { indicators }));
  }
  return { analyzers, extraRules };
}
