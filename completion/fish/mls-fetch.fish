# fish completion for mls-fetch(1)

function __mls_fetch_sites --description 'local and the sites of the mls config'
    echo local
    set -l cfg $MLS_CONFIG
    if test -z "$cfg"
        set -l ch $XDG_CONFIG_HOME
        test -z "$ch"; and set ch $HOME/.config
        set cfg $ch/mls/config
    end
    test -r "$cfg"; and sed -n 's/^[[:space:]]*\[site[[:space:]]*"\([^"]*\)"[[:space:]]*\].*/\1/p' $cfg
end

function __mls_fetch_ids --description 'job ids of the registry, campaign ids'
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

complete -c mls-fetch -f -a '(__mls_fetch_ids)'
complete -c mls-fetch -s h -l help -d 'Print the synopsis and exit'
complete -c mls-fetch -s V -l version -d 'Print the version and exit'
complete -c mls-fetch -s s -l site -x -a '(__mls_fetch_sites)' -d 'Ignored: jobs are fetched from their own site'
complete -c mls-fetch -l format -x -a 'table json jsonl' -d 'Output format'
complete -c mls-fetch -s q -l quiet -d 'Print no progress or informational messages'
complete -c mls-fetch -s v -l verbose -d 'Print debugging messages'
complete -c mls-fetch -l best -x -d 'Only the K best trials of a campaign'
complete -c mls-fetch -s j -l jobs -x -d 'Download N files at a time'
complete -c mls-fetch -s k -l keep-going -d 'Go on after a job that cannot be fetched'
complete -c mls-fetch -l no-extract -d 'Do not unpack outputs.tar.zst'
complete -c mls-fetch -s o -l output -x -a '(__fish_complete_directories)' -d 'Put the files under this directory'
