/*
 * mls_digest.c - SHA-256 through OpenSSL's EVP interface.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "mls_digest.h"
#include "mls_error.h"

/* The one place OpenSSL errors become ours. */
static int
ssl_error(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "unknown OpenSSL error");
	ERR_clear_error();
	return mls_error_set(MLS_ERR, "sha256: %s: %s", what, buf);
}

static void
to_hex(const unsigned char *md, unsigned int n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned int i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * n] = '\0';
}

int
mls_digest_init(struct mls_digest *d)
{
	EVP_MD_CTX *ctx;

	d->ctx = NULL;
	d->size = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return ssl_error("init");
	}
	d->ctx = ctx;
	return 0;
}

int
mls_digest_update(struct mls_digest *d, const void *data, size_t len)
{
	if (d->ctx == NULL)
		return mls_error_set(MLS_ERR, "sha256: update without init");
	if (len > 0 && EVP_DigestUpdate(d->ctx, data, len) != 1)
		return ssl_error("update");
	d->size += (long long)len;
	return 0;
}

int
mls_digest_final_bin(struct mls_digest *d, unsigned char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int rc = 0;

	if (d->ctx == NULL)
		return mls_error_set(MLS_ERR, "sha256: final without init");
	if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1 || n != 32)
		rc = ssl_error("final");
	else
		memcpy(out, md, 32);
	mls_digest_release(d);
	return rc;
}

int
mls_digest_final(struct mls_digest *d, char hex[65])
{
	unsigned char md[32];
	int rc;

	if ((rc = mls_digest_final_bin(d, md)) == 0)
		to_hex(md, 32, hex);
	return rc;
}

void
mls_digest_hex(const unsigned char md[32], char hex[65])
{
	to_hex(md, 32, hex);
}

void
mls_digest_release(struct mls_digest *d)
{
	EVP_MD_CTX_free(d->ctx);
	d->ctx = NULL;
}

int
mls_digest_buf(const void *data, size_t len, char hex[65])
{
	struct mls_digest d;
	int rc;

	if ((rc = mls_digest_init(&d)) < 0)
		return rc;
	if ((rc = mls_digest_update(&d, data, len)) < 0) {
		mls_digest_release(&d);
		return rc;
	}
	return mls_digest_final(&d, hex);
}

int
mls_digest_file(const char *path, char hex[65], long long *size)
{
	struct mls_digest d;
	unsigned char buf[128 * 1024];
	long long total;
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND :
		    MLS_EIO, "open '%s'", path);
	if ((rc = mls_digest_init(&d)) < 0)
		goto out;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_EIO, "read '%s'", path);
			mls_digest_release(&d);
			goto out;
		}
		if (n == 0)
			break;
		if ((rc = mls_digest_update(&d, buf, (size_t)n)) < 0) {
			mls_digest_release(&d);
			goto out;
		}
	}
	total = d.size;
	if ((rc = mls_digest_final(&d, hex)) == 0 && size != NULL)
		*size = total;
out:
	close(fd);
	return rc;
}
