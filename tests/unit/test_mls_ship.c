#include "config.h"

#include "mls_ship.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_store.h"
#include "tap.h"

static char *root;

static char *
at(const char *rel)
{
	static char path[4][1024];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", root, rel);
	return path[k];
}

static void
put(const char *rel, size_t n)
{
	FILE *fp = fopen(at(rel), "w");

	while (n-- > 0)
		fputc('x', fp);
	fclose(fp);
}

static int
count_entries(const char *dir)
{
	char cmd[1200];
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
	char tmpl[] = "/tmp/mls-ship-XXXXXX";
	struct mls_ship_opts o = { .image = "python:3.11" };
	struct mls_config cfg;
	struct mls_store *st = NULL;
	struct mls_buf key = MLS_BUF_INIT;
	json_t *rec = NULL, *rec2 = NULL, *l;
	char hs[32], *p, *id = NULL;
	struct stat sb;
	int rc;

	root = mkdtemp(tmpl);
	ok(root != NULL, "temp dir");
	setenv("MLS_DATA_HOME", at("data"), 1);
	setenv("HOME", root, 1);
	unsetenv("MLS_STORE");
	ok(mls_config_load_file(&cfg, NULL) == 0, "config");
	ok(mls_store_open(&st, &cfg, NULL) == 0, "store");

	mkdir(at("code"), 0755);
	mkdir(at("code/sub"), 0755);
	put("code/train.py", 100);
	put("code/sub/big.bin", 5000);
	put("code/sub/mid.bin", 300);
	put("code/a.txt", 300);

	rc = mls_ship(&cfg, st, at("code"), &o, &rec);
	ok(rc == 0 && rec != NULL, "shipped: %s", rc ? mls_error_last() : "");
	ok(strcmp(json_string_value(json_object_get(rec, "kind")), "sandbox") == 0 &&
	    strncmp(json_string_value(json_object_get(rec, "id")), "sha256:", 7) == 0 &&
	    strlen(json_string_value(json_object_get(rec, "id"))) == 71,
	    "kind and id");
	ok(json_integer_value(json_object_get(rec, "files")) == 4 &&
	    json_integer_value(json_object_get(rec, "bytes")) == 5700, "files, bytes");
	ok(strcmp(json_string_value(json_object_get(rec, "image")), "python:3.11") == 0,
	    "image");
	ok(json_is_null(json_object_get(rec, "git")), "git null outside a repo");
	ok(json_is_true(json_object_get(rec, "uploaded")), "uploaded");
	ok(strcmp(json_string_value(json_object_get(rec, "dir")), at("code")) == 0,
	    "absolute dir");
	ok(json_string_value(json_object_get(rec, "created")) != NULL &&
	    strlen(json_string_value(json_object_get(rec, "created"))) == 24,
	    "created: %s", json_string_value(json_object_get(rec, "created")));
	id = strdup(json_string_value(json_object_get(rec, "id")));
	mls_store_sandbox_key(id, &key);
	ok(mls_store_stat(st, key.buf, NULL) == 1 &&
	    json_integer_value(json_object_get(rec, "size")) > 0, "in the store");
	p = mls_store_key_url(st, key.buf);
	ok(strcmp(json_string_value(json_object_get(rec, "url")), p) == 0, "url: %s", p);
	free(p);
	ok(count_entries(at("data/tmp")) == 0, "no temp file left");

	/* unchanged: same id, no upload */
	p = mls_store_local_path(st, key.buf);
	stat(p, &sb);
	utimensat(AT_FDCWD, p, (struct timespec[2]){ { 1, 0 }, { 1, 0 } }, 0);
	o.image = NULL;
	rc = mls_ship(&cfg, st, at("code/"), &o, &rec2);
	ok(rc == 0 && strcmp(json_string_value(json_object_get(rec2, "id")), id) == 0,
	    "same tree, same id");
	ok(json_is_false(json_object_get(rec2, "uploaded")), "not uploaded again");
	ok(json_is_null(json_object_get(rec2, "image")), "image null");
	ok(stat(p, &sb) == 0 && sb.st_mtime == 1, "store file untouched");
	free(p);
	json_decref(rec2);
	rec2 = NULL;

	/* dry run */
	o.dry_run = 1;
	rc = mls_ship(&cfg, NULL, at("code"), &o, &rec2);
	l = json_object_get(rec2, "listing");
	ok(rc == 0 && json_is_true(json_object_get(rec2, "dry_run")) &&
	    json_is_null(json_object_get(rec2, "id")), "dry run record");
	ok(json_array_size(l) == 4 &&
	    strcmp(json_string_value(json_object_get(json_array_get(l, 0), "path")),
	    "sub/big.bin") == 0 &&
	    strcmp(json_string_value(json_object_get(json_array_get(l, 1), "path")),
	    "a.txt") == 0 &&
	    strcmp(json_string_value(json_object_get(json_array_get(l, 2), "path")),
	    "sub/mid.bin") == 0, "listing largest first, ties by path");
	json_decref(rec2);
	rec2 = NULL;
	o.dry_run = 0;

	/* too large */
	o.max_size = 1000;
	rec2 = (json_t *)1;
	rc = mls_ship(&cfg, st, at("code"), &o, &rec2);
	ok(rc == MLS_EINPUT && rec2 == NULL, "over --max-size refused");
	ok(strstr(mls_error_last(), "over the maximum of 1000 B") &&
	    strstr(mls_error_last(), "largest: 'sub/big.bin' (4.9 KiB), 'a.txt' "
	    "(300 B), 'sub/mid.bin' (300 B), 'train.py' (100 B)"),
	    "message lists the largest: %s", mls_error_last());
	o.max_size = 0;

	/* missing dir, file instead of dir */
	rec2 = (json_t *)1;
	rc = mls_ship(&cfg, st, at("nope"), &o, &rec2);
	ok(rc == MLS_ENOTFOUND && rec2 == NULL, "missing dir: %s", mls_error_last());
	ok(mls_ship(&cfg, st, at("code/a.txt"), &o, &rec2) == MLS_EINPUT,
	    "not a directory");

	/* a link out */
	symlink("/etc", at("code/etc"));
	rc = mls_ship(&cfg, st, at("code"), &o, &rec2);
	ok(rc == MLS_EINPUT && strstr(mls_error_last(), "symlink 'etc'"),
	    "link out refused: %s", mls_error_last());
	ok(count_entries(at("data/tmp")) == 0, "no temp file left on failure");

	mls_ship_human_size(0, hs);
	ok(strcmp(hs, "0 B") == 0, "0 B");
	mls_ship_human_size(1536, hs);
	ok(strcmp(hs, "1.5 KiB") == 0, "1.5 KiB");
	mls_ship_human_size(512LL << 20, hs);
	ok(strcmp(hs, "512.0 MiB") == 0, "%s", hs);

	json_decref(rec);
	free(id);
	mls_buf_release(&key);
	mls_store_free(st);
	mls_config_release(&cfg);
	{
		char cmd[1100];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			ok(0, "cleanup");
	}
	return done_testing();
}
