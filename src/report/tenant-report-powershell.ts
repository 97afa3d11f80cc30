/**
 * PowerShell text for a tenant: the collection commands (`dsguard powershell`) and the connector plan's
 * New-InboundConnector / Set-OrganizationConfig steps. Every interpolated value is a single-quoted PowerShell
 * literal built by {@link psQuote}: domains and addresses come from the profile or from exports, so they are
 * treated as untrusted (quotes doubled, including the Unicode quotes PowerShell also accepts; control characters
 * dropped).
 * @module
 */

// PowerShell treats U+2018..U+201B like the ASCII apostrophe in single-quoted strings.
const SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;
// C0/C1 controls, DEL, bidi and zero-width characters, line/paragraph separators.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/** A single-quoted PowerShell string literal holding `value` verbatim (minus control characters). */
export function psQuote(value: string): string {
  return `'${value.replace(UNSAFE, '').replace(SINGLE_QUOTES, (q) => q + q)}'`;
}

/** `'a','b'` — a PowerShell array of single-quoted literals. */
export function psList(values: readonly string[]): string {
  return values.map(psQuote).join(',');
}

/** A POSIX shell single-quoted word (for the `dsguard probe` line). */
export function shQuote(value: string): string {
  return `'${value.replace(UNSAFE, '').replace(/'/g, `'\\''`)}'`;
}

/** A connector name from untrusted text: letters, digits, space and `._()-`, at most 64 characters. */
export function connectorLabel(text: string): string {
  const t = trimLabelEnds(text.replace(/[^A-Za-z0-9 ._()-]+/g, '-').replace(/-{2,}/g, '-'));
  return (t.length > 0 ? t : 'source').slice(0, 64);
}

/**
 * `-`, `.` and spaces trimmed from both ends, by index: the expression `/[-. ]+$/` is tried at every start of a
 * long run of `". "` inside the text and scans the run each time (quadratic).
 */
function trimLabelEnds(t: string): string {
  const trimmed = (c: number) => c === 45 || c === 46 || c === 32;
  let a = 0;
  let b = t.length;
  while (a < b && trimmed(t.charCodeAt(a))) a++;
  while (b > a && trimmed(t.charCodeAt(b - 1))) b--;
  return t.slice(a, b);
}

export interface ConnectorCommandInput {
  name: string;
  ipv4: string[];
  certificate: string | null;
  senderDomains: string[];
  requireTls: boolean;
  comment: string;
}

/**
 * A Partner inbound connector restricted to the source's IPv4 addresses (or its TLS certificate), for the
 * sender domains it actually uses — never `SenderDomains *`.
 */
export function newInboundConnectorCommand(c: ConnectorCommandInput): string {
  const parts = [
    'New-InboundConnector',
    `-Name ${psQuote(c.name)}`,
    '-ConnectorType Partner',
    `-SenderDomains ${psList(c.senderDomains)}`,
  ];
  if (c.ipv4.length > 0) {
    parts.push(`-SenderIPAddresses ${psList(c.ipv4)}`, '-RestrictDomainsToIPAddresses $true');
  }
  if (c.certificate !== null) {
    parts.push(`-TlsSenderCertificateName ${psQuote(c.certificate)}`, '-RestrictDomainsToCertificate $true');
  }
  parts.push(`-RequireTls ${c.requireTls || c.certificate !== null ? '$true' : '$false'}`);
  parts.push(`-Comment ${psQuote(c.comment)}`);
  return parts.join(' ');
}

export interface CollectionScriptInput {
  tenantName: string | null;
  domains: readonly string[];
  days: number;
  notifyAddress: string | null;
  outDir: string;
}

/** A KQL list of domain-name literals (anything but letters, digits, dots and hyphens is dropped). */
function kqlDomains(domains: readonly string[]): string {
  const safe = domains.map((d) => d.toLowerCase()).filter((d) => /^[a-z0-9.-]+$/.test(d));
  return safe.map((d) => `"${d}"`).join(', ');
}

/**
 * Defender advanced hunting (Defender for Office 365 Plan 2), for mail from the tenant's own domains: what came
 * in from outside (Direct Send, spoofs, connector mail) with the columns `dsguard ingest` reads, and the URL and
 * attachment rows of those messages (QR-code URLs included); apart, the same domains' Intra-org (authenticated)
 * mail, which settles the trace candidates — apart because it is most of a tenant's mail, and a query returns at
 * most 100,000 rows. 30 days: what advanced hunting keeps. None without a domain name to put in them.
 */
function huntingQueries(domains: readonly string[]): { name: string; kql: string }[] {
  const list = kqlDomains(domains);
  if (list === '') return [];
  const own = (direction: string) => `EmailEvents
| where Timestamp > ago(30d) and EmailDirection == "${direction}"
| where SenderMailFromDomain in~ (${list}) or SenderFromDomain in~ (${list})`;
  const columns = `| project Timestamp, NetworkMessageId, InternetMessageId, SenderMailFromAddress, SenderMailFromDomain,
    SenderFromAddress, SenderFromDomain, SenderDisplayName, SenderIPv4, SenderIPv6, RecipientEmailAddress, Subject,
    EmailDirection, DeliveryAction, DeliveryLocation, ThreatTypes, DetectionMethods, AuthenticationDetails,
    Connectors, AttachmentCount, UrlCount`;
  const inbound = `let messages = ${own('Inbound').replace(/\n/g, '\n    ')}
    | distinct NetworkMessageId;`;
  return [
    { name: 'hunting-emailevents', kql: `${own('Inbound')}\n${columns}` },
    {
      name: 'hunting-urls',
      kql: `${inbound}
EmailUrlInfo
| where Timestamp > ago(30d) and NetworkMessageId in (messages)
| project Timestamp, NetworkMessageId, Url, UrlDomain, UrlLocation`,
    },
    {
      name: 'hunting-attachments',
      kql: `${inbound}
EmailAttachmentInfo
| where Timestamp > ago(30d) and NetworkMessageId in (messages)
| project Timestamp, NetworkMessageId, SenderFromAddress, RecipientEmailAddress, FileName, FileType, SHA256,
    FileSize, ThreatTypes`,
    },
    { name: 'hunting-intraorg', kql: `${own('Intra-org')}\n${columns}` },
  ];
}

/**
 * The collection commands for a tenant: a historical search of inbound mail that matched no connector, the
 * Get-MessageTraceV2 loop in 10-day windows with StartingRecipientAddress paging, and Get-MessageTraceDetailV2 for
 * the candidates (internal sender to internal recipient), and the Defender advanced-hunting queries. The files it
 * writes are what `dsguard ingest` reads.
 */
export function collectionScript(input: CollectionScriptInput): string {
  const queries = huntingQueries(input.domains);
  const hunting =
    queries.length === 0
      ? ''
      : `
# With Defender for Office 365 Plan 2 (advanced hunting keeps 30 days): these queries are saved first, in the
# 'queries' folder. Run each in the Defender portal (Hunting > Advanced hunting) and export the results as CSV
# into the exports folder: ingest then tells Direct Send from connector and authenticated mail, and adds
# SPF/DKIM/DMARC, threat verdicts, URLs (QR codes included) and attachments. A query returns at most 100,000
# rows: if the portal says the results were cut, run it again over shorter periods (Timestamp between (...)).
$QueryDir = Join-Path $OutDir 'queries'
New-Item -ItemType Directory -Force -Path $QueryDir | Out-Null
$Queries = [ordered]@{
${queries.map((q) => `  '${q.name}' = @'\n${q.kql}\n'@`).join('\n')}
}
foreach ($Name in $Queries.Keys) {
  Set-Content -Path (Join-Path $QueryDir ($Name + '.kql')) -Value $Queries[$Name] -Encoding UTF8
}`;
  const domains = psList(input.domains);
  const days = Math.max(1, Math.min(90, Math.floor(input.days)));
  const notify = input.notifyAddress === null ? '' : ` -NotifyAddress ${psQuote(input.notifyAddress)}`;
  const out = psQuote(input.outDir);
  const title = input.tenantName ? ` for ${input.tenantName.replace(UNSAFE, '')}` : '';
  return `# dsguard collection commands${title}
# Run in Exchange Online PowerShell (Connect-ExchangeOnline). Files land in ${input.outDir.replace(UNSAFE, '')};
# then: dsguard ingest <those files> --profile dsguard.yml
$ErrorActionPreference = 'Stop'
$Domains = @(${domains})
$OutDir = ${out}
New-Item -ItemType Directory -Force -Path $OutDir | Out-Null
$End = (Get-Date).ToUniversalTime()
$Start = $End.AddDays(-${days})
${hunting}

# 1. Historical search (up to 90 days): inbound messages that matched no connector. When the UTF-16 CSV report
#    is ready (Get-HistoricalSearch shows it; -NotifyAddress mails you), download it from the EAC
#    (Mail flow > Message trace > Downloadable reports).
Start-HistoricalSearch -ReportTitle ('dsguard-noconnector-' + $End.ToString('yyyyMMdd')) -ReportType ConnectorReport \`
  -ConnectorType NoConnector -Direction Received -StartDate $Start -EndDate $End${notify}

# 2. Message trace of mail from your domains, in 10-day windows (the most one query covers). Get-MessageTraceV2
#    returns at most 5000 rows a call and has no pages: continue from the last row with StartingRecipientAddress
#    and its Received time as the new EndDate. Times are written ISO 8601 ('o'), whatever this session's culture.
$TraceFile = Join-Path $OutDir 'messagetrace-v2.csv'
foreach ($Domain in $Domains) {
  for ($WindowStart = $Start; $WindowStart -lt $End; $WindowStart = $WindowStart.AddDays(10)) {
    $WindowEnd = if ($WindowStart.AddDays(10) -lt $End) { $WindowStart.AddDays(10) } else { $End }
    $Page = @{ SenderAddress = ('*@' + $Domain); StartDate = $WindowStart; EndDate = $WindowEnd; ResultSize = 5000 }
    do {
      $Rows = @(Get-MessageTraceV2 @Page)
      $Rows | Select-Object MessageTraceId, MessageId, @{ Name = 'Received'; Expression = { if ($_.Received) { $_.Received.ToString('o') } } },
          SenderAddress, RecipientAddress, FromIP, ToIP, Subject, Status, Size |
        Export-Csv -Path $TraceFile -Append -NoTypeInformation -Encoding UTF8
      if ($Rows.Count -lt 5000) { break }
      $Last = $Rows[-1]
      $Page.EndDate = $Last.Received
      $Page.StartingRecipientAddress = $Last.RecipientAddress
      Start-Sleep -Seconds 3   # 100 requests per 5 minutes
    } while ($true)
  }
}

# 3. Trace detail of the candidates: internal sender to internal recipient. Receive events show whether an
#    inbound connector matched (S:InboundConnectorData), the connecting IP and TLS.
$DetailFile = Join-Path $OutDir 'messagetrace-detail-v2.csv'
$Candidates = Import-Csv -Path $TraceFile | Where-Object {
  ($Domains -contains ($_.SenderAddress -split '@')[-1]) -and ($Domains -contains ($_.RecipientAddress -split '@')[-1])
} | Sort-Object MessageTraceId, RecipientAddress -Unique
foreach ($Message in $Candidates) {
  Get-MessageTraceDetailV2 -MessageTraceId $Message.MessageTraceId -RecipientAddress $Message.RecipientAddress |
    Select-Object @{ Name = 'Date'; Expression = { if ($_.Date) { $_.Date.ToString('o') } } }, Event, Action, Detail, Data, MessageId, MessageTraceId,
      @{ Name = 'RecipientAddress'; Expression = { $Message.RecipientAddress } },
      @{ Name = 'SenderAddress'; Expression = { $Message.SenderAddress } } |
    Export-Csv -Path $DetailFile -Append -NoTypeInformation -Encoding UTF8
  Start-Sleep -Seconds 3   # 100 requests per 5 minutes
}
`;
}
