/*
 * fuzz_space_spec.c - inline spaces: each line of the input is one
 * `-p NAME=TYPE:ARGS` spec for mls_space_add_spec; the space that results
 * goes through mls_space_to_json, mls_space_from_json and a draw of each
 * parameter (issue 16).
 */
#include "fuzz_util.h"

#include "mls_space.h"

#include "fuzz_space_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mls_space *sp = NULL;
	char *s = fuzz_str(data, size), *line, *nl;

	if (mls_space_new(&sp) < 0)
		abort();
	for (line = s; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		(void)mls_space_add_spec(sp, line);
	}
	fuzz_space_exercise(sp);
	mls_space_free(sp);
	free(s);
	return 0;
}
