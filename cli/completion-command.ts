import { UsageError } from '../base/errors.js';
import type { CommandIO } from './command-io.js';
import { COMMON_OPTIONS, GLOBAL_OPTIONS, parseCommandArgs, type OptionTable } from './command-line.js';
import { COMMANDS, type CommandSpec, type Operand } from './command-table.js';

/** COMPLETION_HELP is the text of `tbuild completion --help`. */
export const COMPLETION_HELP = `Usage: tbuild completion bash|zsh|fish

Print a script that completes tbuild's commands, subcommands and options in a shell:
  bash:  source <(tbuild completion bash)     (or save it in /etc/bash_completion.d/tbuild)
  zsh:   source <(tbuild completion zsh)      (runs the bash script through bashcompinit)
  fish:  tbuild completion fish | source      (or save it in ~/.config/fish/completions/tbuild.fish)
`;

/** Scope is one place on a command line completion knows: a command or a command's subcommand. */
interface Scope {
  readonly words: string;
  readonly spec: CommandSpec;
}

function scopes(): Scope[] {
  const out: Scope[] = [];
  for (const [name, spec] of Object.entries(COMMANDS)) {
    if (spec.hidden === true) continue;
    out.push({ words: name, spec });
    for (const [sub, s] of Object.entries(spec.subcommands ?? {})) out.push({ words: `${name} ${sub}`, spec: s });
  }
  return out;
}

function flagsOf(options: OptionTable, valuesOnly: boolean): string[] {
  const out: string[] = [];
  const table: OptionTable = { ...COMMON_OPTIONS, ...options };
  for (const [name, o] of Object.entries(table)) {
    if (valuesOnly && o.type !== 'string') continue;
    out.push(`--${name}`);
    if (o.short !== undefined) out.push(`-${o.short}`);
  }
  return out;
}

function operandAction(operand: Operand): string {
  switch (operand) {
    case 'path':
      return 'COMPREPLY=( $(compgen -d -- "$cur") )';
    case 'file':
      return 'COMPREPLY=( $(compgen -f -- "$cur") )';
    case 'none':
    case 'image':
    case 'registry':
    case 'word':
      return 'COMPREPLY=()';
  }
}

/** bashCompletion is the bash completion script, made from the command table. */
export function bashCompletion(): string {
  const all = scopes();
  const visible = Object.entries(COMMANDS).filter(([, c]) => c.hidden !== true).map(([n]) => n);
  const globalValues = flagsOf(GLOBAL_OPTIONS, true).join('|');
  const cases = all.map((s) => {
    const subs = Object.keys(s.spec.subcommands ?? {}).join(' ');
    return [
      `    "${s.words}")`,
      `      opts="${flagsOf(s.spec.options, false).join(' ')}"`,
      `      valueopts=" ${flagsOf(s.spec.options, true).join(' ')} "`,
      `      subs="${subs}"`,
      `      operand='${operandAction(s.spec.operand)}'`,
      '      ;;',
    ].join('\n');
  });
  return `# bash completion for tbuild (tbuild completion bash)
_tbuild() {
  local cur prev scope="" i=1 w opts="" valueopts="" subs="" operand="COMPREPLY=()"
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # The value of a global option, which may come before the command.
  case "$prev" in ${globalValues}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;; esac
  local words=()
  while [ $i -lt $COMP_CWORD ]; do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      ${globalValues}) i=$((i+2)); continue ;;
      -*) ;;
      *) words+=("$w") ;;
    esac
    i=$((i+1))
  done
  if [ \${#words[@]} -ge 2 ] && [ -n "$(_tbuild_scope "\${words[0]} \${words[1]}")" ]; then scope="\${words[0]} \${words[1]}";
  elif [ \${#words[@]} -ge 1 ]; then scope="\${words[0]}"; fi
  if [ -z "$scope" ]; then
    COMPREPLY=( $(compgen -W "${visible.join(' ')} ${flagsOf(GLOBAL_OPTIONS, false).join(' ')} --help --version" -- "$cur") )
    return
  fi
  eval "$(_tbuild_scope "$scope")"
  case "$valueopts" in *" $prev "*) COMPREPLY=( $(compgen -f -- "$cur") ); return ;; esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [ -n "$subs" ] && [ "$scope" = "\${words[0]}" ]; then
    COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
  else
    eval "$operand"
  fi
}
_tbuild_scope() {
  case "$1" in
${cases.join('\n')}
    *) return ;;
  esac
  printf 'opts=%q valueopts=%q subs=%q operand=%q\\n' "$opts" "$valueopts" "$subs" "$operand"
}
complete -F _tbuild tbuild
`;
}

/** zshCompletion is the zsh script: the bash one, through zsh's bashcompinit. */
export function zshCompletion(): string {
  return `#compdef tbuild
# zsh completion for tbuild (tbuild completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion()}`;
}

/** fishOperand is the fish completion of a command's operand: folders for a build context, files for a file. */
function fishOperand(operand: Operand): string | undefined {
  switch (operand) {
    case 'path':
      return `-a '(__fish_complete_directories (commandline -ct))'`;
    case 'file':
      return '-F';
    case 'none':
    case 'image':
    case 'registry':
    case 'word':
      return undefined;
  }
}

/** fishOptions are the `complete` lines of an option table, offered where `condition` holds. */
function fishOptions(options: OptionTable, condition: string): string[] {
  return Object.entries(options).map(([flag, o]) => `complete -c tbuild -n ${condition} -l ${flag}${o.short === undefined ? '' : ` -s ${o.short}`}${o.type === 'string' ? ' -r -F' : ''}`);
}

/**
 * fishCompletion is the fish script, made from the command table. `__tbuild_scope` reads the command line as the bash
 * script does (global options and their values skipped, then the command and a subcommand of it), so a subcommand
 * named as a command (`history prune`, `imagetools inspect`) gets only its own options.
 */
export function fishCompletion(): string {
  const globalValues = Object.entries(GLOBAL_OPTIONS).filter(([, o]) => o.type === 'string').map(([n]) => `--${n}`);
  const pairs = scopes().filter((s) => s.words.includes(' ')).map((s) => quote(s.words));
  const lines = [
    '# fish completion for tbuild (tbuild completion fish)',
    'function __tbuild_scope --description "The tbuild command, and its subcommand, on the command line"',
    '    set -l tokens (commandline -opc)',
    '    set -e tokens[1]',
    '    set -l words',
    '    set -l skip 0',
    '    for w in $tokens',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $w',
    `            case ${globalValues.join(' ')}`,
    '                set skip 1',
    "            case '-*'",
    "            case '*'",
    '                set -a words $w',
    '        end',
    '    end',
    '    set -q words[1]; or return',
    '    if set -q words[2]',
    '        switch "$words[1] $words[2]"',
    `            case ${pairs.join(' ')}`,
    '                echo "$words[1] $words[2]"',
    '                return',
    '        end',
    '    end',
    '    echo $words[1]',
    'end',
    'function __tbuild_in --description "Whether the tbuild command line is in this command (and subcommand)"',
    '    set -l scope (__tbuild_scope)',
    '    test "$scope" = "$argv[1]"',
    'end',
    'complete -c tbuild -f',
  ];
  // Scope names are words of the command table ([a-z-] and a space): they need no escaping inside the quotes.
  const top = `"__tbuild_in ''"`;
  for (const [name, spec] of Object.entries(COMMANDS)) if (spec.hidden !== true) lines.push(`complete -c tbuild -n ${top} -a ${name} -d ${quote(spec.summary)}`);
  lines.push(...fishOptions({ ...GLOBAL_OPTIONS, help: COMMON_OPTIONS.help, version: { type: 'boolean' } }, top));
  for (const s of scopes()) {
    const here = `"__tbuild_in '${s.words}'"`;
    for (const [sub, spec] of Object.entries(s.spec.subcommands ?? {})) lines.push(`complete -c tbuild -n ${here} -a ${sub} -d ${quote(spec.summary)}`);
    lines.push(...fishOptions({ ...COMMON_OPTIONS, ...s.spec.options }, here));
    const operand = fishOperand(s.spec.operand);
    if (operand !== undefined) lines.push(`complete -c tbuild -n ${here} ${operand}`);
  }
  return `${lines.join('\n')}\n`;
}

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** completionCommand runs `tbuild completion bash|zsh|fish`. */
export function completionCommand(args: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('completion', args, {});
  if (values.help === true) {
    io.stdout.write(COMPLETION_HELP);
    return Promise.resolve(0);
  }
  const [shell, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Cannot print a completion script: unexpected argument "${extra[0] ?? ''}"`, { hint: 'tbuild completion bash|zsh|fish' });
  switch (shell) {
    case 'bash':
      io.stdout.write(bashCompletion());
      return Promise.resolve(0);
    case 'zsh':
      io.stdout.write(zshCompletion());
      return Promise.resolve(0);
    case 'fish':
      io.stdout.write(fishCompletion());
      return Promise.resolve(0);
    default:
      throw new UsageError(shell === undefined ? 'Cannot print a completion script: name the shell' : `Cannot print a completion script for "${shell}": expected bash, zsh or fish`, {
        hint: 'tbuild completion bash|zsh|fish',
      });
  }
}
