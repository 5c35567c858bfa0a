/*
 * mls_digest.h - SHA-256 (OpenSSL EVP), streaming.
 *
 *	struct mls_digest d;
 *	char hex[65];
 *	mls_digest_init(&d);
 *	mls_digest_update(&d, buf, n);	... as often as needed
 *	mls_digest_final(&d, hex);	releases d whatever happens
 */
#ifndef MLS_DIGEST_H
#define MLS_DIGEST_H

#include <stddef.h>

struct mls_digest {
	void	*ctx;		/* EVP_MD_CTX */
	long long size;		/* bytes hashed so far */
};

/* Start a SHA-256 digest. */
int	 mls_digest_init(struct mls_digest *d);
int	 mls_digest_update(struct mls_digest *d, const void *data, size_t len);
/* Write 64 lowercase hex digits and a NUL into hex; releases d. */
int	 mls_digest_final(struct mls_digest *d, char hex[65]);
/* The same as 32 raw bytes; releases d. */
int	 mls_digest_final_bin(struct mls_digest *d, unsigned char md[32]);
/* 64 lowercase hex digits and a NUL for 32 raw bytes. */
void	 mls_digest_hex(const unsigned char md[32], char hex[65]);
/* Free d without a result (NULL-safe ctx; may follow a failed call). */
void	 mls_digest_release(struct mls_digest *d);

/* SHA-256 of a buffer. */
int	 mls_digest_buf(const void *data, size_t len, char hex[65]);
/* SHA-256 of the file at path; its size in *size when size is not NULL. */
int	 mls_digest_file(const char *path, char hex[65], long long *size);

#endif
