/**
 * The collection commands for a tenant (`dsguard powershell`). Every interpolated value goes through core/quote:
 * checked for its kind (domain, address, path) and written as a single-quoted PowerShell literal, or withheld
 * (`<withheld: reason>`, which PowerShell refuses to parse, so the script cannot run with it). The connector plan's
 * commands are in report/connector-plan.ts and report/runbook.ts.
 * @module
 */
import { psValue } from '../core/quote/powershell.js';
import { checkValue, type ValueKind, withheldText } from '../core/quote/values.js';

/**
 * Exchange Online Protection's own sending ranges (spf.protection.outlook.com): mail relayed by Microsoft from
 * another tenant. Trace detail of it cannot show Direct Send, so the script does not ask for it.
 */
export const MICROSOFT_RANGES = [
  '40.92.0.0/15',
  '40.107.0.0/16',
  '52.100.0.0/14',
  '104.47.0.0/17',
  '2a01:111:f400::/48',
  '2a01:111:f403::/48',
] as const;

/** Seconds between trace-detail calls: 100 requests per 5 minutes. */
export const DETAIL_CALL_SECONDS = 3;

function list(kind: ValueKind, values: readonly string[], withheld: string[]): string {
  return values.map((v) => psValue(kind, v, withheld)).join(',');
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
  const withheld: string[] = [];
  const domains = list('domain', input.domains, withheld);
  const days = Math.max(1, Math.min(90, Math.floor(input.days)));
  const notify =
    input.notifyAddress === null ? '' : ` -NotifyAddress ${psValue('address', input.notifyAddress, withheld)}`;
  const out = psValue('path', input.outDir, withheld);
  const shown = (kind: ValueKind, v: string) => {
    const c = checkValue(kind, v);
    return c.ok ? c.value : withheldText(c.reason);
  };
  const title = input.tenantName ? ` for ${shown('text', input.tenantName)}` : '';
  const ranges = MICROSOFT_RANGES.map((r) => `'${r}'`).join(', ');
  const stop =
    withheld.length === 0
      ? ''
      : `# NOT RUNNABLE: value(s) withheld (${[...new Set(withheld)].join('; ')}); PowerShell refuses to parse them.\n`;
  return `${stop}# dsguard collection commands${title}
# Run in Exchange Online PowerShell (Connect-ExchangeOnline). Files land in ${shown('path', input.outDir)};
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

# 3. Trace detail, only where it can change a verdict: mail whose envelope sender is one of your domains, to one
#    of your mailboxes, from a connecting IP that is known and not Microsoft's own (Exchange Online Protection),
#    and at most one message per source IP, sender and day (a source's other messages that day are judged with
#    it). The RECEIVE event shows whether an inbound connector matched (S:InboundConnectorData), the connecting
#    IP and TLS. Expect about one call per Direct Send source IP, sender and day it sends: 10 printers or apps
#    with one sender each, sending daily for ${days} days, make about ${10 * days} calls (${Math.ceil((10 * days * DETAIL_CALL_SECONDS) / 60)} minutes at ${DETAIL_CALL_SECONDS} s a call).
#    The exact count is printed before the first call.
$MicrosoftRanges = @(${ranges})
function Test-InRange([string]$Ip, [string]$Range) {
  $Address = $null
  if (-not [System.Net.IPAddress]::TryParse($Ip, [ref]$Address)) { return $false }
  $Net, $Bits = $Range -split '/'
  $A = $Address.GetAddressBytes()
  $N = [System.Net.IPAddress]::Parse($Net).GetAddressBytes()
  if ($A.Length -ne $N.Length) { return $false }
  $Left = [int]$Bits
  for ($I = 0; $I -lt $A.Length -and $Left -gt 0; $I++) {
    $Mask = if ($Left -ge 8) { 255 } else { (255 -shl (8 - $Left)) -band 255 }
    if (($A[$I] -band $Mask) -ne ($N[$I] -band $Mask)) { return $false }
    $Left -= 8
  }
  return $true
}
$DetailFile = Join-Path $OutDir 'messagetrace-detail-v2.csv'
$Candidates = @(Import-Csv -Path $TraceFile | Where-Object {
  $From = $_.FromIP
  ($Domains -contains ($_.SenderAddress -split '@')[-1]) -and ($Domains -contains ($_.RecipientAddress -split '@')[-1]) -and
    $From -and -not ($MicrosoftRanges | Where-Object { Test-InRange $From $_ })
} | Sort-Object Received, MessageTraceId, RecipientAddress |
  Group-Object { '{0}|{1}|{2}' -f $_.FromIP, $_.SenderAddress.ToLowerInvariant(), ([string]$_.Received + '          ').Substring(0, 10) } |
  ForEach-Object { $_.Group[0] })
Write-Host ('Get-MessageTraceDetailV2: {0} call(s), about {1} minute(s)' -f $Candidates.Count, [math]::Ceiling($Candidates.Count * ${DETAIL_CALL_SECONDS} / 60))
foreach ($Message in $Candidates) {
  Get-MessageTraceDetailV2 -MessageTraceId $Message.MessageTraceId -RecipientAddress $Message.RecipientAddress |
    Select-Object @{ Name = 'Date'; Expression = { if ($_.Date) { $_.Date.ToString('o') } } }, Event, Action, Detail, Data, MessageId, MessageTraceId,
      @{ Name = 'RecipientAddress'; Expression = { $Message.RecipientAddress } },
      @{ Name = 'SenderAddress'; Expression = { $Message.SenderAddress } } |
    Export-Csv -Path $DetailFile -Append -NoTypeInformation -Encoding UTF8
  Start-Sleep -Seconds ${DETAIL_CALL_SECONDS}   # 100 requests per 5 minutes
}
`;
}
