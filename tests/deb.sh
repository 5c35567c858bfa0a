#!/bin/sh
# The Debian package, as a user gets it: build it (dpkg-buildpackage -us
# -uc -b), check it with lintian (no error, no warning that
# debian/source/lintian-overrides does not explain), install it with apt in
# a clean Debian 12 root (debootstrap minbase), and run from the installed
# files: a pipeline mls-ship | mls-submit --wait, mls-search --help and
# each tool's --version.  Needs root (chroot) and the Debian mirror.
#
# The clean root is built once and cached as a tarball:
# $MLS_DEB_ROOT_CACHE, by default /var/tmp/mls-deb-root-bookworm.tar
# (the fresh-root tool's /var/tmp/fresh-bookworm.tar is used when it is
# there).  Exits 77 with the reason when it cannot run here.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${MLS_DEB_ROOT_CACHE:-/var/tmp/mls-deb-root-bookworm.tar}

skip() { echo "deb.sh: skipped: $*" >&2; exit 77; }
die() { echo "deb.sh: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, mount)"
for t in dpkg-buildpackage dh lintian debootstrap chroot; do
	command -v "$t" >/dev/null 2>&1 ||
	    skip "'$t' not found (sh tests/install-deps.sh installs it)"
done

work=$(mktemp -d /var/tmp/mls-deb.XXXXXX)
root=$work/root
# The processes whose root is the clean root (the detached mls-runner).
in_root() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"
	done
	return 0
}
cleanup() {
	for p in $(in_root); do kill -KILL "$p" 2>/dev/null || :; done
	for m in proc dev; do
		mountpoint -q "$root/$m" 2>/dev/null &&
		    { umount -R "$root/$m" 2>/dev/null || umount -R -l "$root/$m"; }
	done
	mount | grep -q " $root/" || rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The sources, as git has them (tracked files and new ones that are not
# ignored), or, outside a git checkout, the tree less its build folders.
step "sources"
mkdir -p "$work/src/mls"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z -co --exclude-standard |
	    grep -zv -e '^_b' -e '^_build' |
	    tar --null --ignore-failed-read -T - -cf -) |
	    tar -C "$work/src/mls" -xf -
else
	(cd "$top" && tar --exclude='./_build*' --exclude='./_b' \
	    --exclude='./mls-*.tar.gz' --exclude='./mls-*/' -cf - .) |
	    tar -C "$work/src/mls" -xf -
	[ ! -f "$work/src/mls/config.status" ] ||
	    (cd "$work/src/mls" && make distclean >/dev/null 2>&1) || :
fi

# 2. Build.
step "dpkg-buildpackage -us -uc -b"
(cd "$work/src/mls" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 ||
	{ tail -40 "$work/build.log"; die "dpkg-buildpackage failed"; }
version=$(cd "$work/src/mls" && dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$work/src/mls_${version}_${arch}.deb
[ -f "$deb" ] || die "no $deb"
echo "built $(basename "$deb")"

# 3. What it holds.
step "contents"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/files"
for f in /usr/libexec/mls/mls-runner \
    /usr/share/man/man7/mls.7.gz; do
	grep -qx "$f" "$work/files" || die "the package lacks $f"
done
for t in ship submit status fetch search ensemble; do
	for f in /usr/bin/mls-$t /usr/share/man/man1/mls-$t.1.gz \
	    /usr/share/bash-completion/completions/mls-$t \
	    /usr/share/zsh/vendor-completions/_mls-$t \
	    /usr/share/fish/vendor_completions.d/mls-$t.fish; do
		grep -qx "$f" "$work/files" || die "the package lacks $f"
	done
done
! grep -q '^/usr/bin/mls-runner$' "$work/files" ||
	die "mls-runner is in /usr/bin"
echo "tools in /usr/bin, mls-runner in /usr/libexec/mls, man pages, completions"

# 4. lintian: errors and warnings fail, overrides must say why.
step "lintian"
lintian --fail-on error,warning --info "$work/src/mls_${version}_${arch}.changes" \
    >"$work/lintian.out" 2>&1 ||
	{ cat "$work/lintian.out"; die "lintian found errors or warnings"; }
cat "$work/lintian.out"

# 5. A clean root, cached.
step "a clean Debian 12 root"
if [ ! -f "$cache" ] && [ -f /var/tmp/fresh-bookworm.tar ] &&
    [ -z "${MLS_DEB_ROOT_CACHE:-}" ]; then
	cache=/var/tmp/fresh-bookworm.tar
fi
if [ ! -f "$cache" ]; then
	mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources \
	    2>/dev/null | awk '{print $1}' | head -1)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' \
	    /etc/apt/sources.list 2>/dev/null)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	mkdir "$work/boot"
	debootstrap --variant=minbase bookworm "$work/boot" "$mirror" \
	    >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log"; die "debootstrap failed"; }
	tar -C "$work/boot" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache"
	rm -rf --one-file-system "$work/boot"
	echo "cached $cache"
fi
mkdir "$root"
tar -C "$root" -xf "$cache"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
	rm -f "$root/etc/apt/sources.list"
fi
cp /etc/resolv.conf "$root/etc/" 2>/dev/null || :
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
cp "$deb" "$root/tmp/"
croot() {
	chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c "$1"
}

# 6. Install it with apt (which brings the libraries it needs), then run
# from the installed files only.
step "apt-get install ./$(basename "$deb")"
croot "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install \
    -y -q --no-install-recommends /tmp/$(basename "$deb")" \
    >"$work/install.log" 2>&1 ||
	{ tail -30 "$work/install.log"; die "apt-get install failed"; }

step "run the installed tools"
croot '
set -eu
cd /tmp && mkdir -p code && cd code
printf "print(\"hello from a trial\")\n" >train.py
for t in ship submit status fetch search ensemble; do
	mls-$t --version >/tmp/version.out
	for l in libcurl libarchive libgit2 jansson GSL libfyaml OpenSSL; do
		grep -q "^$l " /tmp/version.out || { echo "mls-$t --version: no $l"; exit 1; }
	done
done
cat /tmp/version.out
mls-search --help | head -n 3
mls-ship | mls-submit --wait -- sh -c "cat train.py; echo done" >/tmp/rec
cat /tmp/rec
grep -q "\"state\":\"succeeded\"" /tmp/rec
mls-status --format jsonl | grep -q succeeded
' >"$work/run.log" 2>&1 || { cat "$work/run.log"; die "the installed tools failed"; }
cat "$work/run.log"
# the local scheduler that ran the job is the installed one
for p in $(in_root); do
	exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
	case $exe in "$root"/*) echo "running in the root: ${exe#"$root"}" ;; esac
done
echo "ok: the package builds, passes lintian, installs and runs"
