/* SPDX-License-Identifier: Apache-2.0 */
/* Capture rules: parsing (and its refusals) and the first rule that holds deciding. */
#include <errno.h>

#include "capture_rules.h"
#include "ct_test.h"

static void test_first_matching_rule_decides(void)
{
	struct capture_rules r = {.default_level = CAPTURE_SUMMARY};
	const char *why;
	struct capture_subject health = {.comm = "nginx", .path = "/healthz", .status = 200},
			       error = {.comm = "nginx", .path = "/api/x", .status = 503},
			       api = {.comm = "curl",
				      .exe = "/usr/bin/curl",
				      .container = "0123abcd",
				      .authority = "API.example.com",
				      .path = "/api/v1",
				      .status = 404},
			       none = {0};

	CHECK(capture_rules_add(&r, "none path=/healthz", &why) == 0);
	CHECK(capture_rules_add(&r, "full  status=5xx", &why) == 0);
	CHECK(capture_rules_add(&r,
				"headers comm=curl exe=/usr/bin/curl container=0123 "
				"authority=api.example.com path=/api status=404",
				&why) == 0);
	CHECK_U64(r.n, 3);
	CHECK_U64(capture_level_of(&r, &health), CAPTURE_NONE);
	CHECK_U64(capture_level_of(&r, &error), CAPTURE_FULL);
	CHECK_U64(capture_level_of(&r, &api), CAPTURE_HEADERS);
	api.status = 405; /* one condition fails: the rule does not hold */
	CHECK_U64(capture_level_of(&r, &api), CAPTURE_SUMMARY);
	api.status = 404;
	api.container = "9999";
	CHECK_U64(capture_level_of(&r, &api), CAPTURE_SUMMARY);
	CHECK_U64(capture_level_of(&r, &none), CAPTURE_SUMMARY); /* unknowns match no condition */
	CHECK_U64(capture_rules_max(&r), CAPTURE_FULL);
	r.n = 1;
	CHECK_U64(capture_rules_max(&r), CAPTURE_SUMMARY);
}

static void test_bad_rules_are_refused(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"", "a rule starts with its level: none, summary, headers or full"},
	    {"most path=/", "a rule starts with its level: none, summary, headers or full"},
	    {"full status=6xx", "status is a code (100 to 599) or a class (1xx to 5xx)"},
	    {"full status=99", "status is a code (100 to 599) or a class (1xx to 5xx)"},
	    {"full status=20x", "status is a code (100 to 599) or a class (1xx to 5xx)"},
	    {"full colour=red", "keys are comm, exe, container, authority, path and status"},
	    {"full path", "a condition is KEY=VALUE"},
	    {"full comm=", "a value is empty or too long"},
	    {"full comm=a-name-longer-than-15", "a value is empty or too long"},
	};
	struct capture_rules r = {0};
	enum capture_level level;
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(capture_rules_add(&r, bad[i].text, &why) == -EINVAL);
		CHECK_STR(why ? why : "(none)", bad[i].why);
	}
	CHECK_U64(r.n, 0);
	for (int i = 0; i < CAPTURE_RULES_MAX; i++)
		CHECK(capture_rules_add(&r, "none", &why) == 0);
	CHECK(capture_rules_add(&r, "none", &why) == -E2BIG);
	CHECK(capture_level_parse("headers", &level) == 0 && level == CAPTURE_HEADERS);
	CHECK(capture_level_parse("Headers", &level) == -EINVAL);
	CHECK_STR(capture_level_name(CAPTURE_SUMMARY), "summary");
}

int main(void)
{
	RUN(test_first_matching_rule_decides);
	RUN(test_bad_rules_are_refused);
	return TEST_EXIT();
}
