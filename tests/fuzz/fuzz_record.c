/*
 * fuzz_record.c - the JSON-lines record reader: mls_jsonl_read over the
 * input as a stream (fmemopen), mls_jsonl_parse on its first line, and
 * mls_record_check of every record against every kind (issue 16).
 */
#include "fuzz_util.h"

#include "mls_error.h"
#include "mls_record.h"

static const char *const kinds[] = {
	NULL, "sandbox", "job", "trial", "member", "campaign", "ensemble",
	"artifact", "params", "nonsense",
};

static void
check_all(const json_t *rec)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		(void)mls_record_check(rec, kinds[i]);
	(void)mls_record_kind(rec);
	(void)mls_record_id(rec);
	(void)mls_record_str(rec, "state");
	(void)mls_record_int(rec, "number", -1);
	(void)mls_record_num(rec, "value", 0);
	if (json_is_object(rec))
		(void)mls_state_parse(mls_record_str(rec, "state"));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mls_jsonl_reader r;
	const char *nl;
	json_t *rec = NULL;
	FILE *fp;
	int rc;

	/* one line */
	nl = memchr(data, '\n', size);
	if (mls_jsonl_parse((const char *)data,
	    nl != NULL ? (size_t)(nl - (const char *)data) : size, "<fuzz>", 1,
	    &rec) >= 0 && rec != NULL) {
		check_all(rec);
		json_decref(rec);
	}
	rec = NULL;

	/* the stream */
	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		abort();
	mls_jsonl_reader_init(&r, fp, "<fuzz>");
	while ((rc = mls_jsonl_read(&r, &rec)) == 1) {
		check_all(rec);
		json_decref(rec);
		rec = NULL;
	}
	mls_jsonl_reader_release(&r);
	fclose(fp);
	return 0;
}
