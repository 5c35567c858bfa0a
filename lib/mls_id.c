/*
 * mls_id.c - ids: ULIDs in lowercase Crockford base32; the host name.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "mls_error.h"
#include "mls_id.h"
#include "mls_time.h"

static const char alphabet[] = MLS_ID_ALPHABET;

void
mls_id_b32_encode(char *out, unsigned long long v, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = alphabet[(v >> (5 * (n - 1 - i))) & 31];
}

int
mls_id_b32_decode(const char *s, int n, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p;

	if (n < 0 || n > 12)
		return mls_error_set(MLS_EINPUT, "base32: %d characters", n);
	for (int i = 0; i < n; i++) {
		if (s[i] == '\0' || (p = strchr(alphabet, s[i])) == NULL)
			return mls_error_set(MLS_EINPUT, "base32: character '%c' "
			    "not in the alphabet", s[i] ? s[i] : '0');
		v = v << 5 | (unsigned long long)(p - alphabet);
	}
	*out = v;
	return 0;
}

int
mls_id_new(char *out, size_t outsz, const char *prefix)
{
	static _Thread_local uint64_t last_ms;
	static _Thread_local unsigned char last_rand[10];
	unsigned char rnd[10];
	size_t plen = strlen(prefix), i;
	uint64_t ms;
	char *p;

	if (outsz < plen + 27)
		return mls_error_set(MLS_ERR, "id buffer too small");
	ms = mls_time_now_ms();
	if (ms <= last_ms) {
		/* Same millisecond: increment the random part (monotonic ULID). */
		ms = last_ms;
		memcpy(rnd, last_rand, sizeof(rnd));
		for (i = sizeof(rnd); i-- > 0;)
			if (++rnd[i] != 0)
				break;
	} else if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		return mls_error_set_errno(MLS_ERR, "getrandom");
	}
	last_ms = ms;
	memcpy(last_rand, rnd, sizeof(rnd));
	memcpy(out, prefix, plen);
	p = out + plen;
	mls_id_b32_encode(p, ms, 10);
	/* 80 random bits, 16 characters */
	for (i = 0; i < 16; i++) {
		unsigned bit = (unsigned)i * 5, v = 0;
		for (unsigned b = 0; b < 5; b++) {
			unsigned pos = bit + b;
			v = (v << 1) | ((rnd[pos / 8] >> (7 - pos % 8)) & 1);
		}
		p[10 + i] = alphabet[v];
	}
	p[26] = '\0';
	return 0;
}

int
mls_hostname(char *out, size_t outsz)
{
	char name[HOST_NAME_MAX + 1];

	if (outsz == 0)
		return mls_error_set(MLS_ERR, "host name: no room");
	if (gethostname(name, sizeof(name)) == -1)
		return mls_error_set_errno(MLS_ERR, "gethostname");
	name[sizeof(name) - 1] = '\0';
	if (name[0] == '\0')
		return mls_error_set(MLS_ERR, "gethostname: empty");
	snprintf(out, outsz, "%s", name);
	return 0;
}
