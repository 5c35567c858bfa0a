#!/usr/bin/env bats
# --version of every tool: the mls version, then the libraries it runs
# with, one a line (what a bug report needs, as `curl -V` gives).

load helpers

@test "every tool's --version names mls and each library it runs with" {
	for t in mls-ship mls-submit mls-status mls-fetch mls-search mls-ensemble; do
		run -0 --separate-stderr "$t" --version
		[ -z "$stderr" ]
		[[ "${lines[0]}" == "$t (mls) "* ]]
		for l in libcurl libarchive libgit2 jansson GSL libfyaml OpenSSL; do
			grep -Eq "^$l [0-9]" <<<"$output" || { echo "$t: no '$l' line"; false; }
		done
		# libcurl's TLS backend, libarchive's zstd
		grep -Eq '^libcurl [0-9][^ ]* \(.*(OpenSSL|GnuTLS|NSS|mbedTLS|wolfSSL)/' <<<"$output"
		grep -Eq '^libarchive [0-9].*libzstd/[0-9]' <<<"$output"
	done
}

@test "-V is --version" {
	run -0 mls-fetch -V
	[ "$output" = "$(mls-fetch --version)" ]
}
