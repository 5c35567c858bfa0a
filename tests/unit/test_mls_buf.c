#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "tap.h"

int
main(void)
{
	struct mls_buf b = MLS_BUF_INIT;
	char *s;
	int i;

	ok(b.buf != NULL && b.buf[0] == '\0' && b.len == 0, "init is an empty string");
	mls_buf_adds(&b, "abc");
	mls_buf_addc(&b, '-');
	mls_buf_addf(&b, "%d/%s", 42, "x");
	ok(strcmp(b.buf, "abc-42/x") == 0 && b.len == 8, "appends: %s", b.buf);
	for (i = 0; i < 1000; i++)
		mls_buf_adds(&b, "0123456789");
	ok(b.len == 10008 && mls_buf_error(&b) == 0, "grows to %zu", b.len);
	mls_buf_reset(&b);
	ok(b.len == 0 && b.buf[0] == '\0', "reset empties");
	mls_buf_add_shquoted(&b, "it's");
	ok(strcmp(b.buf, "'it'\\''s'") == 0, "shell quoting: %s", b.buf);
	s = mls_buf_detach(&b);
	ok(s != NULL && strcmp(s, "'it'\\''s'") == 0, "detach hands the string over");
	ok(b.cap == 0 && b.len == 0, "detach re-initialises");
	free(s);
	s = mls_buf_detach(&b);
	ok(s != NULL && *s == '\0', "detach of an empty buffer gives \"\"");
	free(s);
	ok(mls_buf_grow(&b, (size_t)-1 / 2) == MLS_ENOMEM, "huge growth refused");
	ok(mls_buf_error(&b) == MLS_ENOMEM, "error is sticky");
	ok(strcmp(mls_error_last(), "out of memory") == 0, "message set");
	mls_buf_adds(&b, "x");
	ok(b.len == 0, "appends after an error do nothing");
	mls_buf_release(&b);
	ok(b.err == 0 && b.cap == 0, "release re-initialises");
	return done_testing();
}
