#!/bin/sh
# Install what mls needs on Debian 12.  Idempotent; runs apt-get only when
# something is missing.
#
#   sh tests/install-deps.sh         everything the tests use: the build set,
#                                    bats, mandoc, zsh, fish, podman, nginx,
#                                    clang with its fuzzer runtime (tests/fuzz),
#                                    Slurm (with its JWT plugin), munge, and
#                                    the Debian packaging tools
#   sh tests/install-deps.sh --run   the light set to build mls and run the
#                                    example: compiler, autotools, the -dev
#                                    libraries, zstd, python3-sklearn; no
#                                    daemon (nothing that starts a service)
set -eu
run="build-essential autoconf automake libtool pkg-config
 libcurl4-openssl-dev libjansson-dev libarchive-dev libgit2-dev libssl-dev
 libgsl-dev libinih-dev libfyaml-dev
 zstd curl git ca-certificates python3 python3-sklearn"
tests="bats bats-assert bats-support mandoc zsh fish python3-optuna
 podman runc busybox-static uidmap nginx openssl
 slurm-wlm slurm-wlm-jwt-plugin slurmrestd munge
 debhelper dpkg-dev lintian debootstrap fakeroot
 clang libclang-rt-14-dev"
case "${1:-}" in
--run) pkgs=$run ;;
'') pkgs="$run $tests" ;;
*) echo "usage: sh tests/install-deps.sh [--run]" >&2; exit 2 ;;
esac
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing:$missing" >&2
$sudo apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
	-o DPkg::Lock::Timeout=900 --no-install-recommends $missing >&2
