#include "config.h"

#include "mls_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "tap.h"

static int
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int
file_is(const char *path, const char *text)
{
	char buf[256];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strcmp(buf, text) == 0;
}

static int
count_entries(const char *dir)
{
	char cmd[512];
	FILE *fp;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	if ((fp = popen(cmd, "r")) == NULL)
		return -1;
	if (fscanf(fp, "%d", &n) != 1)
		n = -1;
	pclose(fp);
	return n;
}

int
main(void)
{
	char tmpl[] = "/tmp/mls-store-XXXXXX";
	struct mls_buf b = MLS_BUF_INIT, key = MLS_BUF_INIT;
	struct mls_config cfg;
	struct mls_store *st = (struct mls_store *)1;
	struct stat sb;
	char *root, *url = NULL, *p, *src = NULL, *dst = NULL;
	long long size = -1;
	json_t *list = (json_t *)1;
	FILE *fp;
	int rc;

	root = mkdtemp(tmpl);
	ok(root != NULL, "temp dir");

	/* opening */
	/* an http(s) store opens without a request (tests/unit/test_mls_http.c
	 * and tests/cli/store-https.bats exercise it) */
	rc = mls_store_open(&st, NULL, "https://store.example/mls");
	ok(rc == 0 && st != NULL && strcmp(mls_store_url(st),
	    "https://store.example/mls/") == 0, "https store opens, URL ends in '/'");
	ok(st != NULL && mls_store_local_path(st, "a") == NULL,
	    "an https store has no local path");
	mls_store_free(st);
	st = NULL;
	st = (struct mls_store *)1;
	rc = mls_store_open(&st, NULL, "ftp://x/");
	ok(rc == MLS_ECONFIG && st == NULL, "unknown scheme: %s", mls_error_last());
	st = (struct mls_store *)1;
	rc = mls_store_open(&st, NULL, "file://relative/dir");
	ok(rc == MLS_ECONFIG && st == NULL, "relative file store: %s",
	    mls_error_last());
	st = (struct mls_store *)1;
	rc = mls_store_open(&st, NULL, NULL);
	ok(rc == MLS_ECONFIG && st == NULL, "no url and no config");

	/* the configured store: file://$MLS_DATA_HOME/store */
	setenv("MLS_DATA_HOME", root, 1);
	unsetenv("MLS_STORE");
	ok(mls_config_load_file(&cfg, NULL) == 0, "config loaded");
	rc = mls_store_open(&st, &cfg, NULL);
	ok(rc == 0 && st != NULL, "configured store opened");
	mls_buf_addf(&b, "file://%s/store/", root);
	ok(st != NULL && strcmp(mls_store_url(st), b.buf) == 0, "url ends in /: %s",
	    st ? mls_store_url(st) : "?");
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/store", root);
	ok(stat(b.buf, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (sb.st_mode & 0777) == 0700, "base dir created 0700");
	mls_store_free(st);
	mls_config_release(&cfg);

	/* a plain absolute path, with trailing slashes */
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/plain//", root);
	ok(mls_store_open(&st, NULL, b.buf) == 0, "plain path store");
	p = mls_store_local_path(st, "a/b");
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/plain/a/b", root);
	ok(p != NULL && strcmp(p, b.buf) == 0, "local path: %s", p ? p : "NULL");
	free(p);
	p = mls_store_key_url(st, "a/b");
	mls_buf_reset(&b);
	mls_buf_addf(&b, "file://%s/plain/a/b", root);
	ok(p != NULL && strcmp(p, b.buf) == 0, "key url: %s", p ? p : "NULL");
	free(p);
	ok(mls_store_key_url(st, "../x") == NULL, "key url of a bad key is NULL");
	ok(mls_store_local_path(st, "/etc/passwd") == NULL,
	    "local path of an absolute key is NULL");
	mls_store_free(st);

	mls_buf_reset(&b);
	mls_buf_addf(&b, "file://%s/s", root);
	ok(mls_store_open(&st, NULL, b.buf) == 0, "file:// store");

	/* put_buf, stat, get_buf */
	ok(mls_store_put_buf(st, "jobs/j-1/result.json", "{\"x\":1}", 7) == 0,
	    "put_buf creates parents");
	ok(mls_store_stat(st, "jobs/j-1/result.json", &size) == 1 && size == 7,
	    "stat finds it with its size");
	ok(mls_store_stat(st, "jobs/j-1/nothing", NULL) == 0, "stat of a missing key");
	ok(mls_store_stat(st, "jobs/j-1", NULL) == 0, "a directory is no object");
	mls_buf_reset(&b);
	mls_buf_adds(&b, "pre:");
	ok(mls_store_get_buf(st, "jobs/j-1/result.json", &b, 100) == 0 &&
	    strcmp(b.buf, "pre:{\"x\":1}") == 0, "get_buf appends: %s", b.buf);

	/* a symbolic link in the store, at the key or on its way, is refused */
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/s/jobs/j-1/link", root);
	ok(symlink("result.json", b.buf) == 0, "plant a link at a key");
	mls_buf_reset(&b);
	ok(mls_store_get_buf(st, "jobs/j-1/link", &b, 100) == MLS_EPROTO &&
	    strstr(mls_error_last(), "symbolic link") != NULL && b.len == 0,
	    "a link at the key is refused: %s", mls_error_last());
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/s/jobs/j-2", root);
	ok(symlink("j-1", b.buf) == 0, "plant a link on the way");
	mls_buf_reset(&b);
	ok(mls_store_get_buf(st, "jobs/j-2/result.json", &b, 100) == MLS_EPROTO,
	    "a link on the way is refused: %s", mls_error_last());
	mls_buf_reset(&b);
	ok(mls_store_get_buf(st, "jobs/j-3/result.json", &b, 100) ==
	    MLS_ENOTFOUND, "a missing directory is not found");
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/s/jobs/j-1/link", root);
	unlink(b.buf);
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/s/jobs/j-2", root);
	unlink(b.buf);
	mls_buf_reset(&b);
	mls_buf_reset(&b);
	rc = mls_store_get_buf(st, "jobs/j-1/result.json", &b, 6);
	ok(rc == MLS_EINPUT && has_prefix(mls_error_last(), "store '"),
	    "get_buf over the cap: %s", mls_error_last());
	ok(mls_store_get_buf(st, "jobs/j-1/result.json", &b, 7) == 0,
	    "get_buf exactly at the cap");
	rc = mls_store_get_buf(st, "jobs/none", &b, 100);
	ok(rc == MLS_ENOTFOUND && strstr(mls_error_last(), "'jobs/none': not found"),
	    "get_buf of a missing key: %s", mls_error_last());

	/* overwrite is atomic and leaves no temp files */
	ok(mls_store_put_buf(st, "jobs/j-1/result.json", "new", 3) == 0,
	    "overwrite");
	p = mls_store_local_path(st, "jobs/j-1/result.json");
	ok(file_is(p, "new"), "new content in place");
	ok(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0644, "object mode 0644");
	free(p);
	p = mls_store_local_path(st, "jobs/j-1");
	ok(count_entries(p) == 1, "no temp file left behind");
	free(p);

	/* put_file, get_file */
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/src.txt", root);
	src = strdup(b.buf);
	fp = fopen(src, "w");
	fputs("hello store\n", fp);
	fclose(fp);
	ok(mls_store_put_file(st, "sandboxes/sha256/ab/abc.tar.zst", src) == 0,
	    "put_file");
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/out/deep/dst.txt", root);
	dst = strdup(b.buf);
	ok(mls_store_get_file(st, "sandboxes/sha256/ab/abc.tar.zst", dst) == 0 &&
	    file_is(dst, "hello store\n"), "get_file round trip into new dirs");
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/out/deep", root);
	ok(count_entries(b.buf) == 1, "get_file leaves no temp file");
	rc = mls_store_get_file(st, "sandboxes/none", dst);
	ok(rc == MLS_ENOTFOUND && file_is(dst, "hello store\n"),
	    "get_file of a missing key leaves the destination alone");
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/does-not-exist", root);
	rc = mls_store_put_file(st, "x/y", b.buf);
	ok(rc == MLS_ENOTFOUND && has_prefix(mls_error_last(), "open '"),
	    "put_file of a missing source: %s", mls_error_last());
	ok(mls_store_stat(st, "x/y", NULL) == 0, "nothing stored");

	/* list */
	ok(mls_store_put_buf(st, "jobs/j-3/x", "", 0) == 0, "empty object");
	ok(mls_store_put_buf(st, "jobs/j-2/x", "1", 1) == 0, "another");
	ok(mls_store_list(st, "jobs", &list) == 0 && json_array_size(list) == 3 &&
	    strcmp(json_string_value(json_array_get(list, 0)), "j-1") == 0 &&
	    strcmp(json_string_value(json_array_get(list, 1)), "j-2") == 0 &&
	    strcmp(json_string_value(json_array_get(list, 2)), "j-3") == 0,
	    "list is sorted");
	json_decref(list);
	ok(mls_store_list(st, "jobs/", &list) == 0 && json_array_size(list) == 3,
	    "trailing slash accepted");
	json_decref(list);
	ok(mls_store_list(st, "", &list) == 0 && json_array_size(list) == 2 &&
	    strcmp(json_string_value(json_array_get(list, 1)), "sandboxes") == 0,
	    "list of the root: jobs, sandboxes");
	json_decref(list);
	ok(mls_store_list(st, "nothing/here", &list) == 0 && list != NULL &&
	    json_is_array(list) && json_array_size(list) == 0,
	    "missing dir lists empty");
	json_decref(list);
	list = (json_t *)1;
	rc = mls_store_list(st, "../..", &list);
	ok(rc == MLS_EINPUT && list == NULL, "list refuses '..'");

	/* delete */
	ok(mls_store_delete(st, "jobs/j-2/x") == 0 &&
	    mls_store_stat(st, "jobs/j-2/x", NULL) == 0, "delete");
	ok(mls_store_delete(st, "jobs/j-2/x") == 0, "delete of a missing key is fine");

	/* key validation */
	rc = mls_store_put_buf(st, "/etc/x", "1", 1);
	ok(rc == MLS_EINPUT && strcmp(mls_error_last(),
	    "store key '/etc/x': absolute") == 0, "absolute key: %s", mls_error_last());
	rc = mls_store_put_buf(st, "a/../../x", "1", 1);
	ok(rc == MLS_EINPUT && strstr(mls_error_last(), "'..'"), "'..' key: %s",
	    mls_error_last());
	rc = mls_store_put_buf(st, "a//b", "1", 1);
	ok(rc == MLS_EINPUT && strstr(mls_error_last(), "empty component"),
	    "empty component: %s", mls_error_last());
	ok(mls_store_put_buf(st, "a/b/", "1", 1) == MLS_EINPUT, "trailing slash key");
	ok(mls_store_put_buf(st, "", "1", 1) == MLS_EINPUT, "empty key");
	ok(mls_store_stat(st, "..", NULL) == MLS_EINPUT, "stat refuses '..'");
	ok(mls_store_get_file(st, "../x", dst) == MLS_EINPUT, "get_file refuses '..'");
	ok(mls_store_delete(st, "/x") == MLS_EINPUT, "delete refuses absolute");
	mls_buf_reset(&b);
	ok(mls_store_get_buf(st, "./x", &b, 10) == MLS_EINPUT, "get_buf refuses '.'");
	mls_buf_reset(&b);
	mls_buf_addf(&b, "%s/x", root);
	ok(access(b.buf, F_OK) == -1, "nothing written outside the store");
	mls_store_free(st);
	mls_store_free(NULL);

	/* sandbox keys */
	mls_buf_reset(&key);
	ok(mls_store_sandbox_key("sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    &key) == 0 && strcmp(key.buf, "sandboxes/sha256/01/"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    ".tar.zst") == 0, "sandbox key: %s", key.buf);
	mls_buf_reset(&key);
	rc = mls_store_sandbox_key("sha256:abc", &key);
	ok(rc == MLS_EINPUT && key.len == 0 && has_prefix(mls_error_last(),
	    "sandbox 'sha256:abc'"), "short id: %s", mls_error_last());
	ok(mls_store_sandbox_key("md5:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    &key) == MLS_EINPUT, "wrong algorithm");
	ok(mls_store_sandbox_key("sha256:"
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	    &key) == MLS_EINPUT, "uppercase hex refused");
	ok(mls_store_sandbox_key("sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
	    &key) == MLS_EINPUT, "too long");
	ok(mls_store_sandbox_key(NULL, &key) == MLS_EINPUT, "NULL id");

	mls_buf_release(&b);
	mls_buf_release(&key);
	free(src);
	free(dst);
	free(url);
	mls_buf_addf(&b, "rm -rf '%s'", root);
	if (system(b.buf) != 0)
		ok(0, "cleanup");
	mls_buf_release(&b);
	return done_testing();
}
