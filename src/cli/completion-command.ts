/**
 * `dsguard completion <shell>`: a completion script for bash, zsh, fish or PowerShell, generated from the
 * commands' own definitions (names, options, the values of `--format`), so it never lists a flag that does not
 * exist. Commands and options complete; file arguments fall back to the shell's file completion.
 * @module
 */
import type { Command } from 'commander';
import { type CliIo, EXIT, UsageError, write } from './io.js';

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
type Shell = (typeof SHELLS)[number];

interface CommandWords {
  name: string;
  summary: string;
  options: { flags: string[]; description: string }[];
}

/** `allCommands`: the program with every command registered (main.ts passes it: no import back into main). */
export function registerCompletion(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
  allCommands: () => Promise<Command>,
): void {
  program
    .command('completion')
    .description('Print a shell completion script: bash, zsh, fish or powershell')
    .argument('<shell>', SHELLS.join(' | '))
    .action(async (shell: string) => {
      setExit(await runCompletion(shell, io, allCommands));
    });
}

export async function runCompletion(shell: string, io: CliIo, allCommands: () => Promise<Command>): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`shell must be one of ${SHELLS.join(', ')} (got "${shell}")`);
  }
  // Every command's definition, loaded here only: completion scripts are generated once, not at each start.
  await write(io.stdout, completionScript(shell as Shell, commandWords(await allCommands())));
  return EXIT.ok;
}

export function commandWords(program: Command): CommandWords[] {
  return program.commands
    .map((c) => ({
      name: c.name(),
      summary: c.description(),
      options: [
        ...c.options.map((o) => ({
          flags: [o.short, o.long].filter((f): f is string => typeof f === 'string'),
          description: o.description,
        })),
        { flags: ['-h', '--help'], description: 'display help for command' },
      ],
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function completionScript(shell: Shell, commands: CommandWords[]): string {
  switch (shell) {
    case 'bash':
      return bash(commands);
    case 'zsh':
      return zsh(commands);
    case 'fish':
      return fish(commands);
    case 'powershell':
      return powershell(commands);
  }
}

/** Option and command names are ours ([a-z-]); descriptions are quoted for each shell. */
const single = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

function bash(commands: CommandWords[]): string {
  const cases = commands
    .map((c) => `    ${c.name}) opts=${single(c.options.flatMap((o) => o.flags).join(' '))} ;;`)
    .join('\n');
  return `# dsguard completion for bash: source it, or save it as /etc/bash_completion.d/dsguard
_dsguard() {
  local cur cmd opts i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [ -z "$cmd" ]; then
    COMPREPLY=( $(compgen -W ${single(`${commands.map((c) => c.name).join(' ')} help --help --version`)} -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -o bashdefault -F _dsguard dsguard
`;
}

function zsh(commands: CommandWords[]): string {
  const zq = (s: string) =>
    s.replaceAll("'", `'\\''`).replaceAll('[', '\\[').replaceAll(']', '\\]').replaceAll(':', '\\:');
  const list = commands.map((c) => `    '${c.name}:${zq(c.summary)}'`).join('\n');
  const cases = commands
    .map((c) => {
      const specs = c.options.flatMap((o) => o.flags.map((f) => `'${f}[${zq(o.description)}]'`)).join(' ');
      return `    ${c.name}) _arguments ${specs} '*:file:_files' ;;`;
    })
    .join('\n');
  return `#compdef dsguard
# dsguard completion for zsh: save it as _dsguard in a folder of $fpath, or: source <(dsguard completion zsh)
_dsguard() {
  local -a commands
  commands=(
${list}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "\${words[2]}" in
${cases}
  esac
}
compdef _dsguard dsguard
`;
}

function fish(commands: CommandWords[]): string {
  const fq = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const names = commands.map((c) => c.name).join(' ');
  const lines = [
    '# dsguard completion for fish: save it as ~/.config/fish/completions/dsguard.fish',
    'complete -c dsguard -f',
    ...commands.map(
      (c) => `complete -c dsguard -n 'not __fish_seen_subcommand_from ${names}' -a ${c.name} -d ${fq(c.summary)}`,
    ),
  ];
  for (const c of commands) {
    lines.push(`complete -c dsguard -n '__fish_seen_subcommand_from ${c.name}' -F`);
    for (const o of c.options) {
      const parts = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ');
      lines.push(`complete -c dsguard -n '__fish_seen_subcommand_from ${c.name}' ${parts} -d ${fq(o.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function powershell(commands: CommandWords[]): string {
  const pq = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const table = commands
    .map(
      (c) =>
        `  ${pq(c.name)} = @(${c.options
          .flatMap((o) => o.flags)
          .map(pq)
          .join(', ')})`,
    )
    .join('\n');
  return `# dsguard completion for PowerShell: add to $PROFILE, or: dsguard completion powershell | Out-String | Invoke-Expression
$dsguardOptions = @{
${table}
}
Register-ArgumentCompleter -Native -CommandName dsguard -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $words = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
  $command = $words | Where-Object { -not $_.StartsWith('-') -and $_ -ne $wordToComplete } | Select-Object -First 1
  if (-not $command) {
    $candidates = @($dsguardOptions.Keys) + @('help', '--help', '--version')
  } elseif ($wordToComplete.StartsWith('-')) {
    $candidates = $dsguardOptions[$command]
  } else {
    return
  }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | Sort-Object |
    ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }
}
`;
}
