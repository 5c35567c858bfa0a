#!/bin/sh
# A real single-host Slurm 22.05 (Debian packages) under a private directory,
# without systemd: munged, slurmctld, NODES slurmd on loopback ports with
# fake GPU gres, and slurmrestd with JWT.
#
#   eval "$(tests/services/slurm.sh start DIR)"   # prints the env to use
#   tests/services/slurm.sh env DIR               # the same, for a running one
#   tests/services/slurm.sh restart-ctld DIR      # stop and start slurmctld
#   tests/services/slurm.sh stop DIR              # every daemon, by PID
#
# start is idempotent: a cluster already up under DIR is reused.  It exits
# 77 with the reason on stderr when Slurm cannot run here (callers skip).
# Settings (environment): NODES (4), CPUS per node (8), GPUS per node (2),
# PORT0 (slurmctld port; the slurmd ports follow it; default derived from
# DIR), REST (1: start slurmrestd), MIN_JOB_AGE (600).
#
# The env printed: SLURM_CONF, MLS_TEST_SLURM_DIR, MLS_TEST_SLURM_URL,
# MLS_TEST_SLURM_TOKEN_FILE (a JWT for root, mode 600, never printed).
set -eu

cmd=${1:?usage: slurm.sh start|stop|env|restart-ctld DIR}
dir=${2:?usage: slurm.sh start|stop|env|restart-ctld DIR}

NODES=${NODES:-4}
CPUS=${CPUS:-8}
GPUS=${GPUS:-2}
REST=${REST:-1}
MIN_JOB_AGE=${MIN_JOB_AGE:-600}

skip() { echo "slurm unavailable: $*" >&2; exit 77; }

unset SLURM_JWT SLURM_CONF

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

print_env() {
	echo "export SLURM_CONF='$dir/etc/slurm.conf'"
	echo "export MLS_TEST_SLURM_DIR='$dir'"
	if [ -f "$dir/run/rest.port" ]; then
		echo "export MLS_TEST_SLURM_URL='http://127.0.0.1:$(cat "$dir/run/rest.port")'"
		echo "export MLS_TEST_SLURM_TOKEN_FILE='$dir/run/token'"
	fi
}

start_ctld() {
	slurmctld -D -i -f "$dir/etc/slurm.conf" >>"$dir/log/slurmctld.out" 2>&1 &
	echo $! >"$dir/run/slurmctld.pid"
}

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	_n=$(($1 * 10)); shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

ctld_up() { SLURM_CONF=$dir/etc/slurm.conf scontrol ping 2>/dev/null | grep -q UP; }

all_idle() {
	_idle=$(SLURM_CONF=$dir/etc/slurm.conf sinfo -h -N -t idle -o '%N' 2>/dev/null | sort -u | wc -l)
	[ "$_idle" -ge "$NODES" ]
}

stop_all() {
	[ -d "$dir/run" ] || return 0
	export SLURM_CONF="$dir/etc/slurm.conf"
	if [ -f "$dir/run/slurmctld.pid" ] && pid_alive "$dir/run/slurmctld.pid"; then
		scancel --me >/dev/null 2>&1 || :
		# slurmstepd's outlive slurmd and are in no pid file: wait for them
		_n=100
		while [ "$_n" -gt 0 ]; do
			_q=$(squeue -h -t running,completing 2>/dev/null || echo busy)
			[ -z "$_q" ] && break
			sleep 0.1
			_n=$((_n - 1))
		done
	fi
	_pids=
	for f in "$dir"/run/slurmrestd.pid "$dir"/run/slurmd-*.pid "$dir"/run/slurmctld.pid; do
		[ -f "$f" ] || continue
		_p=$(cat "$f")
		kill -TERM "$_p" 2>/dev/null && _pids="$_pids $_p"
		rm -f "$f"
	done
	for _p in $_pids; do
		_n=100
		while kill -0 "$_p" 2>/dev/null && [ "$_n" -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
		kill -KILL "$_p" 2>/dev/null || :
	done
	# any slurmstepd of ours still there (its spool dir is under $dir)
	for _p in $(pgrep -f "slurmstepd" 2>/dev/null || :); do
		if grep -qs "$dir" "/proc/$_p/environ" "/proc/$_p/cmdline"; then
			kill -KILL "$_p" 2>/dev/null || :
		fi
	done
	if [ -f "$dir/run/munged.pid" ]; then
		_p=$(cat "$dir/run/munged.pid")
		kill -TERM "$_p" 2>/dev/null || :
		_n=50
		while kill -0 "$_p" 2>/dev/null && [ "$_n" -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
		kill -KILL "$_p" 2>/dev/null || :
		rm -f "$dir/run/munged.pid"
	fi
}

case $cmd in
stop)
	stop_all
	exit 0 ;;
env)
	[ -f "$dir/etc/slurm.conf" ] || { echo "slurm.sh: no cluster under '$dir'" >&2; exit 1; }
	print_env
	exit 0 ;;
restart-ctld)
	export SLURM_CONF="$dir/etc/slurm.conf"
	if [ -f "$dir/run/slurmctld.pid" ]; then
		_p=$(cat "$dir/run/slurmctld.pid")
		kill -TERM "$_p" 2>/dev/null || :
		_n=100
		while kill -0 "$_p" 2>/dev/null && [ "$_n" -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
		kill -KILL "$_p" 2>/dev/null || :
	fi
	sleep "${DOWN_S:-0}"
	start_ctld
	wait_for 30 ctld_up || { echo "slurm.sh: slurmctld did not come back" >&2; exit 1; }
	exit 0 ;;
start) ;;
*) echo "usage: slurm.sh start|stop|env|restart-ctld DIR" >&2; exit 64 ;;
esac

for p in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
	command -v "$p" >/dev/null 2>&1 || skip "'$p' not found (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" -eq 0 ] || skip "needs root (SlurmUser=root, private munged)"
if [ "$REST" = 1 ] && ! command -v slurmrestd >/dev/null 2>&1; then
	skip "'slurmrestd' not found (apt-get install slurmrestd)"
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Already up?
if pid_alive "$dir/run/slurmctld.pid" && pid_alive "$dir/run/munged.pid" &&
    ctld_up && { [ "$REST" != 1 ] || pid_alive "$dir/run/slurmrestd.pid"; }; then
	print_env
	exit 0
fi
stop_all

# Ports: derived from the directory so that clusters side by side differ.
if [ -z "${PORT0:-}" ]; then
	_h=$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
	PORT0=$((20000 + (_h % 2000) * 16))
fi
SPORT=$((PORT0 + 1))
RPORT=$((PORT0 + 1 + NODES))

rm -rf "$dir/etc" "$dir/state" "$dir/spool" "$dir/log" "$dir/run" "$dir/munge" "$dir/dev"
mkdir -p "$dir/etc" "$dir/state" "$dir/spool" "$dir/log" "$dir/run" "$dir/munge" "$dir/dev" "$dir/jobs"
chmod 711 "$dir/munge"
trap 'rc=$?; [ $rc -eq 0 ] || stop_all; exit $rc' EXIT

dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$dir/munge/munge.key"
dd if=/dev/urandom of="$dir/etc/jwt.key" bs=32 count=1 2>/dev/null
chmod 600 "$dir/etc/jwt.key"

# fake GPUs: character devices with /dev/null's numbers
i=0
while [ "$i" -lt "$GPUS" ]; do
	mknod "$dir/dev/gpu$i" c 1 3 2>/dev/null || skip "mknod not permitted"
	i=$((i + 1))
done
last=$((NODES - 1 + SPORT))

cat >"$dir/etc/slurm.conf" <<EOF
ClusterName=mlstest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT0
SlurmdPort=$SPORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$dir/etc/jwt.key
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pidfile
SlurmdPidFile=$dir/run/slurmd-%n.pidfile
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=$MIN_JOB_AGE
MaxJobCount=200000
MaxArraySize=${MAX_ARRAY_SIZE:-1001}
MailProg=/bin/true
KillWait=2
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
GresTypes=gpu
NodeName=n[1-$NODES] NodeHostname=localhost NodeAddr=127.0.0.1 Port=[$SPORT-$last] CPUs=$CPUS RealMemory=4000 Gres=gpu:$GPUS State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=parked Nodes=ALL MaxTime=INFINITE State=DOWN
EOF
if [ "$GPUS" -gt 0 ]; then
	echo "NodeName=n[1-$NODES] Name=gpu File=$dir/dev/gpu[0-$((GPUS - 1))]" >"$dir/etc/gres.conf"
else
	: >"$dir/etc/gres.conf"
fi

export SLURM_CONF="$dir/etc/slurm.conf"
# hwloc plugins cost ~30% of each slurmstepd's CPU; slurmstepd inherits this
export HWLOC_PLUGINS_PATH=/nonexistent

munged -F --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pidfile" --seed-file="$dir/munge/seed" \
    >>"$dir/log/munged.out" 2>&1 &
echo $! >"$dir/run/munged.pid"
wait_for 10 test -S "$dir/munge/munge.socket" || skip "munged did not start: $(tail -3 "$dir/log/munged.out")"

# slurmd (22.05) initialises its cgroup plugin even with task/none and
# proctrack/linuxproc, and fails without a cgroup file system: a chroot
# with a bare sysfs (the fresh-root tool) has none, so mount the
# machine's hierarchies there as the machine has them (cgroup2 alone, or
# the v1 controllers on a tmpfs: slurmd refuses cgroup2 on a v1 machine)
mount_cgroups() {
	if [ "$(grep -c . /proc/self/cgroup)" -eq 1 ] && grep -q '^0::' /proc/self/cgroup; then
		mount -t cgroup2 cgroup2 /sys/fs/cgroup
		return
	fi
	mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup || return
	for _c in $(sed -n 's/^[0-9]*:\([^:][^:]*\):.*/\1/p' /proc/self/cgroup); do
		_d=${_c#name=}
		case $_c in name=*) _o=none,$_c ;; *) _o=$_c ;; esac
		mkdir -p "/sys/fs/cgroup/$_d" && mount -t cgroup -o "$_o" cgroup "/sys/fs/cgroup/$_d" || return
	done
}
if [ -d /sys/fs/cgroup ] && ! grep -q ' /sys/fs/cgroup ' /proc/self/mountinfo; then
	mount_cgroups 2>"$dir/log/cgroup.err" ||
	    skip "no cgroup file system on /sys/fs/cgroup and mounting one failed: $(tail -1 "$dir/log/cgroup.err")"
fi

start_ctld
i=1
while [ "$i" -le "$NODES" ]; do
	slurmd -D -N "n$i" -f "$dir/etc/slurm.conf" >>"$dir/log/slurmd-n$i.out" 2>&1 &
	echo $! >"$dir/run/slurmd-n$i.pid"
	i=$((i + 1))
done
wait_for 30 ctld_up || skip "slurmctld did not start: $(tail -3 "$dir/log/slurmctld.log" 2>/dev/null)"
wait_for 120 all_idle || skip "slurmd nodes not idle: $(sinfo -h -N 2>&1 | head -3)"

if [ "$REST" = 1 ]; then
	# as root (disable_user_check): the test dirs are private to root,
	# so "-u nobody" could not read slurm.conf under them
	(cd "$dir/jobs" && SLURM_JWT=daemon SLURMRESTD_SECURITY=disable_user_check \
	    exec slurmrestd -f "$dir/etc/slurm.conf" -a rest_auth/jwt \
	    -s openapi/v0.0.38 "127.0.0.1:$RPORT") >>"$dir/log/slurmrestd.out" 2>&1 &
	echo $! >"$dir/run/slurmrestd.pid"
	echo "$RPORT" >"$dir/run/rest.port"
	(umask 077; scontrol token username=root lifespan=86400 |
	    sed -n 's/^SLURM_JWT=//p' >"$dir/run/token")
	[ -s "$dir/run/token" ] || skip "scontrol token failed"
	# the token goes into a private header file, never into argv
	(umask 077; printf 'X-SLURM-USER-NAME: root\nX-SLURM-USER-TOKEN: %s\n' \
	    "$(cat "$dir/run/token")" >"$dir/run/rest-headers")
	if command -v curl >/dev/null 2>&1; then
		wait_for 20 curl -sf -o /dev/null -H "@$dir/run/rest-headers" \
		    "http://127.0.0.1:$RPORT/slurm/v0.0.38/ping" ||
		    skip "slurmrestd did not answer: $(tail -3 "$dir/log/slurmrestd.out")"
	fi
fi

# The first job after a start waits for the scheduler: take that hit here.
if [ "${WARMUP:-1}" = 1 ]; then
	(cd "$dir/jobs" && sbatch -Q --wait -o /dev/null --wrap true) >/dev/null 2>&1 || :
fi
print_env
