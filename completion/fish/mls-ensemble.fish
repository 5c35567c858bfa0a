# fish completion for mls-ensemble(1)

function __mls_ensemble_sites --description 'SITE[:CAP][,...]: the site names'
    set -l names local
    set -l cfg $MLS_CONFIG
    if test -z "$cfg"
        set -l ch $XDG_CONFIG_HOME
        test -z "$ch"; and set ch $HOME/.config
        set cfg $ch/mls/config
    end
    test -r "$cfg"; and set -a names (sed -n 's/^[[:space:]]*\[site[[:space:]]*"\([^"]*\)"[[:space:]]*\].*/\1/p' $cfg)
    set -l tok (commandline -ct | string replace -r '^--site=' '')
    set -l pre (string replace -r '[^,]*$' '' -- $tok)
    for n in $names
        echo $pre$n
    end
end

function __mls_ensemble_data --description 'the mls data directory'
    if test -n "$MLS_DATA_HOME"
        echo $MLS_DATA_HOME
        return
    end
    set -l d $XDG_DATA_HOME
    test -z "$d"; and set d $HOME/.local/share
    echo $d/mls
end

function __mls_ensemble_ids --description 'campaign (c-) or ensemble (e-) ids'
    for f in (__mls_ensemble_data)/campaigns/$argv[1]*/
        basename $f
    end
end

function __mls_ensemble_sandboxes --description 'sandboxes in the default file store'
    for f in (__mls_ensemble_data)/store/sandboxes/sha256/*/*.tar.zst
        echo sha256:(basename $f .tar.zst)
    end
end

complete -c mls-ensemble -f -a '(__fish_complete_subcommand)'
complete -c mls-ensemble -s h -l help -d 'Print the synopsis and exit'
complete -c mls-ensemble -s V -l version -d 'Print the version and exit'
complete -c mls-ensemble -s s -l site -x -a '(__mls_ensemble_sites)' -d 'Run on these sites, SITE[:CAP],...'
complete -c mls-ensemble -l format -x -a 'table json jsonl' -d 'Output format'
complete -c mls-ensemble -s q -l quiet -d 'Print no progress or informational messages'
complete -c mls-ensemble -s v -l verbose -d 'Print debugging messages'
complete -c mls-ensemble -l cancel-on-exit -d 'When interrupted, cancel the members in flight'
complete -c mls-ensemble -l cpus -x -d 'CPU slots per member'
complete -c mls-ensemble -s n -l no-input -d 'Never read records from stdin'
complete -c mls-ensemble -l detach -d 'Run the driver in the background, print the ensemble id'
complete -c mls-ensemble -s e -l env -x -d 'Set an environment variable KEY=VALUE for every member'
complete -c mls-ensemble -l folds -x -d 'Member j gets fold j mod K'
complete -c mls-ensemble -l from -x -a '(__mls_ensemble_ids c-)' -d 'Train the best configurations of a campaign'
complete -c mls-ensemble -l gpus -x -d 'GPUs per member'
complete -c mls-ensemble -l image -x -d 'Container image to run in (none for none)'
complete -c mls-ensemble -l members -x -d 'Number of members (seeds per configuration with --from)'
complete -c mls-ensemble -l mem -x -d 'Memory per member (MiB, or 4G)'
complete -c mls-ensemble -l name -x -d 'Name of the member jobs'
complete -c mls-ensemble -l objective -x -d 'Metric every member must report, METRIC[:min|max]'
complete -c mls-ensemble -l parallel -x -d 'Members in flight'
complete -c mls-ensemble -l quorum -x -d 'Members that must succeed (0.95 or 190)'
complete -c mls-ensemble -l resume -x -a '(__mls_ensemble_ids e-)' -d 'Continue an ensemble'
complete -c mls-ensemble -l retries -x -d 'Extra attempts per failed member'
complete -c mls-ensemble -l sandbox -x -a '(__mls_ensemble_sandboxes)' -d 'Sandbox already in the store'
complete -c mls-ensemble -l seed -x -d 'Base seed of the members seeds'
complete -c mls-ensemble -l seed-param -x -d 'Name of the seed parameter'
complete -c mls-ensemble -l time -x -d 'Wall-clock limit per member (90s, 15m, 2h)'
complete -c mls-ensemble -l timeout -x -d 'Start no new member after this long'
complete -c mls-ensemble -l top -x -d 'With --from, the number of configurations'
