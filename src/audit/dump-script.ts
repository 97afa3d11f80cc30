/**
 * `dsguard powershell --config`: the Exchange Online PowerShell that dumps, as JSON, every object `dsguard audit`
 * and `dsguard profile init` read. Each file records which cmdlet wrote it (`{"Cmdlet","Value"}`), so an empty
 * result is still recognised; one cmdlet failing (a tenant without Defender for Office 365, a missing role) does
 * not stop the others. Read-only: only Get-* cmdlets.
 * @module
 */
import { psQuote } from '../core/quote/powershell.js';
import { CMDLETS } from './config.js';

export function configDumpScript(outDir: string): string {
  const lines = [
    '# dsguard: dump the Exchange Online configuration that `dsguard audit` and `dsguard profile init` read.',
    '# Read-only (Get-* cmdlets only). Run in Exchange Online PowerShell after Connect-ExchangeOnline; a read-only',
    '# role such as Global Reader or View-Only Organization Management is enough.',
    '# Works in Windows PowerShell 5.1 and PowerShell 7; then run: dsguard audit --config-dir <this folder>',
    `$out = ${psQuote(outDir)}`,
    'New-Item -ItemType Directory -Force -Path $out | Out-Null',
  ];
  for (const c of CMDLETS) {
    lines.push(
      `try { ConvertTo-Json -Depth 6 -InputObject @{ Cmdlet = '${c}'; Value = @(${c} -ErrorAction Stop) } | Out-File -Encoding utf8 -FilePath (Join-Path $out '${c}.json') } catch { Write-Warning "${c}: $($_.Exception.Message)" }`,
    );
  }
  return `${lines.join('\n')}\n`;
}
