/**
 * The optional analysis families, from plain settings: content analysis (analysers + content rules), IP
 * origin (bundled or user MMDB data) and campaign indicators. Shared by the CLI commands and the analysis
 * worker processes; expected failures come back as results, never exceptions.
 * @module
 */
import type { MessageRule } from '../core/assess.js';
import { parseCidr } from '../core/net-address.js';
import { failure, ok, type Result } from '../core/result.js';
import { createContentRule } from '../core/rules/content.js';
import { type CampaignIndicator, createOriginRule } from '../core/rules/origin.js';
import type { ContentAnalyzer } from '../sources/rfc822.js';

/** Plain settings (they cross to worker processes): the flags of `--no-content`, `--geoip-db`, `--no-geoip`, `--indicators`. */
export interface ExtrasFlags {
  content?: boolean;
  geoip?: boolean;
  geoipDb?: string[];
  indicators?: string;
}

export interface AnalysisExtras {
  analyzers: ContentAnalyzer[];
  extraRules: MessageRule[];
}

/** `usage`: the user's input is malformed (an indicator line); `io`: a file could not be read or opened. */
export type ExtrasResult = Result<AnalysisExtras>;

/** Parse an indicator file: `address-or-cidr[,campaign[,source]]`, `#` comments. */
function parseIndicators(text: string, file: string): Result<{ indicators: CampaignIndicator[] }> {
  const indicators: CampaignIndicator[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (!line || line.startsWith('#')) continue;
    const [cidr = '', campaign = '', source = ''] = line.split(',').map((s) => s.trim());
    if (!parseCidr(cidr)) {
      return failure('usage', `${file} line ${i + 1}: not an IP address or CIDR range: ${cidr.slice(0, 80)}`);
    }
    indicators.push({ cidr, campaign: campaign || 'a Direct Send campaign', source: source || file });
  }
  return ok({ indicators });
}

/**
 * Check the settings without building the rules (no bundled IP data loaded): the indicator file parses, each
 * `--geoip-db` opens as a MaxMind database, the bundled data is installed. For callers whose rules are built
 * elsewhere (worker processes) and that want a bad flag reported before any work starts.
 */
export async function checkAnalysisExtras(flags: ExtrasFlags): Promise<ExtrasResult> {
  if (flags.indicators) {
    const parsed = await readIndicators(flags.indicators);
    if (parsed.status === 'error') return parsed;
  }
  const { bundledIpDataMissing, openIpLookup } = await import('../enrich/ip-lookup.js');
  const r = await openIpLookup({ geoipDbs: flags.geoipDb ?? [], bundled: false });
  if (r.status === 'error') return r;
  if (flags.geoip !== false) {
    const missing = bundledIpDataMissing();
    if (missing) return failure('io', missing);
  }
  return ok({ analyzers: [], extraRules: [] });
}

async function readIndicators(path: string): Promise<Result<{ indicators: CampaignIndicator[] }>> {
  let text: string;
  try {
    // node:fs/promises loaded on use: a few milliseconds of start-up otherwise (bench/startup.mjs).
    text = await process.getBuiltinModule('node:fs/promises').readFile(path, 'utf8');
  } catch (error) {
    return failure('io', `${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseIndicators(text, path);
}

export async function buildAnalysisExtras(flags: ExtrasFlags, opts: { content: boolean }): Promise<ExtrasResult> {
  const analyzers: ContentAnalyzer[] = [];
  const extraRules: MessageRule[] = [];
  if (opts.content && flags.content !== false) {
    // Imported here: the content analysers (MIME, PDF, archives, images) are not loaded for header triage.
    const { createContentAnalyzer } = await import('../content/content-analyzer.js');
    analyzers.push(createContentAnalyzer());
    extraRules.push(createContentRule());
  }
  let indicators: CampaignIndicator[] = [];
  if (flags.indicators) {
    const parsed = await readIndicators(flags.indicators);
    if (parsed.status === 'error') return parsed;
    indicators = parsed.indicators;
  }
  const dbs = flags.geoipDb ?? [];
  if (flags.geoip === false && dbs.length === 0) {
    extraRules.push(createOriginRule(null, { indicators }));
  } else {
    // Imported only when IP data is used: --no-geoip loads neither the MMDB reader nor the ASN tables.
    const { openIpLookup } = await import('../enrich/ip-lookup.js');
    const r = await openIpLookup({ geoipDbs: dbs, bundled: flags.geoip !== false });
    if (r.status === 'error') return r;
    extraRules.push(createOriginRule(r.lookup, { indicators }));
  }
  return ok({ analyzers, extraRules });
}
