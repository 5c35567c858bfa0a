# fish completion for mls-submit(1)

function __mls_submit_sites --description 'local and the sites of the mls config'
    echo local
    set -l cfg $MLS_CONFIG
    if test -z "$cfg"
        set -l ch $XDG_CONFIG_HOME
        test -z "$ch"; and set ch $HOME/.config
        set cfg $ch/mls/config
    end
    test -r "$cfg"; and sed -n 's/^[[:space:]]*\[site[[:space:]]*"\([^"]*\)"[[:space:]]*\].*/\1/p' $cfg
end

function __mls_submit_sandboxes --description 'sandboxes in the default file store'
    set -l d $MLS_DATA_HOME
    if test -z "$d"
        set d $XDG_DATA_HOME
        test -z "$d"; and set d $HOME/.local/share
        set d $d/mls
    end
    for f in $d/store/sandboxes/sha256/*/*.tar.zst
        echo sha256:(basename $f .tar.zst)
    end
end

complete -c mls-submit -f -a '(__fish_complete_subcommand)'
complete -c mls-submit -s h -l help -d 'Print the synopsis and exit'
complete -c mls-submit -s V -l version -d 'Print the version and exit'
complete -c mls-submit -s s -l site -x -a '(__mls_submit_sites)' -d 'Submit to this site'
complete -c mls-submit -l format -x -a 'table json jsonl' -d 'Output format'
complete -c mls-submit -s q -l quiet -d 'Print no progress or informational messages'
complete -c mls-submit -s v -l verbose -d 'Print debugging messages'
complete -c mls-submit -l array -x -d 'Submit N jobs with params.index 0..N-1'
complete -c mls-submit -l cpus -x -d 'CPU slots per job'
complete -c mls-submit -s n -l dry-run -d 'Build and print the job records, submit nothing'
complete -c mls-submit -s e -l env -x -d 'Set an environment variable KEY=VALUE for the command'
complete -c mls-submit -l gpus -x -d 'GPUs per job'
complete -c mls-submit -l image -x -d 'Container image to run in (none for none)'
complete -c mls-submit -l mem -x -d 'Memory per job (MiB, or 4G)'
complete -c mls-submit -l name -x -d 'Name of the jobs'
complete -c mls-submit -l no-input -d 'Never read records from stdin'
complete -c mls-submit -s p -l param -x -d 'Set a parameter KEY=VALUE'
complete -c mls-submit -l sandbox -x -a '(__mls_submit_sandboxes)' -d 'Sandbox already in the store'
complete -c mls-submit -l time -x -d 'Wall-clock limit per job (90s, 15m, 2h)'
complete -c mls-submit -l timeout -x -d 'With --wait, give up after this long (exit 124)'
complete -c mls-submit -s w -l wait -d 'Wait until every job has finished'
complete -c mls-submit -l cancel-on-exit -d 'With --wait, cancel the jobs when the wait ends early'
