/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Header, query parameter, form and JSON field redaction. Sensitive values are replaced by
 * "[redacted:<8 hex>]", a keyed hash (SipHash-2-4, key random per collector run) so equal values
 * stay comparable within one capture while short secrets cannot be recovered by hashing guesses
 * offline.
 */
#ifndef CT_REDACT_H
#define CT_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define REDACT_MAX_NAMES  32
#define REDACT_MARKER_LEN 21 /* "[redacted:0123abcd]" + NUL, rounded */

/* Names in lower case, with their lengths: every header of every exchange is looked up. */
struct redact_names {
	char name[REDACT_MAX_NAMES][64];
	uint8_t len[REDACT_MAX_NAMES];
	size_t n;
};

struct redactor {
	bool enabled;
	uint8_t key[16];
	struct redact_names names;  /* header names */
	struct redact_names fields; /* query, form and JSON field names */
};

/*
 * Headers Authorization, Proxy-Authorization, Cookie, Set-Cookie; fields password, passwd,
 * token, access_token, refresh_token, secret, client_secret, api_key; key from getrandom().
 */
int redactor_init(struct redactor *r);

/* Also redact this header name. -E2BIG when full, -EINVAL when too long or empty. */
int redactor_add(struct redactor *r, const char *name);

/* Also redact this query parameter, form field and JSON member name (as redactor_add). */
int redactor_add_field(struct redactor *r, const char *name);

bool redactor_applies(const struct redactor *r, const char *name, size_t len);

/*
 * s with the values of redacted fields replaced by markers, into out (appended): a path's
 * query string (after '?', before '#'), or (form) a whole application/x-www-form-urlencoded
 * body. Returns whether anything was replaced.
 */
bool redactor_query(const struct redactor *r, const uint8_t *s, size_t len, bool form,
		    struct ct_buf *out);

/*
 * A JSON text (possibly cut at the body limit) with the value of every member named like a
 * redacted field replaced by a marker string, into out. A value cut by the limit is replaced
 * too. Returns whether anything was replaced.
 */
bool redactor_json(const struct redactor *r, const uint8_t *s, size_t len, struct ct_buf *out);

/* Write the marker for value into out (REDACT_MARKER_LEN bytes); returns its length. */
size_t redactor_mark(const struct redactor *r, const uint8_t *value, size_t len, char *out);

uint64_t siphash24(const uint8_t key[16], const uint8_t *data, size_t len);

#endif
