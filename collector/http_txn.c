/* SPDX-License-Identifier: Apache-2.0 */
#include "http_txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct http_txn *http_txn_new(void)
{
	return calloc(1, sizeof(struct http_txn));
}

static void fields_free(struct http_fields *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->items[i].name);
		free(f->items[i].value);
	}
	free(f->items);
}

void http_txn_free(struct http_txn *t)
{
	if (!t)
		return;
	free(t->method);
	free(t->scheme);
	free(t->authority);
	free(t->path);
	fields_free(&t->request_headers);
	fields_free(&t->response_headers);
	free(t->request_body.data);
	free(t->response_body.data);
	free(t->grpc.service);
	free(t->grpc.method);
	free(t->grpc.message);
	free(t);
}

char *http_strndup(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

int http_txn_add_field(struct http_fields *f, const struct redactor *r, const char *name,
		       size_t name_len, const uint8_t *value, size_t value_len)
{
	char marker[REDACT_MARKER_LEN];
	struct http_field *field;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct http_field *items = realloc(f->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		f->items = items;
		f->cap = cap;
	}
	field = &f->items[f->n];
	if (r && redactor_applies(r, name, name_len)) {
		value_len = redactor_mark(r, value, value_len, marker);
		value = (const uint8_t *)marker;
	}
	field->name = http_strndup(name, name_len);
	field->value = (uint8_t *)http_strndup((const char *)value, value_len);
	field->value_len = value_len;
	if (!field->name || !field->value) {
		free(field->name);
		free(field->value);
		return -ENOMEM;
	}
	f->n++;
	return 0;
}

const struct http_field *http_fields_get(const struct http_fields *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcasecmp(f->items[i].name, name) == 0)
			return &f->items[i];
	return NULL;
}

int http_body_add(struct http_body *b, const uint8_t *data, size_t len, size_t limit)
{
	size_t keep;

	b->size += len;
	if (!data) {
		b->lost = true;
		return 0;
	}
	if (b->lost || b->len >= limit)
		return 0; /* only a contiguous prefix is kept */
	keep = len < limit - b->len ? len : limit - b->len;
	if (!b->data) {
		b->data = malloc(limit ? limit : 1);
		if (!b->data)
			return -ENOMEM;
	}
	memcpy(b->data + b->len, data, keep);
	b->len += keep;
	return 0;
}

void http_txn_set_error(struct http_txn *t, const char *reason)
{
	if (!t->error[0])
		snprintf(t->error, sizeof(t->error), "%s", reason);
}
