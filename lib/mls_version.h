/*
 * mls_version.h - the versions of the libraries mls was built and runs
 * with, for --version and bug reports (as `curl -V` does).
 */
#ifndef MLS_VERSION_H
#define MLS_VERSION_H

/*
 * Sets *out to a malloc'd text, one line per library, each
 * "NAME VERSION" (the version running now), then, in parentheses, what
 * matters in a bug report: the version of the headers it was built with
 * when that differs, libcurl's TLS backend and libarchive's compression
 * libraries (and "no zstd" where libarchive lacks it).  Lines end in '\n'.
 * Returns 0 or MLS_ENOMEM; *out is written only on success.
 */
int	 mls_version_libs(char **out);

#endif
