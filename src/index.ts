/**
 * dsguard as a library: `import { analyzeMessage, assess } from 'dsguard'`.
 * @module
 */
export {
  type AnalyzedMessage,
  type AnalyzeResult,
  analyzeInputs,
  analyzeMessage,
  isAnalyzeError,
} from './analyze/analyze.js';
export { type AuditInput, auditTenant, type ControlRow, type Scorecard } from './audit/checks.js';
export type { TenantConfig } from './audit/config.js';
export { readConfigDir, readConfigLive } from './audit/config-source.js';
export { recordSourceDecision, type SourceDecision } from './config/profile-edit.js';
export { loadProfile, parseProfile } from './config/profile-file.js';
export { type ContentAnalyzerOptions, createContentAnalyzer } from './content/content-analyzer.js';
export { type ContentLimits, DEFAULT_CONTENT_LIMITS } from './content/limits.js';
export { ContentSandbox, DEFAULT_SANDBOX_OPTIONS, type SandboxOptions } from './content/sandbox.js';
export { assess, type MessageRule, type RuleContext } from './core/assess.js';
export type { Assessment, Channel, Verdict } from './core/assessment.js';
export type { MessageEvidence } from './core/evidence.js';
export { emptyEvidence } from './core/evidence.js';
export type { EvidenceRef, Finding, FindingCode, Severity } from './core/finding.js';
export { type DmarcRecord, parseDmarc } from './core/posture/dmarc.js';
export type { DnsAnswer, DnsFailure, DnsRecordType, MxRecord } from './core/posture/dns-answer.js';
export {
  auditExposure,
  type DomainExposure,
  type ExposureRisk,
  type Recommendation,
} from './core/posture/exposure-audit.js';
export { MX_PROVIDERS, type MxProvider, mxProvider } from './core/posture/mx-providers.js';
export { classifyProbe, type ProbeResult, type ProbeVerdict } from './core/posture/probe-verdict.js';
export { derivedSmartHost, domainToken } from './core/posture/smart-host.js';
export { auditSpf, parseSpf, type SpfAudit } from './core/posture/spf.js';
export { emptyProfile, type TenantProfile } from './core/profile.js';
export type { ErrorKind, Failure, Ok, Result } from './core/result.js';
export { isFindingCode, RULES, type RuleInfo } from './core/rules/catalog.js';
export { type ContentRuleOptions, createContentRule } from './core/rules/content.js';
export { type CampaignIndicator, createOriginRule, type IpInfo, type IpLookup } from './core/rules/origin.js';
export { assessReadiness, type Readiness, type ReadinessBlocker } from './core/sources/readiness.js';
export { type SourceFacts, type SourceVerdict, type SourceWeighing, weighSource } from './core/sources/weigh-source.js';
export { openIpLookup } from './enrich/ip-lookup.js';
export { auditDomain, auditDomains, readDomainList } from './exposure/exposure.js';
export {
  type FileIngestSummary,
  type IngestOptions,
  type IngestSummary,
  ingest,
  type RowError,
} from './ingest/ingest.js';
export {
  CachingResolver,
  type DnsOptions,
  RecordingResolver,
  ReplayResolver,
  type Resolver,
  SystemResolver,
} from './net/dns.js';
export { type ProbeOptions, type ProbeReport, probeDomain } from './probe/probe.js';
export { runSmtpProbe, type SmtpProbeOptions, type SmtpProbeSession } from './probe/smtp-probe.js';
export {
  buildTenantReport,
  type SourceEntry,
  type TenantReport,
  type TenantReportOptions,
  tenantReportFromFile,
} from './report/tenant-report.js';
export { collectionScript, psQuote } from './report/tenant-report-powershell.js';
export { DsguardStore } from './store/dsguard-store.js';
export { type CredentialSpec, createTokenSource, type TokenSource } from './tenant/auth.js';
export { type ExchangeAdminClient, exchangeAdminClient } from './tenant/exchange-admin.js';
