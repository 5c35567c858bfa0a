# fish completion for mls-status(1)

function __mls_status_sites --description 'local and the sites of the mls config'
    echo local
    set -l cfg $MLS_CONFIG
    if test -z "$cfg"
        set -l ch $XDG_CONFIG_HOME
        test -z "$ch"; and set ch $HOME/.config
        set cfg $ch/mls/config
    end
    test -r "$cfg"; and sed -n 's/^[[:space:]]*\[site[[:space:]]*"\([^"]*\)"[[:space:]]*\].*/\1/p' $cfg
end

function __mls_status_ids --description 'job ids of the registry, campaign ids'
    set -l d $MLS_DATA_HOME
    if test -z "$d"
        set d $XDG_DATA_HOME
        test -z "$d"; and set d $HOME/.local/share
        set d $d/mls
    end
    for f in $d/registry/jobs/*.json
        printf '%s\tjob\n' (basename $f .json)
    end
    for f in $d/campaigns/*/
        printf '%s\tcampaign\n' (basename $f)
    end
end

complete -c mls-status -f -a '(__mls_status_ids)'
complete -c mls-status -s h -l help -d 'Print the synopsis and exit'
complete -c mls-status -s V -l version -d 'Print the version and exit'
complete -c mls-status -s s -l site -x -a '(__mls_status_sites)' -d 'Open this site first'
complete -c mls-status -l format -x -a 'table json jsonl' -d 'Output format'
complete -c mls-status -s q -l quiet -d 'Print no progress or informational messages'
complete -c mls-status -s v -l verbose -d 'Print debugging messages'
complete -c mls-status -l cancel -d 'Cancel the jobs, or the campaigns and their trials in flight'
complete -c mls-status -l stop -d 'Stop the campaigns: no new trials, those in flight finish'
complete -c mls-status -s c -l campaigns -d 'List the campaigns and ensembles, newest first'
complete -c mls-status -l cancel-on-exit -d 'With --wait, cancel what is waited on when the wait ends early'
complete -c mls-status -l log -d 'Print the end of the standard error of jobs or trials'
complete -c mls-status -l stdout -d 'With --log, the standard output too'
complete -c mls-status -s k -l keep-going -d 'Go on after an unknown id or bad record'
complete -c mls-status -s n -l count -x -d 'Without ids or input, the COUNT most recent jobs'
complete -c mls-status -l timeout -x -d 'With --wait or --watch, give up after this long (exit 124)'
complete -c mls-status -s w -l wait -d 'Wait until every job has finished'
complete -c mls-status -l watch -d 'Follow the jobs until they have all finished'
