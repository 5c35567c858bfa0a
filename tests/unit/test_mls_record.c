#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mls_error.h"
#include "mls_record.h"
#include "tap.h"

int
main(void)
{
	const char *in = "{\"kind\":\"job\",\"id\":\"j-1\",\"site\":\"local\",\"x\":{\"y\":1}}\n"
	    "\n"
	    "   \n"
	    "{\"kind\":\"params\",\"lr\":0.1}\n"
	    "{\"id\":\n";
	struct mls_jsonl_reader r;
	char id1[64], id2[64], ts[32], *out = NULL;
	size_t outlen = 0;
	json_t *rec = NULL;
	FILE *fp, *mem;
	int rc;

	fp = fmemopen((void *)in, strlen(in), "r");
	mls_jsonl_reader_init(&r, fp, "<stdin>");
	rc = mls_jsonl_read(&r, &rec);
	ok(rc == 1 && r.lineno == 1, "first record on line 1");
	ok(strcmp(mls_record_kind(rec), "job") == 0, "kind read");
	ok(mls_record_check(rec, "job") == 0, "a valid job record");
	mem = open_memstream(&out, &outlen);
	mls_jsonl_write(mem, rec);
	fclose(mem);
	ok(strcmp(out, "{\"kind\":\"job\",\"id\":\"j-1\",\"site\":\"local\",\"x\":{\"y\":1}}\n") == 0,
	    "unknown fields pass through in order: %s", out);
	free(out);
	json_decref(rec);
	rc = mls_jsonl_read(&r, &rec);
	ok(rc == 1 && r.lineno == 4, "blank lines skipped, line %lu", r.lineno);
	ok(mls_record_num(rec, "lr", 0) == 0.1, "number member");
	json_decref(rec);
	{
		/* found by fuzz_record: a real beyond long long is no integer */
		json_t *o = json_loads("{\"a\":2.51e307,\"b\":-1e19,\"c\":"
		    "9.3e18,\"d\":-9.2e18,\"e\":42.9}", 0, NULL);
		ok(o != NULL && mls_record_int(o, "a", -1) == -1 &&
		    mls_record_int(o, "b", -1) == -1 &&
		    mls_record_int(o, "c", -1) == -1 &&
		    mls_record_int(o, "d", -1) == -9200000000000000000LL &&
		    mls_record_int(o, "e", -1) == 42,
		    "reals: in range truncated, beyond long long the default");
		json_decref(o);
	}
	rc = mls_jsonl_read(&r, &rec);
	ok(rc == MLS_EINPUT && rec == NULL, "malformed line refused");
	ok(strncmp(mls_error_last(), "<stdin>:5:", 10) == 0, "message names line: %s",
	    mls_error_last());
	ok(mls_jsonl_read(&r, &rec) == 0, "then end of input");
	mls_jsonl_reader_release(&r);
	fclose(fp);

	ok(mls_jsonl_parse("[1]", 3, "f", 7, &rec) == MLS_EINPUT &&
	    strcmp(mls_error_last(), "f:7: not a JSON object") == 0, "array refused: %s",
	    mls_error_last());
	ok(mls_jsonl_parse("{\"a\":1,\"a\":2}", 13, "f", 1, &rec) == MLS_EINPUT,
	    "duplicate keys refused");

	rec = json_pack("{s:s,s:s}", "kind", "job", "id", "j-1");
	ok(mls_record_check(rec, "job") == MLS_EINPUT &&
	    strcmp(mls_error_last(), "job record: field 'site': missing") == 0,
	    "missing field named: %s", mls_error_last());
	json_object_set_new(rec, "site", json_string("local"));
	json_object_set_new(rec, "state", json_string("sleeping"));
	ok(mls_record_check(rec, "job") == MLS_EINPUT &&
	    strstr(mls_error_last(), "field 'state'") != NULL, "bad state named");
	ok(mls_record_check(rec, "sandbox") == MLS_EINPUT &&
	    strstr(mls_error_last(), "expected 'sandbox'") != NULL, "wrong kind");
	json_decref(rec);
	rec = json_pack("{s:s}", "kind", "nonsense");
	ok(mls_record_check(rec, NULL) == MLS_EINPUT, "unknown kind refused");
	json_decref(rec);

	ok(mls_id_new(id1, sizeof(id1), "j-") == 0 && strlen(id1) == 28, "id: %s", id1);
	ok(mls_id_new(id2, sizeof(id2), "j-") == 0 && strcmp(id1, id2) < 0,
	    "ids are sortable and distinct");
	ok(mls_id_new(id2, 10, "j-") < 0, "short buffer refused");

	mls_time_format(ts, 1764379049.5);
	ok(strcmp(ts, "2025-11-29T01:17:29.500Z") == 0, "time format: %s", ts);
	ok(fabs(mls_time_parse(ts) - 1764379049.5) < 1e-6, "time round-trips");
	ok(mls_time_parse("2025-11-29T02:17:29+01:00") == 1764379049.0, "offset parsed");
	ok(mls_time_parse("yesterday") < 0, "garbage time refused");
	ok(mls_duration_parse("90") == 90 && mls_duration_parse("15m") == 900 &&
	    mls_duration_parse("1h30m") == 5400 && mls_duration_parse("2d") == 172800,
	    "durations");
	ok(mls_duration_parse("5x") < 0 && mls_duration_parse("") < 0, "bad durations");
	ok(mls_size_parse("512") == 512 && mls_size_parse("4k") == 4096 &&
	    mls_size_parse("100M") == 104857600 && mls_size_parse("2GiB") == 2147483648LL,
	    "sizes");
	ok(mls_size_parse("12q") < 0, "bad size");
	{
		static const char *bad[] = { "nan", "inf", "1e300", "1e300G", "-1",
		    "-0", "0x10", " 5", "1e3", "2000T", "nanG", "infinity" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ok(mls_size_parse(bad[i]) == -1, "size: '%s' is -1", bad[i]);
		ok(mls_size_parse("1024T") == 1LL << 50 && mls_size_parse("0.5k") == 512,
		    "size: 1024T is the most, 0.5k");
	}
	ok(mls_state_parse("lost") == MLS_STATE_LOST && mls_state_final(MLS_STATE_LOST) &&
	    !mls_state_final(MLS_STATE_RUNNING), "states");
	return done_testing();
}
