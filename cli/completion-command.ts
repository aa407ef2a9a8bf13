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

/** fishCompletion is the fish script, made from the command table. */
export function fishCompletion(): string {
  const lines = ['# fish completion for tbuild (tbuild completion fish)', 'complete -c tbuild -f'];
  const visible = Object.entries(COMMANDS).filter(([, c]) => c.hidden !== true);
  const names = visible.map(([n]) => n).join(' ');
  for (const [name, spec] of visible) lines.push(`complete -c tbuild -n "not __fish_seen_subcommand_from ${names}" -a ${name} -d ${quote(spec.summary)}`);
  for (const [name, o] of Object.entries(GLOBAL_OPTIONS)) lines.push(`complete -c tbuild -n "not __fish_seen_subcommand_from ${names}" -l ${name}${o.type === 'string' ? ' -r' : ''}`);
  for (const s of scopes()) {
    const [cmd, sub] = s.words.split(' ');
    const subs = Object.keys(s.spec.subcommands ?? {});
    const condition = sub === undefined ? `__fish_seen_subcommand_from ${cmd}` : `__fish_seen_subcommand_from ${cmd}; and __fish_seen_subcommand_from ${sub}`;
    for (const sc of subs) lines.push(`complete -c tbuild -n "__fish_seen_subcommand_from ${cmd}; and not __fish_seen_subcommand_from ${subs.join(' ')}" -a ${sc} -d ${quote(s.spec.subcommands?.[sc]?.summary ?? '')}`);
    const table: OptionTable = { ...COMMON_OPTIONS, ...s.spec.options };
    for (const [flag, o] of Object.entries(table)) {
      lines.push(`complete -c tbuild -n "${condition}" -l ${flag}${o.short === undefined ? '' : ` -s ${o.short}`}${o.type === 'string' ? ' -r -F' : ''}`);
    }
    if (s.spec.operand === 'path' || s.spec.operand === 'file') lines.push(`complete -c tbuild -n "${condition}" -F`);
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
