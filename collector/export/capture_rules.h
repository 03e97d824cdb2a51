/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How much of an HTTP exchange leaves the collector, chosen per exchange by the operator's
 * rules: none (not exported, counted), summary (method, authority, path, status, sizes,
 * timing, errors, gRPC status), headers (and the header fields), full (and the bodies, up to
 * --body-limit). A rule is a level and conditions that must all hold, e.g.
 * "full status=5xx" or "none path=/healthz" or "headers comm=nginx authority=api.example.com";
 * the first rule that matches decides, else the default level. Decided when the exchange is
 * complete, so a rule may depend on its status.
 */
#ifndef CT_CAPTURE_RULES_H
#define CT_CAPTURE_RULES_H

#include <stdbool.h>
#include <stddef.h>

enum capture_level {
	CAPTURE_NONE,
	CAPTURE_SUMMARY,
	CAPTURE_HEADERS,
	CAPTURE_FULL,
};

#define CAPTURE_RULES_MAX 32
/* What the kernel need copy per call when no level exports bodies: the heads, which HTTP/1
 * writes first in a call, fit (the rest of a call is then counted as truncated). */
#define CAPTURE_HEADS_CALL_BYTES 16384

struct capture_rule {
	enum capture_level level;
	char comm[16];	     /* the process's command name, exactly */
	char exe[256];	     /* its executable, exactly */
	char container[80];  /* its container id ("host" for none), or a prefix of it */
	char authority[256]; /* Host / :authority, exactly (case-insensitive) */
	char path[256];	     /* a prefix of the request path */
	int status_class;    /* 1..5 for "2xx" etc., 0: any */
	int status;	     /* an exact status, 0: any */
};

struct capture_rules {
	enum capture_level default_level;
	struct capture_rule rules[CAPTURE_RULES_MAX];
	size_t n;
};

/* What a rule is matched against; NULL or "" when unknown (a condition on it then fails). */
struct capture_subject {
	const char *comm, *exe, *container, *authority, *path;
	int status; /* 0: no response */
};

/* "none", "summary", "headers", "full". 0 or -EINVAL. */
int capture_level_parse(const char *text, enum capture_level *ret);
const char *capture_level_name(enum capture_level level);

/*
 * Parse "LEVEL [KEY=VALUE ...]" (keys comm, exe, container, authority, path, status: a number
 * or 1xx..5xx) and append it. 0, -EINVAL (with *ret_why), -E2BIG when full.
 */
int capture_rules_add(struct capture_rules *r, const char *text, const char **ret_why);

enum capture_level capture_level_of(const struct capture_rules *r, const struct capture_subject *s);

/* The most any exchange can get: what the kernel must copy for (full needs bodies). */
enum capture_level capture_rules_max(const struct capture_rules *r);

#endif
