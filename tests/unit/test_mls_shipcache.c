/*
 * test_mls_shipcache - the ship stat cache: hits, stale and racily clean
 * entries, corrupt files, tree records; and through mls_ship(), that a
 * wrong cache entry never changes what is shipped.
 */
#include "config.h"

#include "mls_shipcache.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_ship.h"
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
put(const char *rel, const char *text)
{
	FILE *fp = fopen(at(rel), "w");

	fputs(text, fp);
	fclose(fp);
}

/* Set rel's mtime to ago seconds before now. */
static void
age(const char *rel, long ago)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= ago;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, at(rel), ts, 0);
}

static long long
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The id mls_ship() gives dir (new string), or NULL. */
static char *
ship_id(const struct mls_config *cfg, struct mls_store *st, const char *dir,
    int *uploaded)
{
	json_t *rec = NULL;
	char *id = NULL;

	if (mls_ship(cfg, st, dir, NULL, &rec) == 0) {
		id = strdup(json_string_value(json_object_get(rec, "id")));
		if (uploaded != NULL)
			*uploaded = json_is_true(json_object_get(rec, "uploaded"));
	}
	json_decref(rec);
	return id;
}

/* The tree key of a tree of regular 0644 files (sorted paths). */
static void
key_of(const char *const *paths, const char *const *texts, size_t n,
    unsigned char key[32])
{
	struct mls_treekey k;
	struct mls_pack_entry e;
	size_t i;

	mls_treekey_init(&k);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.path = paths[i];
		e.type = 'f';
		e.size = (long long)strlen(texts[i]);
		{
			struct mls_digest d;
			mls_digest_init(&d);
			mls_digest_update(&d, texts[i], strlen(texts[i]));
			mls_digest_final_bin(&d, e.sha256);
		}
		mls_treekey_add(&k, &e);
	}
	mls_treekey_final(&k, key);
}

int
main(void)
{
	char tmpl[] = "/tmp/mls-shipcache-XXXXXX";
	static const unsigned char mdx[32] = { 1, 2, 3 };
	struct mls_config cfg;
	struct mls_store *st = NULL;
	struct mls_shipcache *c = NULL;
	struct mls_buf cmd = MLS_BUF_INIT;
	unsigned char md[32], key[32], key2[32];
	char id[72], *abs, *id1, *id2, *id3;
	long long size = 0;
	struct stat sb;
	int up = -1;
	FILE *fp;

	root = mkdtemp(tmpl);
	ok(root != NULL, "temp dir");
	setenv("MLS_DATA_HOME", at("data"), 1);
	setenv("HOME", root, 1);
	unsetenv("MLS_STORE");
	ok(mls_config_load_file(&cfg, NULL) == 0, "config");
	ok(mls_store_open(&st, &cfg, NULL) == 0, "store");
	mkdir(at("code"), 0755);
	put("code/a.py", "one\n");
	abs = realpath(at("code"), NULL);

	/* an entry well older than the cache: a hit */
	age("code/a.py", 3600);
	stat(at("code/a.py"), &sb);
	ok(mls_shipcache_open(&cfg, abs, &c) == 0 &&
	    mls_shipcache_loaded(c) == 0, "no cache yet: empty");
	/* (utimensat set the ctime to now: a cache made 2 s from now) */
	mls_shipcache_set_stamp(c, now_ns() + 2000000000LL);
	ok(mls_shipcache_put(c, "a.py", &sb, mdx, 0) == 0 &&
	    mls_shipcache_save(c) == 0, "saved");
	ok(stat(mls_shipcache_path(c), &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "under DATA_HOME/shipcache, mode 0600: %s", mls_shipcache_path(c));
	ok(strncmp(mls_shipcache_path(c), at("data/shipcache/"),
	    strlen(at("data/shipcache/"))) == 0, "in the data dir");
	mls_shipcache_free(c);
	stat(at("code/a.py"), &sb);
	ok(mls_shipcache_open(&cfg, abs, &c) == 0 &&
	    mls_shipcache_loaded(c) == 1, "loaded");
	ok(mls_shipcache_lookup(c, "a.py", &sb, md) == 1 &&
	    memcmp(md, mdx, 32) == 0, "same stat, older than the cache: hit");
	ok(mls_shipcache_lookup(c, "b.py", &sb, md) == 0, "other path: miss");
	sb.st_size++;
	ok(mls_shipcache_lookup(c, "a.py", &sb, md) == 0, "other size: miss");
	sb.st_size--;
	sb.st_mtim.tv_nsec ^= 1;
	ok(mls_shipcache_lookup(c, "a.py", &sb, md) == 0, "other mtime: miss");
	sb.st_mtim.tv_nsec ^= 1;
	sb.st_mode |= 0100;
	ok(mls_shipcache_lookup(c, "a.py", &sb, md) == 0, "other mode: miss");
	sb.st_mode &= ~0100;
	sb.st_ino++;
	ok(mls_shipcache_lookup(c, "a.py", &sb, md) == 0, "other inode: miss");
	sb.st_ino--;
	mls_shipcache_free(c);

	/* racily clean: the same stat, but in the second the cache was made */
	age("code/a.py", 0);
	stat(at("code/a.py"), &sb);
	mls_shipcache_open(&cfg, abs, &c);
	mls_shipcache_put(c, "a.py", &sb, mdx, 0);
	mls_shipcache_set_stamp(c, now_ns());
	mls_shipcache_save(c);
	mls_shipcache_free(c);
	mls_shipcache_open(&cfg, abs, &c);
	ok(mls_shipcache_lookup(c, "a.py", &sb, md) == 0,
	    "modified in the second of the cache: racily clean, a miss");
	mls_shipcache_free(c);
	mls_shipcache_open(&cfg, abs, &c);
	mls_shipcache_put(c, "a.py", &sb, mdx, 0);
	mls_shipcache_set_stamp(c, now_ns() + 5000000000LL);
	mls_shipcache_save(c);
	mls_shipcache_free(c);
	mls_shipcache_open(&cfg, abs, &c);
	ok(mls_shipcache_lookup(c, "a.py", &sb, md) == 1,
	    "the same entry with a cache seconds newer: a hit");

	/* tree records: most recent first, at most MAX */
	memset(key, 7, sizeof(key));
	ok(mls_shipcache_tree_put(c, key, "sha256:abc", 1) == MLS_ERR,
	    "a malformed id refused");
	ok(mls_shipcache_tree_put(c, key, "sha256:"
	    "00000000000000000000000000000000000000000000000000000000000000aa",
	    42) == 0, "tree put");
	ok(mls_shipcache_tree_get(c, key, id, &size) == 1 && size == 42 &&
	    strcmp(id + 63, "000000aa") == 0, "tree get");
	{
		unsigned char k2[32];
		int i;
		for (i = 0; i < MLS_SHIPCACHE_MAX_TREES; i++) {
			memset(k2, 100 + i, sizeof(k2));
			mls_shipcache_tree_put(c, k2, "sha256:00000000000000000"
			    "000000000000000000000000000000000000000000000bb", i);
		}
		ok(mls_shipcache_tree_get(c, key, id, &size) == 0,
		    "the oldest tree record goes past %d", MLS_SHIPCACHE_MAX_TREES);
		ok(mls_shipcache_tree_get(c, k2, id, &size) == 1 &&
		    size == MLS_SHIPCACHE_MAX_TREES - 1, "the newest stays");
	}
	mls_shipcache_free(c);

	/* corrupt, truncated, foreign files: an empty cache */
	mls_shipcache_open(&cfg, abs, &c);
	ok(mls_shipcache_loaded(c) > 0, "a good file loads");
	{
		const char *p = mls_shipcache_path(c);
		char path[1024];
		long len;
		int fd;

		snprintf(path, sizeof(path), "%s", p);
		mls_shipcache_free(c);
		fp = fopen(path, "r+b");
		fseek(fp, 0, SEEK_END);
		len = ftell(fp);
		fseek(fp, len / 2, SEEK_SET);
		fputc(fgetc(fp) ^ 0x40, fp);
		fclose(fp);
		mls_shipcache_open(&cfg, abs, &c);
		ok(mls_shipcache_loaded(c) == 0, "a flipped byte: ignored");
		mls_shipcache_free(c);
		ok(truncate(path, len - 5) == 0, "truncated");
		mls_shipcache_open(&cfg, abs, &c);
		ok(mls_shipcache_loaded(c) == 0, "a truncated file: ignored");
		mls_shipcache_free(c);
		fd = open(path, O_WRONLY | O_TRUNC);
		ok(write(fd, "garbage\n", 8) == 8, "garbage written");
		close(fd);
		mls_shipcache_open(&cfg, abs, &c);
		ok(mls_shipcache_loaded(c) == 0, "garbage: ignored");
		mls_shipcache_free(c);
		c = NULL;
		unlink(path);
	}

	/*
	 * Through mls_ship(): the wrong entry that the racy rule catches.
	 * Ship a.py="two", then a.py="one" (ids id2, id1; both archives in
	 * the store).  Then make the cache say a.py has "two"'s digest for
	 * the stat it has now: were it trusted, the tree key would be that
	 * of the "two" tree, whose archive is in the store, and id2 would
	 * ship.  The file changed in the cache's second: it is hashed again.
	 */
	put("code/a.py", "two\n");
	id2 = ship_id(&cfg, st, at("code"), NULL);
	put("code/a.py", "one\n");
	age("code/a.py", 0);
	id1 = ship_id(&cfg, st, at("code"), NULL);
	ok(id1 != NULL && id2 != NULL && strcmp(id1, id2) != 0, "two trees");
	{
		static const char *const paths[] = { "a.py" };
		static const char *const one[] = { "one\n" }, *const two[] =
		    { "two\n" };
		unsigned char mtwo[32];

		key_of(paths, one, 1, key);
		key_of(paths, two, 1, key2);
		mls_shipcache_open(&cfg, abs, &c);
		ok(mls_shipcache_tree_get(c, key, id, &size) == 1 &&
		    strcmp(id, id1) == 0, "the cache knows tree 'one' as id1");
		ok(mls_shipcache_tree_get(c, key2, id, &size) == 1 &&
		    strcmp(id, id2) == 0, "and tree 'two' as id2");
		{
			struct mls_digest d;
			mls_digest_init(&d);
			mls_digest_update(&d, "two\n", 4);
			mls_digest_final_bin(&d, mtwo);
		}
		stat(at("code/a.py"), &sb);
		mls_shipcache_put(c, "a.py", &sb, mtwo, 0);	/* wrong */
		mls_shipcache_set_stamp(c, now_ns());
		ok(mls_shipcache_save(c) == 0, "a wrong, racily clean entry saved");
		mls_shipcache_free(c);
		c = NULL;
		id3 = ship_id(&cfg, st, at("code"), &up);
		ok(id3 != NULL && strcmp(id3, id1) == 0 && up == 0,
		    "the file is hashed again: id1 ships, nothing uploaded");
		free(id3);
	}

	/* the same tree, the cache dropped: the same id */
	mls_buf_addf(&cmd, "rm -rf '%s'", at("data/shipcache"));
	ok(system(cmd.buf) == 0, "cache dropped");
	id3 = ship_id(&cfg, st, at("code"), NULL);
	ok(id3 != NULL && strcmp(id3, id1) == 0, "same id without the cache");
	free(id3);
	/* a cache file for another directory, copied over: ignored */
	mkdir(at("code2"), 0755);
	put("code2/a.py", "two\n");
	age("code2/a.py", 60);
	free(ship_id(&cfg, st, at("code2"), NULL));
	mls_buf_reset(&cmd);
	mls_buf_addf(&cmd, "cd '%s' && for f in *; do cp \"$f\" x; done; "
	    "for f in *; do [ \"$f\" = x ] || cp x \"$f\"; done; rm x",
	    at("data/shipcache"));
	ok(system(cmd.buf) == 0, "every cache file made that of code2");
	id3 = ship_id(&cfg, st, at("code"), NULL);
	ok(id3 != NULL && strcmp(id3, id1) == 0,
	    "another directory's cache is not used");
	free(id3);

	free(id1);
	free(id2);
	free(abs);
	mls_store_free(st);
	mls_config_release(&cfg);
	mls_buf_reset(&cmd);
	mls_buf_addf(&cmd, "rm -rf '%s'", root);
	if (system(cmd.buf) != 0)
		ok(0, "cleanup");
	mls_buf_release(&cmd);
	return done_testing();
}
