/* SPDX-License-Identifier: Apache-2.0 */
/* Redaction of query parameters, form fields and JSON members (headers: test_http_session). */
#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "ct_test.h"
#include "redact.h"

static struct redactor r;

/* s redacted by fn, as a NUL-terminated string (static: one at a time). */
static const char *redacted(const char *s, int how)
{
	static struct ct_buf out;
	bool replaced;

	ct_buf_reset(&out);
	if (how == 2)
		replaced = redactor_json(&r, (const uint8_t *)s, strlen(s), &out);
	else
		replaced = redactor_query(&r, (const uint8_t *)s, strlen(s), how == 1, &out);
	ct_buf_putc(&out, '\0');
	if (!replaced) /* then the copy is the input itself */
		CHECK_STR((const char *)out.data, s);
	return (const char *)out.data;
}

/* The marker of value, as the redactor writes it. */
static const char *mark(const char *value)
{
	static char m[4][REDACT_MARKER_LEN];
	static int next;
	char *out = m[next++ % 4];

	redactor_mark(&r, (const uint8_t *)value, strlen(value), out);
	return out;
}

static void test_query_parameters(void)
{
	char want[256];

	snprintf(want, sizeof(want), "/login?user=ann&password=%s&next=/home#frag",
		 mark("hunter2"));
	CHECK_STR(redacted("/login?user=ann&password=hunter2&next=/home#frag", 0), want);
	snprintf(want, sizeof(want), "/a?TOKEN=%s&token=%s", mark("x"), mark(""));
	CHECK_STR(redacted("/a?TOKEN=x&token=", 0), want); /* names match in any case */
	CHECK_STR(redacted("/a?tokens=x&password", 0), "/a?tokens=x&password"); /* no value */
	CHECK_STR(redacted("/plain/path", 0), "/plain/path");
	CHECK_STR(redacted("/x#?token=y", 0), "/x#?token=y"); /* a fragment, not a query */
	snprintf(want, sizeof(want), "user=ann&secret=%s", mark("s%20t"));
	CHECK_STR(redacted("user=ann&secret=s%20t", 1), want); /* a form body: no '?' */
}

static void test_json_members(void)
{
	char want[512];

	snprintf(want, sizeof(want), "{\"user\": \"ann\", \"password\" : \"%s\", \"n\": 1}",
		 mark("hun\\\"ter2"));
	CHECK_STR(redacted("{\"user\": \"ann\", \"password\" : \"hun\\\"ter2\", \"n\": 1}", 2),
		  want);
	/* nested, numbers and literals too; an object value is looked into, not replaced */
	snprintf(want, sizeof(want),
		 "{\"a\":{\"api_key\":\"%s\"},\"token\":\"%s\",\"secret\":{\"x\":1}}",
		 mark("12345"), mark("null"));
	CHECK_STR(redacted("{\"a\":{\"api_key\":12345},\"token\":null,\"secret\":{\"x\":1}}", 2),
		  want);
	/* a value cut by the body limit is still replaced, to the end */
	snprintf(want, sizeof(want), "{\"password\":\"%s\"", mark("hunt"));
	CHECK_STR(redacted("{\"password\":\"hunt", 2), want);
	/* a string that merely contains a name, and a name as a value, are left alone */
	CHECK_STR(redacted("{\"note\":\"password\",\"k\":[\"token\",1]}", 2),
		  "{\"note\":\"password\",\"k\":[\"token\",1]}");
	CHECK_STR(redacted("not json at all \"", 2), "not json at all \"");
}

static void test_disabled_and_added_fields(void)
{
	char want[128];

	CHECK(redactor_add_field(&r, "SSN") == 0);
	snprintf(want, sizeof(want), "/p?ssn=%s", mark("078-05-1120"));
	CHECK_STR(redacted("/p?ssn=078-05-1120", 0), want);
	CHECK(redactor_add_field(&r, "") == -EINVAL);
	r.enabled = false;
	CHECK_STR(redacted("/p?password=x", 0), "/p?password=x");
	r.enabled = true;
}

/* Header names match whole and in any case: a name that only starts or ends like one does not. */
static void test_header_names_match_whole(void)
{
	static const struct {
		const char *name;
		size_t len;
		bool redacted;
	} cases[] = {
	    {"Cookie", 6, true},	 {"COOKIE", 6, true},	      {"cookie", 5, false},
	    {"cookies", 7, false},	 {"Set-Cookie", 10, true},    {"set-cookie2", 11, false},
	    {"authorization", 13, true}, {"Authorizatio", 12, false}, {"cookie\0x", 8, false},
	    {"x-api-key", 9, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(redactor_applies(&r, cases[i].name, cases[i].len) == cases[i].redacted);
	/* a name of 64 bytes or more is never one: the table holds shorter ones */
	char long_name[80];

	memset(long_name, 'a', sizeof(long_name));
	CHECK(!redactor_applies(&r, long_name, sizeof(long_name)));
}

int main(void)
{
	if (redactor_init(&r) < 0)
		return 1;
	RUN(test_query_parameters);
	RUN(test_json_members);
	RUN(test_disabled_and_added_fields);
	RUN(test_header_names_match_whole);
	return TEST_EXIT();
}
