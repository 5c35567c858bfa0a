#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_error.h"
#include "mls_job.h"
#include "mls_record.h"

void
mls_jsonl_reader_init(struct mls_jsonl_reader *r, FILE *fp, const char *name)
{
	r->fp = fp;
	r->name = name;
	r->lineno = 0;
	r->line = NULL;
	r->linecap = 0;
}

void
mls_jsonl_reader_release(struct mls_jsonl_reader *r)
{
	free(r->line);
	mls_jsonl_reader_init(r, NULL, NULL);
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

int
mls_jsonl_parse(const char *line, size_t len, const char *name,
    unsigned long lineno, json_t **out)
{
	json_error_t jerr;
	json_t *v;

	*out = NULL;
	if (len > MLS_JSONL_MAX_LINE)
		return mls_error_set(MLS_EINPUT, "%s:%lu: line longer than %u bytes",
		    name, lineno, MLS_JSONL_MAX_LINE);
	v = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (v == NULL)
		return mls_error_set(MLS_EINPUT, "%s:%lu:%d: %s", name, lineno,
		    jerr.column, jerr.text);
	if (!json_is_object(v)) {
		json_decref(v);
		return mls_error_set(MLS_EINPUT, "%s:%lu: not a JSON object",
		    name, lineno);
	}
	*out = v;
	return 1;
}

int
mls_jsonl_read(struct mls_jsonl_reader *r, json_t **out)
{
	ssize_t n;

	*out = NULL;
	for (;;) {
		errno = 0;
		n = getline(&r->line, &r->linecap, r->fp);
		if (n < 0) {
			if (ferror(r->fp))
				return mls_error_set_errno(MLS_EIO, "read '%s'", r->name);
			return 0;
		}
		r->lineno++;
		if (blank(r->line, (size_t)n))
			continue;
		return mls_jsonl_parse(r->line, (size_t)n, r->name, r->lineno, out);
	}
}

int
mls_jsonl_write(FILE *fp, const json_t *rec)
{
	if (json_dumpf(rec, fp, MLS_JSON_COMPACT) == -1 || fputc('\n', fp) == EOF)
		return mls_error_set_errno(MLS_EIO, "write record");
	return 0;
}

int
mls_jsonl_load_file(const char *path, json_t **out)
{
	struct mls_jsonl_reader r;
	json_t *arr = NULL, *rec = NULL;
	FILE *fp;
	int rc;

	*out = NULL;
	if ((fp = fopen(path, "r")) == NULL)
		return mls_error_set_errno(errno == ENOENT ? MLS_ENOTFOUND : MLS_EIO,
		    "open '%s'", path);
	if ((arr = json_array()) == NULL) {
		fclose(fp);
		return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	mls_jsonl_reader_init(&r, fp, path);
	while ((rc = mls_jsonl_read(&r, &rec)) > 0)
		json_array_append_new(arr, rec);
	if (rc < 0 && rc == MLS_EINPUT && feof(fp) &&
	    r.line != NULL && strchr(r.line, '\n') == NULL)
		rc = 0;		/* a torn last line: the writer died mid-line */
	mls_jsonl_reader_release(&r);
	fclose(fp);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

const char *
mls_record_str(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

const char *
mls_record_kind(const json_t *rec)
{
	return mls_record_str(rec, "kind");
}

const char *
mls_record_id(const json_t *rec)
{
	return mls_record_str(rec, "id");
}

long long
mls_record_int(const json_t *rec, const char *key, long long def)
{
	json_t *v = json_object_get(rec, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	/* a real beyond long long (1e300, nan) is no integer: converting it is UB */
	if (json_is_real(v) && json_real_value(v) >= -9223372036854775808.0 &&
	    json_real_value(v) < 9223372036854775808.0)
		return (long long)json_real_value(v);
	return def;
}

double
mls_record_num(const json_t *rec, const char *key, double def)
{
	json_t *v = json_object_get(rec, key);

	return json_is_number(v) ? json_number_value(v) : def;
}

int
mls_record_set_str(json_t *rec, const char *key, const char *s)
{
	json_t *v = s != NULL ? json_string(s) : json_null();

	if (v == NULL || json_object_set_new(rec, key, v) < 0)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

int
mls_record_set_int(json_t *rec, const char *key, long long val)
{
	if (json_object_set_new(rec, key, json_integer(val)) < 0)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

static const char *state_names[] = {
	[MLS_STATE_UNKNOWN] = "unknown",
	[MLS_STATE_QUEUED] = "queued",
	[MLS_STATE_RUNNING] = "running",
	[MLS_STATE_SUCCEEDED] = "succeeded",
	[MLS_STATE_FAILED] = "failed",
	[MLS_STATE_CANCELLED] = "cancelled",
	[MLS_STATE_LOST] = "lost",
};

const char *
mls_state_name(enum mls_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[s];
}

enum mls_state
mls_state_parse(const char *s)
{
	if (s == NULL)
		return MLS_STATE_UNKNOWN;
	for (size_t i = 1; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(s, state_names[i]) == 0)
			return (enum mls_state)i;
	return MLS_STATE_UNKNOWN;
}

int
mls_state_final(enum mls_state s)
{
	return s == MLS_STATE_SUCCEEDED || s == MLS_STATE_FAILED ||
	    s == MLS_STATE_CANCELLED || s == MLS_STATE_LOST;
}

struct field {
	const char	*name;
	json_type	 type;		/* JSON_NULL: any type */
};

struct schema {
	const char		*kind;
	const struct field	*fields;	/* required, NULL-terminated */
};

static const struct field sandbox_fields[] = {
	{ "id", JSON_STRING }, { "url", JSON_STRING }, { NULL, 0 } };
static const struct field job_fields[] = {
	{ "id", JSON_STRING }, { "site", JSON_STRING }, { NULL, 0 } };
static const struct field any_id[] = { { "id", JSON_STRING }, { NULL, 0 } };
static const struct field none[] = { { NULL, 0 } };

static const struct schema schemas[] = {
	{ "sandbox", sandbox_fields },
	{ "job", job_fields },
	{ "trial", job_fields },
	{ "member", job_fields },
	{ "campaign", any_id },
	{ "ensemble", any_id },
	{ "artifact", any_id },
	{ "params", none },
};

static const char *
type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	default: return "a value";
	}
}

int
mls_record_check(const json_t *rec, const char *kind)
{
	const struct schema *sc = NULL;
	const char *k;
	json_t *v;

	if (!json_is_object(rec))
		return mls_error_set(MLS_EINPUT, "not a JSON object");
	v = json_object_get(rec, "kind");
	if (v == NULL)
		return mls_error_set(MLS_EINPUT, "field 'kind': missing");
	if ((k = json_string_value(v)) == NULL)
		return mls_error_set(MLS_EINPUT, "field 'kind': expected a string");
	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
		if (strcmp(schemas[i].kind, k) == 0)
			sc = &schemas[i];
	if (sc == NULL)
		return mls_error_set(MLS_EINPUT, "field 'kind': unknown kind '%s'", k);
	if (kind != NULL && strcmp(kind, k) != 0)
		return mls_error_set(MLS_EINPUT, "field 'kind': expected '%s', got '%s'",
		    kind, k);
	for (const struct field *f = sc->fields; f->name != NULL; f++) {
		v = json_object_get(rec, f->name);
		if (v == NULL)
			return mls_error_set(MLS_EINPUT, "%s record: field '%s': missing",
			    k, f->name);
		if (f->type != JSON_NULL && json_typeof(v) != f->type)
			return mls_error_set(MLS_EINPUT,
			    "%s record: field '%s': expected %s", k, f->name,
			    type_name(f->type));
	}
	if ((strcmp(k, "job") == 0 || strcmp(k, "trial") == 0 ||
	    strcmp(k, "member") == 0) && mls_job_check_id(json_string_value(
	    json_object_get(rec, "id"))) < 0) {
		const char *id = json_string_value(json_object_get(rec, "id"));
		return mls_error_set(MLS_EINPUT, "%s record: field 'id': expected "
		    "a job id (1 to 127 characters, no '/', space or control "
		    "character, not starting with '.'), got '%.40s%s' (%zu "
		    "characters)", k, id, strlen(id) > 40 ? "..." : "", strlen(id));
	}
	if ((v = json_object_get(rec, "state")) != NULL && !json_is_null(v) &&
	    mls_state_parse(json_string_value(v)) == MLS_STATE_UNKNOWN &&
	    (strcmp(k, "job") == 0 || strcmp(k, "trial") == 0 ||
	    strcmp(k, "member") == 0))
		return mls_error_set(MLS_EINPUT, "%s record: field 'state': expected "
		    "one of queued, running, succeeded, failed, cancelled, lost", k);
	return 0;
}

long long
mls_size_parse(const char *s)
{
	long long mult = 1;
	size_t span;
	double v;
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	/* digits and a point: no sign, spaces, nan, inf, exponent or hex */
	span = strspn(s, "0123456789.");
	errno = 0;
	v = strtod(s, &end);
	if (span == 0 || end != s + span || errno != 0 || !isfinite(v))
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': mult = 1LL << 10; end++; break;
	case 'M': mult = 1LL << 20; end++; break;
	case 'G': mult = 1LL << 30; end++; break;
	case 'T': mult = 1LL << 40; end++; break;
	default: return -1;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || !(v * (double)mult <= (double)MLS_SIZE_MAX))
		return -1;
	return (long long)(v * (double)mult);
}
