/*
 * test_mls_id.c - ids, their alphabet and the host name.
 */
#include "config.h"

#include "mls_id.h"

#include <string.h>

#include "mls_error.h"
#include "tap.h"

static void
test_b32(void)
{
	unsigned long long v = 0;
	char buf[16];

	mls_id_b32_encode(buf, 0, 4);
	ok(memcmp(buf, "0000", 4) == 0, "b32: zero");
	mls_id_b32_encode(buf, 31, 2);
	ok(memcmp(buf, "0z", 2) == 0, "b32: 31 is z");
	mls_id_b32_encode(buf, 1ULL << 45, 10);
	ok(memcmp(buf, "1000000000", 10) == 0, "b32: high digit first");
	mls_id_b32_encode(buf, 123456789012ULL, 8);
	ok(mls_id_b32_decode(buf, 8, &v) == 0 && v == 123456789012ULL,
	    "b32: decode(encode(x)) == x");
	v = 7;
	ok(mls_id_b32_decode("0u", 2, &v) == MLS_EINPUT && v == 7,
	    "b32: u is not in the alphabet, out untouched");
	ok(mls_id_b32_decode("0", 2, &v) == MLS_EINPUT, "b32: too short");
	ok(strlen(MLS_ID_ALPHABET) == 32, "b32: 32 characters");
}

static void
test_id_new(void)
{
	char a[40], b[40], small[10];
	int good = 1;

	ok(mls_id_new(a, sizeof(a), "j-") == 0 && strlen(a) == 28 &&
	    strncmp(a, "j-", 2) == 0, "id: j- and 26 characters (%s)", a);
	for (size_t i = 2; i < strlen(a); i++)
		if (strchr(MLS_ID_ALPHABET, a[i]) == NULL)
			good = 0;
	ok(good, "id: only the alphabet");
	for (int i = 0; i < 1000 && good; i++) {
		mls_id_new(b, sizeof(b), "j-");
		good = strcmp(a, b) < 0;
		memcpy(a, b, sizeof(a));
	}
	ok(good, "id: 1000 ids in a row sort in the order they were made");
	ok(mls_id_new(small, sizeof(small), "j-") == MLS_ERR, "id: buffer too small");
}

static void
test_hostname(void)
{
	char h[256] = "", tiny[4] = "zzz";

	ok(mls_hostname(h, sizeof(h)) == 0 && h[0] != '\0', "hostname: %s", h);
	ok(mls_hostname(tiny, sizeof(tiny)) == 0 && strlen(tiny) <= 3 &&
	    strncmp(tiny, h, strlen(tiny)) == 0, "hostname: cut to fit");
}

int
main(void)
{
	test_b32();
	test_id_new();
	test_hostname();
	return done_testing();
}
