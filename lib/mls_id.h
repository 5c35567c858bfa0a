/*
 * mls_id.h - identifiers: ids of jobs, campaigns and sandboxes, their
 * base32 alphabet, and the name of this host.
 */
#ifndef MLS_ID_H
#define MLS_ID_H

#include <stddef.h>

/* Crockford's base32 in lowercase: no i, l, o or u. */
#define MLS_ID_ALPHABET	"0123456789abcdefghjkmnpqrstvwxyz"

/*
 * A new time-sortable id: PREFIX + 26 lowercase Crockford base32
 * characters (a ULID: 48 bits of milliseconds, 80 random bits; ids made
 * in one millisecond by one thread still sort in order).
 * out must hold at least strlen(prefix) + 27 bytes.
 */
int	 mls_id_new(char *out, size_t outsz, const char *prefix);
/* Write the low 5 * n bits of v as n characters, high first (no NUL). */
void	 mls_id_b32_encode(char *out, unsigned long long v, int n);
/*
 * The value of the n characters at s (n <= 12), in *out; MLS_EINPUT
 * when one is not in the alphabet (or is a NUL).
 */
int	 mls_id_b32_decode(const char *s, int n, unsigned long long *out);

/*
 * This host's name (gethostname(3), cut to fit and always terminated)
 * in out.  MLS_ERR with out untouched when there is none.
 */
int	 mls_hostname(char *out, size_t outsz);

#endif
