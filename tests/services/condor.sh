#!/bin/sh
# A real personal HTCondor 23.9 (Debian 13 packages) in a debootstrap'd
# trixie root, run as an unprivileged user, without systemd.
#
#   tests/services/condor.sh root                 # build/cache the root tarball only
#   eval "$(tests/services/condor.sh start DIR)"  # prints the env to use
#   tests/services/condor.sh env DIR              # the same, for a running pool
#   tests/services/condor.sh stop DIR             # condor_master by PID, unmounts
#
# The root is built once (debootstrap --variant=minbase, then apt-get install
# htcondor and the job wrapper's tools inside it; minutes) and cached as
# $CONDOR_ROOT_TAR (/var/tmp/mls-condor-root-trixie.tar.zst); a start unpacks
# it under DIR/root in seconds.  DIR/bin gets condor_submit, condor_q,
# condor_rm, condor_history, condor_hold, condor_release, condor_status
# wrappers that chroot into the root as the pool's user, with SHARE (the
# test's temp dir; default DIR's parent) bind-mounted at the same path
# inside, so paths agree on both sides.
#
# start exits 77 with the reason on stderr when HTCondor cannot run here
# (callers skip).  Settings (environment): SHARE, CPUS (8), MEMORY (8000),
# PORT (collector and shared port; default derived from DIR), MIRROR (from
# /etc/apt/sources.list.d), CONDOR_ROOT_TAR.
#
# The env printed: PATH (DIR/bin first), MLS_TEST_CONDOR_DIR,
# MLS_TEST_CONDOR_USER (the pool's user; jobs run as it),
# MLS_TEST_CONDOR_UID.
set -eu

cmd=${1:?usage: condor.sh root|start|stop|env DIR}
CPUS=${CPUS:-8}
MEMORY=${MEMORY:-8000}
CONDOR_ROOT_TAR=${CONDOR_ROOT_TAR:-/var/tmp/mls-condor-root-trixie.tar.zst}
POOL_USER=condoruser

skip() {	# a platform limit keeps its prefix first: CI accepts only those
	case $* in
	"platform limit:"*) echo "$*" >&2 ;;
	*) echo "condor unavailable: $*" >&2 ;;
	esac
	exit 77
}

mirror() {
	if [ -n "${MIRROR:-}" ]; then
		echo "$MIRROR"
		return
	fi
	_m=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
	    grep -v security | head -1)
	[ -n "$_m" ] || _m=$(sed -n 's/^deb  *\(http[^ ]*\) .*/\1/p' /etc/apt/sources.list 2>/dev/null |
	    grep -v security | head -1)
	echo "${_m:-http://deb.debian.org/debian}"
}

# build_root: the cached tarball, made once (under a lock: parallel starts wait)
build_root() {
	[ -s "$CONDOR_ROOT_TAR" ] && return 0
	[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, mounts)"
	command -v debootstrap >/dev/null 2>&1 || skip "'debootstrap' not found (apt-get install debootstrap)"
	command -v zstd >/dev/null 2>&1 || skip "'zstd' not found (apt-get install zstd)"
	exec 9>"$CONDOR_ROOT_TAR.lock"
	flock 9
	[ -s "$CONDOR_ROOT_TAR" ] && return 0
	_b=$(mktemp -d /var/tmp/mls-condor-build.XXXXXX)
	chmod 755 "$_b"
	_log=$_b.log
	_m=$(mirror)
	echo "condor.sh: building the trixie root (minutes; log $_log)" >&2
	if ! debootstrap --variant=minbase trixie "$_b" "$_m" >"$_log" 2>&1; then
		rm -rf "$_b"
		skip "debootstrap trixie failed: $(tail -2 "$_log")"
	fi
	mount -t proc proc "$_b/proc"
	# the postinsts complain that systemctl and systemd-tmpfiles are missing: harmless
	if ! chroot "$_b" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive
	    apt-get update -q && { apt-get install -y -q --no-install-recommends \
	    htcondor zstd curl tar coreutils procps util-linux python3 ||
	    apt-get -f install -y -q; } && condor_version' >>"$_log" 2>&1; then
		umount "$_b/proc"
		rm -rf "$_b"
		skip "apt-get install htcondor in the trixie root failed: $(tail -2 "$_log")"
	fi
	chroot "$_b" useradd -m -u 7351 -s /bin/sh "$POOL_USER" >>"$_log" 2>&1 || :
	chroot "$_b" apt-get clean >>"$_log" 2>&1 || :
	umount "$_b/proc"
	(cd "$_b" && tar -cf - --numeric-owner .) | zstd -q -T0 -3 -o "$CONDOR_ROOT_TAR.tmp" ||
	    { rm -rf "$_b" "$CONDOR_ROOT_TAR.tmp"; skip "could not write '$CONDOR_ROOT_TAR'"; }
	mv "$CONDOR_ROOT_TAR.tmp" "$CONDOR_ROOT_TAR"
	rm -rf "$_b"
	echo "condor.sh: cached '$CONDOR_ROOT_TAR'" >&2
}

case $cmd in
root) build_root; exit 0 ;;
start|stop|env) ;;
*) echo "usage: condor.sh root|start|stop|env DIR" >&2; exit 64 ;;
esac
dir=${2:?usage: condor.sh start|stop|env DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	_n=$(($1 * 5)); shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		_n=$((_n - 1))
	done
	return 1
}

print_env() {
	echo "export PATH='$dir/bin':\"\$PATH\""
	echo "export MLS_TEST_CONDOR_DIR='$dir'"
	echo "export MLS_TEST_CONDOR_USER='$POOL_USER'"
	echo "export MLS_TEST_CONDOR_UID='$(cat "$dir/run/uid" 2>/dev/null)'"
}

# unmount what is mounted under $1 (deepest first)
umount_under() {
	[ -n "$1" ] && [ -d "$1" ] || return 0
	awk -v r="$1" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
	    sort -r | while read -r _m; do
		umount "$_m" 2>/dev/null || umount -l "$_m" 2>/dev/null || :
	done
}

stop_all() {
	[ -d "$dir/run" ] || return 0
	if [ -f "$dir/run/master.pid" ]; then
		_p=$(cat "$dir/run/master.pid")
		kill -TERM "$_p" 2>/dev/null || :
		_n=150
		while kill -0 "$_p" 2>/dev/null && [ "$_n" -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
		kill -KILL "$_p" 2>/dev/null || :
		rm -f "$dir/run/master.pid"
	fi
	if [ -f "$dir/run/root" ]; then
		_r=$(cat "$dir/run/root")
		# what the pool's user still runs in the root (a job, a daemon)
		for _p in $(pgrep -u "$(cat "$dir/run/uid" 2>/dev/null || echo 7351)" 2>/dev/null || :); do
			[ "$(readlink "/proc/$_p/root" 2>/dev/null)" = "$_r" ] &&
			    kill -KILL "$_p" 2>/dev/null || :
		done
		umount_under "$_r"
		# the pool's root (about 400 MB) goes too, once nothing is
		# mounted under it: each start unpacks a fresh one
		case $_r in
		/var/tmp/mls-condor-pool.*/root)
			grep -q " ${_r%/root}/" /proc/self/mountinfo ||
			    rm -rf --one-file-system "${_r%/root}" ;;
		esac
	fi
}

case $cmd in
stop)
	stop_all
	exit 0 ;;
env)
	[ -f "$dir/run/root" ] || { echo "condor.sh: no pool under '$dir'" >&2; exit 1; }
	print_env
	exit 0 ;;
esac

[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, mounts)"
for p in chroot mount umount cc zstd tar; do
	command -v "$p" >/dev/null 2>&1 || skip "'$p' not found"
done
SHARE=${SHARE:-$(dirname "$dir")}
SHARE=$(cd "$SHARE" && pwd)

pool_up() { "$dir/bin/condor_status" -af Name 2>/dev/null | grep -q . &&
    "$dir/bin/condor_q" -totals >/dev/null 2>&1; }

# Already up?
if pid_alive "$dir/run/master.pid" && [ -x "$dir/bin/condor_q" ] && pool_up; then
	print_env
	exit 0
fi
stop_all
build_root

_h=$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
root=/var/tmp/mls-condor-pool.$_h/root
if [ -z "${PORT:-}" ]; then
	PORT=$((30000 + (_h % 2000) * 8))
	while ss -ltn 2>/dev/null | awk '{print $4}' | grep -q ":$PORT\$"; do
		PORT=$((PORT + 1))
	done
fi

rm -rf "$dir/run" "$dir/bin"
mkdir -p "$dir/run" "$dir/bin"
trap 'rc=$?; [ $rc -eq 0 ] || stop_all; exit $rc' EXIT
echo "$root" >"$dir/run/root"

# a fresh root from the cached tarball (seconds)
umount_under "$root"
rm -rf "/var/tmp/mls-condor-pool.$_h"
mkdir -p "$root"
chmod 755 "/var/tmp/mls-condor-pool.$_h" "$root"
zstd -dc "$CONDOR_ROOT_TAR" | tar -xf - -C "$root" --numeric-owner ||
    skip "could not unpack '$CONDOR_ROOT_TAR'"
chmod 755 "$root"
uid=$(chroot "$root" id -u "$POOL_USER" 2>/dev/null) || skip "no '$POOL_USER' in the root"
echo "$uid" >"$dir/run/uid"

cc -O2 -o "$dir/bin/condor-idmap-bind" "$(dirname "$0")/condor-idmap-bind.c" 2>"$dir/run/cc.err" ||
    skip "cannot build condor-idmap-bind: $(tail -1 "$dir/run/cc.err")"

mount -t proc proc "$root/proc" || skip "cannot mount proc in the root"
mount --bind /dev "$root/dev" || skip "cannot bind /dev in the root"
mkdir -p "$root$SHARE"
if ! "$dir/bin/condor-idmap-bind" "$SHARE" "$root$SHARE" "$uid" 2>"$dir/run/idmap.err"; then
	# the kernel refuses new user namespaces to a chrooted process
	# (unshare(2): EPERM "the caller's root directory does not match the
	# root directory of the mount namespace"): a limit of the platform
	if grep -q 'unshare(CLONE_NEWUSER): Operation not permitted' "$dir/run/idmap.err" &&
	    [ "$(stat -c %d:%i /)" != "$(stat -c %d:%i /proc/1/root/. 2>/dev/null)" ]; then
		skip "platform limit: in a chroot the kernel refuses the user namespace that the idmapped bind of the pool's files needs (unshare(CLONE_NEWUSER): EPERM)"
	fi
	skip "idmapped bind of '$SHARE' failed: $(tail -1 "$dir/run/idmap.err")"
fi

local_dir=/var/lib/mls-condor
mkdir -p "$root$local_dir/log" "$root$local_dir/spool" "$root$local_dir/execute" \
    "$root$local_dir/lock" "$root$local_dir/run"
chroot "$root" chown -R "$POOL_USER:$POOL_USER" "$local_dir"
cat >"$root/etc/condor/mls.conf" <<EOC
RELEASE_DIR = /usr
LIBEXEC = /usr/libexec/condor
BIN = /usr/bin
SBIN = /usr/sbin
LIB = /usr/lib/condor
LOCAL_DIR = $local_dir
LOCAL_CONFIG_FILE =
REQUIRE_LOCAL_CONFIG_FILE = false
use ROLE: Personal
CONDOR_HOST = 127.0.0.1
NETWORK_INTERFACE = 127.0.0.1
COLLECTOR_HOST = 127.0.0.1:$PORT
SHARED_PORT_PORT = $PORT
USE_SHARED_PORT = True
DAEMON_LIST = MASTER COLLECTOR NEGOTIATOR SCHEDD STARTD SHARED_PORT
NUM_CPUS = $CPUS
MEMORY = $MEMORY
START = TRUE
SUSPEND = FALSE
PREEMPT = FALSE
KILL = FALSE
NEGOTIATOR_INTERVAL = 2
NEGOTIATOR_CYCLE_DELAY = 1
SCHEDD_INTERVAL = 2
UPDATE_INTERVAL = 2
STARTER_UPDATE_INTERVAL = 2
PERIODIC_EXPR_INTERVAL = 2
SHADOW_QUEUE_UPDATE_INTERVAL = 2
SCHEDD_MIN_INTERVAL = 1
JOB_START_DELAY = 0
JOB_START_COUNT = 8
NUM_SLOTS_TYPE_1 = 1
SLOT_TYPE_1 = 100%
SLOT_TYPE_1_PARTITIONABLE = TRUE
use SECURITY: HOST_BASED
ALLOW_READ = *
ALLOW_WRITE = *
ALLOW_ADMINISTRATOR = *
ALLOW_DAEMON = *
ALLOW_NEGOTIATOR = *
ALLOW_CONFIG = *
EOC

# the host's condor_* enter the root as the pool's user, in the same cwd
for p in condor_submit condor_q condor_rm condor_history condor_hold \
    condor_release condor_status condor_wait condor_config_val; do
	cat >"$dir/bin/$p" <<EOW
#!/bin/sh
# $p of the personal HTCondor under $dir (tests/services/condor.sh)
exec chroot --userspec=$POOL_USER:$POOL_USER '$root' /usr/bin/env -i \\
    HOME=/home/$POOL_USER PATH=/usr/sbin:/usr/bin:/bin \\
    CONDOR_CONFIG=/etc/condor/mls.conf \\
    \${_CONDOR_SEC_TOKEN_DIRECTORY:+_CONDOR_SEC_TOKEN_DIRECTORY="\$_CONDOR_SEC_TOKEN_DIRECTORY"} \\
    /bin/sh -c 'cd "\$1" 2>/dev/null || cd /; shift; exec "\$@"' sh "\$PWD" $p "\$@"
EOW
	chmod 755 "$dir/bin/$p"
done

chroot --userspec="$POOL_USER:$POOL_USER" "$root" /usr/bin/env -i \
    HOME="/home/$POOL_USER" PATH=/usr/sbin:/usr/bin:/bin \
    CONDOR_CONFIG=/etc/condor/mls.conf condor_master -f \
    >>"$dir/run/master.out" 2>&1 &
echo $! >"$dir/run/master.pid"
wait_for 90 pool_up || skip "the pool did not come up: $(tail -2 "$root$local_dir/log/MasterLog" 2>/dev/null)"
trap - EXIT
print_env
