/* SPDX-License-Identifier: Apache-2.0 */
#include "redact.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* SipHash-2-4 (Aumasson, Bernstein). */
uint64_t siphash24(const uint8_t key[16], const uint8_t *data, size_t len)
{
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(data + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t k = 0; k < tail; k++)
		b |= (uint64_t)data[i + k] << (8 * k);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int redactor_init(struct redactor *r)
{
	static const char *const defaults[] = {"authorization", "proxy-authorization", "cookie",
					       "set-cookie"};

	memset(r, 0, sizeof(*r));
	r->enabled = true;
	if (getrandom(r->key, sizeof(r->key), 0) != sizeof(r->key))
		return -errno;
	static const char *const fields[] = {"password",      "passwd",	       "token",
					     "access_token",  "refresh_token", "secret",
					     "client_secret", "api_key"};

	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		redactor_add(r, defaults[i]);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		redactor_add_field(r, fields[i]);
	return 0;
}

static int add_name(struct redact_names *names, const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= sizeof(names->name[0]))
		return -EINVAL;
	if (names->n == REDACT_MAX_NAMES)
		return -E2BIG;
	for (size_t i = 0; i <= len; i++)
		names->name[names->n][i] =
		    (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	names->len[names->n++] = (uint8_t)len;
	return 0;
}

static bool has_name(const struct redact_names *names, const char *name, size_t len)
{
	for (size_t i = 0; i < names->n; i++)
		if (names->len[i] == len && strncasecmp(names->name[i], name, len) == 0)
			return true;
	return false;
}

int redactor_add(struct redactor *r, const char *name)
{
	return add_name(&r->names, name);
}

int redactor_add_field(struct redactor *r, const char *name)
{
	return add_name(&r->fields, name);
}

bool redactor_applies(const struct redactor *r, const char *name, size_t len)
{
	return r->enabled && has_name(&r->names, name, len);
}

static void put_mark(const struct redactor *r, const uint8_t *value, size_t len, struct ct_buf *out)
{
	char marker[REDACT_MARKER_LEN];

	ct_buf_put(out, marker, redactor_mark(r, value, len, marker));
}

bool redactor_query(const struct redactor *r, const uint8_t *s, size_t len, bool form,
		    struct ct_buf *out)
{
	size_t at = 0, end = len;
	bool replaced = false;

	if (!form) {
		const uint8_t *q = memchr(s, '?', len), *hash = memchr(s, '#', len);

		end = hash ? (size_t)(hash - s) : len;
		at = q && (size_t)(q - s) < end ? (size_t)(q - s) + 1 : end;
	}
	ct_buf_put(out, s, at);
	while (at < end) {
		const uint8_t *amp = memchr(s + at, '&', end - at);
		size_t stop = amp ? (size_t)(amp - s) : end;
		const uint8_t *eq = memchr(s + at, '=', stop - at);

		if (r->enabled && eq &&
		    has_name(&r->fields, (const char *)s + at, (size_t)(eq - s) - at)) {
			ct_buf_put(out, s + at, (size_t)(eq - s) - at + 1);
			put_mark(r, eq + 1, stop - (size_t)(eq - s) - 1, out);
			replaced = true;
		} else {
			ct_buf_put(out, s + at, stop - at);
		}
		if (stop < end)
			ct_buf_putc(out, '&');
		at = stop + 1;
	}
	if (end < len)
		ct_buf_put(out, s + end, len - end);
	return replaced;
}

/* The end of the JSON string whose opening quote is at s[at]: past its closing quote, or len. */
static size_t json_string_end(const uint8_t *s, size_t len, size_t at)
{
	for (at++; at < len; at++) {
		if (s[at] == '\\')
			at++;
		else if (s[at] == '"')
			return at + 1;
	}
	return len;
}

static size_t skip_space(const uint8_t *s, size_t len, size_t at)
{
	while (at < len && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r'))
		at++;
	return at;
}

bool redactor_json(const struct redactor *r, const uint8_t *s, size_t len, struct ct_buf *out)
{
	size_t at = 0, copied = 0;
	bool replaced = false;

	while (at < len) {
		size_t key_end, value, value_end;

		if (s[at] != '"') {
			at++;
			continue;
		}
		key_end = json_string_end(s, len, at);
		value = skip_space(s, len, key_end);
		if (value >= len || s[value] != ':' || !r->enabled ||
		    !has_name(&r->fields, (const char *)s + at + 1, key_end - at - 2)) {
			at = key_end;
			continue;
		}
		value = skip_space(s, len, value + 1);
		if (value < len && (s[value] == '{' || s[value] == '[')) {
			at = value; /* an object or array: its own members are looked at */
			continue;
		}
		if (value < len && s[value] == '"')
			value_end = json_string_end(s, len, value);
		else
			for (value_end = value;
			     value_end < len && !strchr(",}] \t\r\n", s[value_end]); value_end++)
				;
		ct_buf_put(out, s + copied, value - copied);
		ct_buf_putc(out, '"');
		if (value < len && s[value] == '"') /* a string's content, like a query value's */
			put_mark(r, s + value + 1,
				 value_end - value - 1 -
				     (value_end > value + 1 && s[value_end - 1] == '"'),
				 out);
		else
			put_mark(r, s + value, value_end - value, out);
		ct_buf_putc(out, '"');
		copied = at = value_end;
		replaced = true;
	}
	ct_buf_put(out, s + copied, len - copied);
	return replaced;
}

size_t redactor_mark(const struct redactor *r, const uint8_t *value, size_t len, char *out)
{
	return (size_t)snprintf(out, REDACT_MARKER_LEN, "[redacted:%08x]",
				(unsigned)(siphash24(r->key, value, len) >> 32));
}
