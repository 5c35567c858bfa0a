# fish completion for mls-search(1)

function __mls_search_sites --description 'SITE[:CAP][,...]: the site names'
    set -l names local
    set -l cfg $MLS_CONFIG
    if test -z "$cfg"
        set -l ch $XDG_CONFIG_HOME
        test -z "$ch"; and set ch $HOME/.config
        set cfg $ch/mls/config
    end
    test -r "$cfg"; and set -a names (sed -n 's/^[[:space:]]*\[site[[:space:]]*"\([^"]*\)"[[:space:]]*\].*/\1/p' $cfg)
    # complete the last element of a comma-separated list
    set -l tok (commandline -ct | string replace -r '^--site=' '')
    set -l pre (string replace -r '[^,]*$' '' -- $tok)
    for n in $names
        echo $pre$n
    end
end

function __mls_search_data --description 'the mls data directory'
    if test -n "$MLS_DATA_HOME"
        echo $MLS_DATA_HOME
        return
    end
    set -l d $XDG_DATA_HOME
    test -z "$d"; and set d $HOME/.local/share
    echo $d/mls
end

function __mls_search_campaigns --description 'campaign ids'
    for f in (__mls_search_data)/campaigns/*/
        basename $f
    end
end

function __mls_search_sandboxes --description 'sandboxes in the default file store'
    for f in (__mls_search_data)/store/sandboxes/sha256/*/*.tar.zst
        echo sha256:(basename $f .tar.zst)
    end
end

function __mls_search_param --description 'NAME=TYPE:ARGS: the types after NAME='
    set -l tok (commandline -ct | string replace -r '^--param=' '')
    string match -q -- '*=*' $tok; or return
    set -l name (string replace -r '=.*' '' -- $tok)
    for t in uniform loguniform int intlog choice fixed
        printf '%s=%s:\n' $name $t
    end
end

complete -c mls-search -f -a '(__fish_complete_subcommand)'
complete -c mls-search -s h -l help -d 'Print the synopsis and exit'
complete -c mls-search -s V -l version -d 'Print the version and exit'
complete -c mls-search -s s -l site -x -a '(__mls_search_sites)' -d 'Run on these sites, SITE[:CAP],...'
complete -c mls-search -l format -x -a 'table json jsonl' -d 'Output format'
complete -c mls-search -s q -l quiet -d 'Print no progress or informational messages'
complete -c mls-search -s v -l verbose -d 'Print debugging messages'
complete -c mls-search -l algorithm -x -a 'random grid sobol tpe exec:' -d 'The sampler'
complete -c mls-search -l ask-tell -d 'Run no jobs: be a sampler on stdin and stdout'
complete -c mls-search -l cancel-on-exit -d 'When interrupted, cancel the trials in flight'
complete -c mls-search -l cpus -x -d 'CPU slots per trial'
complete -c mls-search -s n -l no-input -d 'Never read records from stdin'
complete -c mls-search -l detach -d 'Run the driver in the background, print the campaign id'
complete -c mls-search -s e -l env -x -d 'Set an environment variable KEY=VALUE for every trial'
complete -c mls-search -l gpus -x -d 'GPUs per trial'
complete -c mls-search -l image -x -d 'Container image to run in (none for none)'
complete -c mls-search -l independent -d 'Let tpe model the parameters one by one'
complete -c mls-search -l max-failures -x -d 'End the campaign after N failed trials'
complete -c mls-search -l mem -x -d 'Memory per trial (MiB, or 4G)'
complete -c mls-search -l metric-regex -x -d 'Read the objective from stdout with this regex'
complete -c mls-search -l multivariate -d 'Let tpe model the parameters jointly'
complete -c mls-search -l name -x -d 'Name of the trial jobs'
complete -c mls-search -l objective -x -d 'Metric to optimise, METRIC[:min|max]'
complete -c mls-search -s p -l param -x -a '(__mls_search_param)' -d 'Add a parameter NAME=TYPE:ARGS'
complete -c mls-search -l parallel -x -d 'Trials in flight'
complete -c mls-search -l prune -x -a 'median asha' -d 'Stop unpromising trials early'
complete -c mls-search -l reduce -x -a 'last best mean' -d 'How metric values become the objective'
complete -c mls-search -l resume -x -a '(__mls_search_campaigns)' -d 'Continue a campaign'
complete -c mls-search -l sandbox -x -a '(__mls_search_sandboxes)' -d 'Sandbox already in the store'
complete -c mls-search -l seed -x -d 'Seed of the sampler'
complete -c mls-search -l space -r -F -d 'Search space file (JSON or YAML)'
complete -c mls-search -l startup -x -d 'Random trials before tpe models'
complete -c mls-search -l time -x -d 'Wall-clock limit per trial (90s, 15m, 2h)'
complete -c mls-search -l timeout -x -d 'Start no new trial after this long'
complete -c mls-search -l trials -x -d 'Run at most N trials'
