/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal test harness: CHECK records a failure and goes on; RUN prints one line per test. */
#ifndef CT_TEST_H
#define CT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int ct_test_failures;
static int ct_tests_run;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			ct_test_failures++;                                                        \
		}                                                                                  \
	} while (0)

#define CHECK_U64(actual, expected)                                                                \
	do {                                                                                       \
		uint64_t a_ = (uint64_t)(actual), e_ = (uint64_t)(expected);                       \
		if (a_ != e_) {                                                                    \
			fprintf(stderr, "%s:%d: %s == %" PRIu64 ", expected %" PRIu64 "\n",        \
				__FILE__, __LINE__, #actual, a_, e_);                              \
			ct_test_failures++;                                                        \
		}                                                                                  \
	} while (0)

#define CHECK_STR(actual, expected)                                                                \
	do {                                                                                       \
		const char *a_ = (actual), *e_ = (expected);                                       \
		if (strcmp(a_, e_) != 0) {                                                         \
			fprintf(stderr, "%s:%d: %s ==\n  %s\nexpected\n  %s\n", __FILE__,          \
				__LINE__, #actual, a_, e_);                                        \
			ct_test_failures++;                                                        \
		}                                                                                  \
	} while (0)

#define RUN(test)                                                                                  \
	do {                                                                                       \
		int before_ = ct_test_failures;                                                    \
		test();                                                                            \
		ct_tests_run++;                                                                    \
		printf("%s %s\n", before_ == ct_test_failures ? "ok  " : "FAIL", #test);           \
	} while (0)

#define TEST_EXIT()                                                                                \
	(printf("%d tests, %d failed checks\n", ct_tests_run, ct_test_failures),                   \
	 ct_test_failures ? 1 : 0)

#endif
