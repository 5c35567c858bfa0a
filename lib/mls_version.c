/*
 * mls_version.c - the versions of the libraries we link: each one asked
 * at run time, next to what its headers said at build time.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <curl/curl.h>
#include <git2.h>
#include <gsl/gsl_version.h>
#include <jansson.h>
#include <libfyaml.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_version.h"

/* " (built with B" when the build-time version B differs from RUN. */
static void
add_built(struct mls_buf *b, const char *run, const char *built, int *open)
{
	if (built == NULL || strcmp(run, built) == 0)
		return;
	mls_buf_addf(b, "%sbuilt with %s", *open ? "; " : " (", built);
	*open = 1;
}

static void
add_detail(struct mls_buf *b, const char *what, int *open)
{
	if (what == NULL || *what == '\0')
		return;
	mls_buf_addf(b, "%s%s", *open ? "; " : " (", what);
	*open = 1;
}

static void
end_line(struct mls_buf *b, int open)
{
	mls_buf_adds(b, open ? ")\n" : "\n");
}

static void
add_curl(struct mls_buf *b)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	int open = 0;

	mls_buf_addf(b, "libcurl %s", v->version);
	add_built(b, v->version, LIBCURL_VERSION, &open);
	add_detail(b, v->ssl_version != NULL ? v->ssl_version : "no TLS",
	    &open);
	end_line(b, open);
}

/*
 * archive_version_details() reads "libarchive 3.6.2 zlib/1.2.13
 * liblzma/5.4.1 ... libzstd/1.5.4": the version, then the libraries.
 */
static void
add_archive(struct mls_buf *b)
{
	const char *d = archive_version_details();
	const char *run = archive_version_string();
	const char *p;
	int open = 0;

	if (strncmp(run, "libarchive ", 11) == 0)
		run += 11;
	mls_buf_addf(b, "libarchive %s", run);
	add_built(b, run, ARCHIVE_VERSION_ONLY_STRING, &open);
	p = d;
	if (strncmp(p, "libarchive ", 11) == 0) {
		p += 11;
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	add_detail(b, p, &open);
	if (strstr(d, "libzstd/") == NULL)
		add_detail(b, "no zstd", &open);
	end_line(b, open);
}

static void
add_git2(struct mls_buf *b)
{
	int maj = 0, min = 0, rev = 0, open = 0;
	struct mls_buf run = MLS_BUF_INIT;

	git_libgit2_version(&maj, &min, &rev);
	mls_buf_addf(&run, "%d.%d.%d", maj, min, rev);
	mls_buf_addf(b, "libgit2 %s", run.buf);
	add_built(b, run.buf, LIBGIT2_VERSION, &open);
	end_line(b, open);
	mls_buf_release(&run);
}

static void
add_simple(struct mls_buf *b, const char *name, const char *run,
    const char *built)
{
	int open = 0;

	mls_buf_addf(b, "%s %s", name, run);
	add_built(b, run, built, &open);
	end_line(b, open);
}

/* "OpenSSL 3.0.19 27 Jan 2026" -> "3.0.19" into out (size n). */
static void
openssl_number(const char *text, char *out, size_t n)
{
	size_t len;

	if (strncmp(text, "OpenSSL ", 8) == 0)
		text += 8;
	len = strcspn(text, " ");
	if (len >= n)
		len = n - 1;
	memcpy(out, text, len);
	out[len] = '\0';
}

static void
add_openssl(struct mls_buf *b)
{
	char run[64], built[64];

	openssl_number(OpenSSL_version(OPENSSL_VERSION), run, sizeof(run));
	openssl_number(OPENSSL_VERSION_TEXT, built, sizeof(built));
	add_simple(b, "OpenSSL", run, built);
}

int
mls_version_libs(char **out)
{
	struct mls_buf b = MLS_BUF_INIT;
	char *text;
	int rc;

	add_curl(&b);
	add_archive(&b);
	add_git2(&b);
	add_simple(&b, "jansson", jansson_version_str(), JANSSON_VERSION);
	add_simple(&b, "GSL", gsl_version, GSL_VERSION);
	/* libfyaml's headers carry no version of their own */
	add_simple(&b, "libfyaml", fy_library_version(), NULL);
	add_openssl(&b);
	if ((rc = mls_buf_error(&b)) < 0)
		goto out;
	if ((text = mls_buf_detach(&b)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	*out = text;
out:
	mls_buf_release(&b);
	return rc;
}
