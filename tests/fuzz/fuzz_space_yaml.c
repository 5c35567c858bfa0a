/*
 * fuzz_space_yaml.c - space files in YAML (all three dialects: ours,
 * hpogrid, W&B): the input is written to a .yaml file and read by
 * mls_space_load_file; a space that loads is drawn from and read back
 * (issue 16).
 */
#include "fuzz_util.h"

#include "mls_space.h"

#include "fuzz_space_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mls_space *sp = NULL;
	json_t *meta = NULL;
	char path[512];

	fuzz_write("space.yaml", data, size, path, sizeof(path));
	if (mls_space_new(&sp) < 0)
		abort();
	if (mls_space_load_file(sp, path, &meta) == 0) {
		fuzz_space_exercise(sp);
		json_decref(meta);
	}
	mls_space_free(sp);
	return 0;
}
