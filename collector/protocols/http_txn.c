/* SPDX-License-Identifier: Apache-2.0 */
#include "http_txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "memory_budget.h"

#define FIRST_BLOCK 512 /* a typical request's strings fit; later blocks double */

struct http_txn_block {
	struct http_txn_block *next;
	size_t used, cap;
	char data[];
};

struct http_txn *http_txn_new(struct mem_account *account)
{
	struct http_txn *t = ct_mem_zalloc(account, sizeof(struct http_txn));

	if (t)
		t->account = t->request_body.kept.account = t->response_body.kept.account = account;
	return t;
}

void http_txn_free(struct http_txn *t)
{
	if (!t)
		return;
	while (t->blocks) {
		struct http_txn_block *next = t->blocks->next;

		ct_mem_free(t->account, t->blocks);
		t->blocks = next;
	}
	ct_mem_free(t->account, t->request_headers.items);
	ct_mem_free(t->account, t->response_headers.items);
	ct_buf_free(&t->request_body.kept);
	ct_buf_free(&t->response_body.kept);
	ct_mem_free(t->account, t);
}

char *http_txn_strndup(struct http_txn *t, const char *s, size_t len)
{
	struct http_txn_block *b = t->blocks;
	char *d;

	if (len >= SIZE_MAX / 2)
		return NULL;
	if (!b || b->cap - b->used < len + 1) {
		size_t cap = b ? b->cap * 2 : FIRST_BLOCK;

		if (cap < len + 1)
			cap = len + 1;

		b = ct_mem_alloc(t->account, sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = t->blocks;
		t->blocks = b;
	}
	d = b->data + b->used;
	memcpy(d, s, len);
	d[len] = '\0';
	b->used += len + 1;
	return d;
}

int http_txn_add_field(struct http_txn *t, struct http_fields *f, const struct redactor *r,
		       const char *name, size_t name_len, const uint8_t *value, size_t value_len)
{
	char marker[REDACT_MARKER_LEN];
	struct http_field *field;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct http_field *items =
		    ct_mem_realloc(t->account, f->items, cap * sizeof(*items));

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
	field->name = http_txn_strndup(t, name, name_len);
	field->value = (uint8_t *)http_txn_strndup(t, (const char *)value, value_len);
	field->value_len = value_len;
	if (!field->name || !field->value)
		return -ENOMEM; /* what was copied stays with t */
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
	if (b->lost || b->kept.len >= limit)
		return 0; /* only a contiguous prefix is kept */
	keep = len < limit - b->kept.len ? len : limit - b->kept.len;
	if (!ct_buf_reserve_upto(&b->kept, keep, limit))
		return -ENOMEM;
	ct_buf_put(&b->kept, data, keep);
	return 0;
}

void http_txn_set_error(struct http_txn *t, const char *reason)
{
	if (!t->error[0])
		snprintf(t->error, sizeof(t->error), "%s", reason);
}
