/* SPDX-License-Identifier: Apache-2.0 */
/* The --config file: names, values, lists and their places; every malformed shape refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config_file.h"
#include "ct_test.h"

static char path[] = "/tmp/ct-config-XXXXXX";

static int parse(const char *text, struct config_file *f, char *error, size_t len)
{
	FILE *out = fopen(path, "w");

	fputs(text, out);
	fclose(out);
	return config_file_read(path, f, error, len);
}

static void test_values_lists_and_places(void)
{
	struct config_file f;
	char error[256] = "";

	CHECK(parse("# cleartap\nformat: json\ninclude-comm:\n  - curl\n  - \"wget\"\n"
		    "redact: [x-api-key, x-token]\nraw: true\nbody-limit: 64K\nempty: \"\"\n",
		    &f, error, sizeof(error)) == 0);
	CHECK_STR(error, "");
	CHECK_U64(f.n, 8);
	CHECK_STR(f.entries[0].name, "format");
	CHECK_STR(f.entries[0].value, "json");
	CHECK_U64(f.entries[0].line, 2);
	CHECK_U64(f.entries[0].column, 9);
	CHECK_STR(f.entries[1].name, "include-comm");
	CHECK_STR(f.entries[2].value, "wget");
	CHECK_U64(f.entries[2].line, 5);
	CHECK_STR(f.entries[4].value, "x-token");
	CHECK_STR(f.entries[5].value, "true");
	CHECK_STR(f.entries[7].name, "empty");
	CHECK_STR(f.entries[7].value, "");
	config_file_free(&f);
	CHECK(parse("", &f, error, sizeof(error)) == 0 && f.n == 0); /* nothing: no options */
	config_file_free(&f);
}

static void refused(const char *text, const char *expected)
{
	struct config_file f;
	char error[256] = "", want[256];

	snprintf(want, sizeof(want), "%s:%s", path, expected);
	CHECK(parse(text, &f, error, sizeof(error)) == -EINVAL);
	CHECK_STR(error, want);
	CHECK(f.n == 0 && !f.entries);
}

static void test_malformed(void)
{
	refused("format: json\nfilters:\n  a: 1\n",
		"3:3: 'filters' takes a value or a list of values, not a mapping");
	refused("- a\n- b\n", "1:1: the file is a mapping of option names to values");
	refused("just text\n", "1:1: the file is a mapping of option names to values");
	refused("a: [[1]]\n", "1:5: a list inside a list");
	refused("a: &x 1\nb: *x\n", "2:4: aliases are not supported");
	refused("a: 1\n---\nb: 2\n", "2:1: one document only");
	refused("a: [1\n", "2:1: did not find expected ',' or ']' while parsing a flow sequence");
}

static void test_not_a_file(void)
{
	struct config_file f;
	char error[256];

	CHECK(config_file_read("/nonexistent/x.yaml", &f, error, sizeof(error)) == -ENOENT);
	CHECK_STR(error, "/nonexistent/x.yaml: No such file or directory");
	CHECK(config_file_read("/tmp", &f, error, sizeof(error)) == -EINVAL);
	CHECK_STR(error, "/tmp: not a regular file");
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	RUN(test_values_lists_and_places);
	RUN(test_malformed);
	RUN(test_not_a_file);
	unlink(path);
	return TEST_EXIT();
}
