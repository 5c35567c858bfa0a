#include "config.h"

#include "mls_digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mls_error.h"
#include "tap.h"

#define EMPTY	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define MILLION_A \
	"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

int
main(void)
{
	char tmpl[] = "/tmp/mls-digest-XXXXXX";
	struct mls_digest d;
	char hex[65] = "untouched";
	char *chunk;
	long long size = -1;
	FILE *fp;
	int fd, i, rc;

	ok(mls_digest_buf("", 0, hex) == 0 && strcmp(hex, EMPTY) == 0,
	    "sha256 of nothing");
	ok(mls_digest_buf("abc", 3, hex) == 0 && strcmp(hex, ABC) == 0,
	    "sha256 of abc");

	/* streaming: a million 'a' in uneven pieces (FIPS 180-2 vector) */
	chunk = malloc(1000000);
	memset(chunk, 'a', 1000000);
	ok(mls_digest_init(&d) == 0, "init");
	ok(mls_digest_update(&d, chunk, 1) == 0 &&
	    mls_digest_update(&d, chunk, 4095) == 0 &&
	    mls_digest_update(&d, chunk, 0) == 0 &&
	    mls_digest_update(&d, chunk, 1000000 - 4096) == 0, "updates");
	ok(d.size == 1000000, "size counted");
	ok(mls_digest_final(&d, hex) == 0 && strcmp(hex, MILLION_A) == 0,
	    "streamed digest: %s", hex);
	ok(d.ctx == NULL, "final releases the context");
	ok(mls_digest_update(&d, "x", 1) == MLS_ERR, "update after final refused");

	/* files */
	fd = mkstemp(tmpl);
	fp = fdopen(fd, "w");
	for (i = 0; i < 1000; i++)
		fwrite(chunk, 1, 1000, fp);
	fclose(fp);
	ok(mls_digest_file(tmpl, hex, &size) == 0 && strcmp(hex, MILLION_A) == 0 &&
	    size == 1000000, "file digest and size");
	ok(mls_digest_file(tmpl, hex, NULL) == 0, "size may be NULL");
	unlink(tmpl);
	snprintf(hex, sizeof(hex), "untouched");
	size = -1;
	rc = mls_digest_file(tmpl, hex, &size);
	ok(rc == MLS_ENOTFOUND && size == -1 && strcmp(hex, "untouched") == 0,
	    "missing file: %s", mls_error_last());
	ok(strncmp(mls_error_last(), "open '/tmp/mls-digest-", 22) == 0,
	    "message names the file");
	rc = mls_digest_file("/", hex, &size);
	ok(rc == MLS_EIO && size == -1, "a directory: %s", mls_error_last());
	free(chunk);
	return done_testing();
}
