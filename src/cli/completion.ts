/**
 * Shell completion (issue 16): `netcheck completion bash|zsh|fish` prints a script that asks
 * netcheck itself what may come next (yargs' `--get-yargs-completions`), so commands, options,
 * their choices and the built-in catalog names complete from the same definitions as `--help`.
 *
 * The scripts follow yargs' own templates for bash and zsh (which name the program by the path it
 * was started from, `./bin/netcheck.js` in a checkout; these call `netcheck` as installed), fixed
 * to autoload in zsh; yargs has none for fish.
 */
import { builtinNames } from '../catalog/builtin.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The key yargs answers completion requests on. */
const KEY = '--get-yargs-completions';

const BASH = `###-begin-netcheck-completions-###
# netcheck completion for bash. Install:
#   netcheck completion bash > ~/.local/share/bash-completion/completions/netcheck
# or add to ~/.bashrc:  source <(netcheck completion bash)
_netcheck_completions()
{
    local cur_word args type_list
    cur_word="\${COMP_WORDS[COMP_CWORD]}"
    args=("\${COMP_WORDS[@]:0:COMP_CWORD+1}")
    mapfile -t type_list < <(netcheck ${KEY} "\${args[@]}" 2>/dev/null)
    mapfile -t COMPREPLY < <(compgen -W "$( printf '%q ' "\${type_list[@]}" )" -- "\${cur_word}" |
        awk '/ / { print "\\""$0"\\"" } /^[^ ]+$/ { print $0 }')
    return 0
}
complete -o bashdefault -o default -F _netcheck_completions netcheck
###-end-netcheck-completions-###
`;

const ZSH = `#compdef netcheck
###-begin-netcheck-completions-###
# netcheck completion for zsh. Install: netcheck completion zsh > "\${fpath[1]}/_netcheck"
# (then start a new shell), or add to ~/.zshrc after compinit:  source <(netcheck completion zsh)
_netcheck_completions()
{
  local reply
  local si=$IFS
  # ZSH_NAME asks for "value:description" pairs, which _describe shows.
  IFS=$'\\n' reply=($(ZSH_NAME=zsh COMP_CWORD="$((CURRENT-1))" COMP_LINE="$BUFFER" COMP_POINT="$CURSOR" netcheck ${KEY} "\${(@)words[1,CURRENT]}" 2>/dev/null))
  IFS=$si
  if [[ \${#reply} -gt 0 ]]; then
    _describe 'values' reply
  else
    _default
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _netcheck_completions "$@"
else
  compdef _netcheck_completions netcheck
fi
###-end-netcheck-completions-###
`;

const FISH = `# netcheck completion for fish. Install:
#   netcheck completion fish > ~/.config/fish/completions/netcheck.fish
function __netcheck_completions
    set -l words (commandline -opc) (commandline -ct)
    netcheck ${KEY} $words 2>/dev/null
end
complete -c netcheck -f -a '(__netcheck_completions)'
`;

/** The completion script for a shell. */
export function completionScript(shell: Shell): string {
  return shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : FISH;
}

/**
 * yargs' completions plus the built-in catalog names where a catalog is expected: the first word
 * (`netcheck es<TAB>` → eschat) and the catalog of `plan` and `allowlist`.
 */
export function completeWithCatalogs(current: string, argv: { _: (string | number)[] }, defaults: (done: (err: Error | null, c: string[] | undefined) => void) => void, done: (c: string[]) => void): void {
  defaults((_err, completions) => {
    // The default command's name is yargs' `$0` (`$0:description` for zsh): not something to type.
    const out = (completions ?? []).filter((c) => c !== '$0' && !c.startsWith('$0:'));
    // argv._ holds the program name, the words before the cursor and the current one (even empty).
    const words = argv._.map(String).slice(1);
    const position = words.length - 1;
    const catalogHere = !current.startsWith('-') && (position === 0 || (position === 1 && ['plan', 'allowlist'].includes(words[0]!)));
    if (catalogHere) {
      const zsh = /zsh/.test(process.env.ZSH_NAME ?? '') || /zsh/.test(process.env.SHELL ?? '');
      for (const name of builtinNames()) out.push(zsh ? `${name}:built-in catalog` : name);
    }
    done(out);
  });
}
