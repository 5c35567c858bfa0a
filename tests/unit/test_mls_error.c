#include "config.h"

#include <errno.h>
#include <string.h>

#include "mls_error.h"
#include "tap.h"

int
main(void)
{
	int rc;

	mls_error_clear();
	ok(strcmp(mls_error_last(), "unknown error") == 0, "no message yet");
	rc = mls_error_set(MLS_EINPUT, "field '%s': missing", "id");
	ok(rc == MLS_EINPUT, "set returns the code");
	ok(mls_error_code() == MLS_EINPUT, "code kept");
	ok(strcmp(mls_error_last(), "field 'id': missing") == 0, "message formatted");
	errno = ENOENT;
	rc = mls_error_set_errno(MLS_EIO, "open '%s'", "x");
	ok(rc == MLS_EIO, "set_errno returns the code");
	ok(strcmp(mls_error_last(), "open 'x': No such file or directory") == 0,
	    "strerror appended: %s", mls_error_last());
	ok(errno == ENOENT, "errno preserved");
	rc = mls_error_prefix("site '%s'", "lab");
	ok(rc == MLS_EIO, "prefix keeps the code");
	ok(strncmp(mls_error_last(), "site 'lab': open 'x'", 20) == 0, "prefix added");
	mls_error_clear();
	ok(mls_error_code() == 0, "cleared");
	return done_testing();
}
