/* fuzz_space_common.h - what the space targets do with a space that loaded. */
#ifndef FUZZ_SPACE_COMMON_H
#define FUZZ_SPACE_COMMON_H

/* Draw each parameter at u, and check the value against the space. */
static void
fuzz_space_exercise(const struct mls_space *sp)
{
	static const double us[] = { 0.0, 0.5, 0.999999 };
	struct mls_space *back = NULL;
	json_t *j, *params;

	for (size_t k = 0; k < sizeof(us) / sizeof(us[0]); k++) {
		if ((params = json_object()) == NULL)
			abort();
		for (size_t i = 0; i < mls_space_size(sp); i++) {
			const struct mls_param *p = mls_space_param(sp, i);
			json_t *v = mls_param_from_unit(p, us[k]);

			if (v == NULL)
				abort();
			(void)mls_param_choice_index(p, v);
			json_object_set_new(params, p->name, v);
		}
		if (mls_space_check(sp, params) < 0)
			abort();	/* a drawn value must be valid */
		json_decref(params);
	}
	if (mls_space_size(sp) == 0)
		return;		/* an empty space is refused, not read back */
	if ((j = mls_space_to_json(sp)) == NULL)
		abort();
	if (mls_space_new(&back) < 0)
		abort();
	if (mls_space_from_json(back, j) < 0 || mls_space_size(back) !=
	    mls_space_size(sp))
		abort();	/* the canonical form must read back */
	mls_space_free(back);
	json_decref(j);
}

#endif
