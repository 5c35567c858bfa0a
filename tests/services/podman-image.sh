#!/bin/sh
# Build a tiny offline container image for the tests, in a private podman
# store under DIR, from busybox-static (no registry, no network):
#
#   eval "$(tests/services/podman-image.sh DIR)"
#
# prints the environment to use: CONTAINERS_CONF (runc, cgroupfs, the
# ulimits this kind of machine allows), CONTAINERS_STORAGE_CONF (the
# private store), MLS_TEST_IMAGE.  Exits 77 with the reason on stderr when
# podman cannot run here (the caller skips).  A reason that starts with
# "platform limit:" is a documented limit of the machine (README,
# "Troubleshooting"), the one kind of skip CI accepts (tests/run-all.sh).
set -eu

dir=${1:?usage: podman-image.sh DIR}
image=localhost/mls-test:1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

skip() { echo "podman unavailable: $*" >&2; exit 77; }
limit() { echo "platform limit: $*" >&2; exit 77; }
# containers/storage (applying a layer) and runc start by making / a
# private mount (mount(2) MS_REC|MS_PRIVATE on /), which the kernel
# refuses with EINVAL where / is not a mount point: a plain chroot.
no_root_mount="podman needs / to be a mount point and it is not here (a chroot without 'mount --bind ROOT ROOT')"

command -v podman >/dev/null 2>&1 || skip "podman not installed"
command -v mountpoint >/dev/null 2>&1 && ! mountpoint -q / && limit "$no_root_mount"
bb=$(command -v busybox 2>/dev/null || :)
[ -n "$bb" ] || bb=/bin/busybox
[ -x "$bb" ] || skip "busybox-static not installed"

# The settings that work on a cgroup v1 hybrid VM without
# CAP_SYS_RESOURCE (see the project notes): runc, not crun; nofile and
# nproc within the host's hard limits.
cat >"$dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "host"
log_driver = "k8s-file"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
cat >"$dir/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$dir/root"
runroot = "$dir/run"
CONF
CONTAINERS_CONF=$dir/containers.conf
CONTAINERS_STORAGE_CONF=$dir/storage.conf
export CONTAINERS_CONF CONTAINERS_STORAGE_CONF

if ! podman image exists "$image" 2>/dev/null; then
	rm -rf "$dir/rootfs"
	mkdir -p "$dir/rootfs/bin" "$dir/rootfs/tmp" "$dir/rootfs/etc"
	cp "$bb" "$dir/rootfs/bin/busybox"
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$a"
	done
	echo 'root:x:0:0:root:/:/bin/sh' >"$dir/rootfs/etc/passwd"
	tar -C "$dir/rootfs" -cf "$dir/rootfs.tar" . ||
	    skip "cannot pack the rootfs"
	if ! podman import --change 'ENV PATH=/bin' "$dir/rootfs.tar" "$image" \
	    >"$dir/import.log" 2>&1; then
		grep -q 'remount /, flags: 0x44000: invalid argument' \
		    "$dir/import.log" && limit "$no_root_mount"
		skip "podman import: $(tail -n 1 "$dir/import.log")"
	fi
fi
if ! out=$(podman run --rm --network=host "$image" sh -c 'echo ok' 2>&1) ||
    [ "$out" != ok ]; then
	case $out in
	*'no cgroup mount found in mountinfo'*)
		limit "runc finds no cgroup file system under /sys/fs/cgroup (a chroot with a bare sysfs, not 'mount --rbind /sys')" ;;
	esac
	skip "podman run: $(printf '%s\n' "$out" | tail -n 1)"
fi
printf "CONTAINERS_CONF='%s'; export CONTAINERS_CONF\n" "$CONTAINERS_CONF"
printf "CONTAINERS_STORAGE_CONF='%s'; export CONTAINERS_STORAGE_CONF\n" \
    "$CONTAINERS_STORAGE_CONF"
printf "MLS_TEST_IMAGE='%s'; export MLS_TEST_IMAGE\n" "$image"
