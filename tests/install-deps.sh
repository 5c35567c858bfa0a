#!/bin/sh
# Install what mls needs to build, test and run its examples on Debian 12.
# Idempotent; runs apt-get only when something is missing.
set -eu
pkgs="build-essential autoconf automake libtool pkg-config
 libcurl4-openssl-dev libjansson-dev libarchive-dev libgit2-dev libssl-dev
 libgsl-dev libinih-dev libfyaml-dev
 bats bats-assert bats-support mandoc zstd curl git ca-certificates
 python3 python3-sklearn python3-optuna
 debootstrap
 podman runc busybox-static uidmap nginx openssl
 slurm-wlm slurm-wlm-jwt-plugin slurmrestd munge"
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
