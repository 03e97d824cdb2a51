/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP exchange (request and response) as the protocol parsers assemble it, whatever the
 * protocol version. Owns copies of everything; header values are redacted as they are copied.
 * Its strings live in blocks it owns, freed with it: one allocation for a whole exchange's
 * headers instead of two per header.
 */
#ifndef CT_HTTP_TXN_H
#define CT_HTTP_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "memory_budget.h"
#include "redact.h"

struct http_field {
	char *name;
	uint8_t *value;
	size_t value_len;
};

struct http_fields {
	struct http_field *items;
	size_t n, cap;
};

/* Captured body: the first `limit` bytes, and the true size (lost bytes counted too). */
struct http_body {
	struct ct_buf kept; /* charged to the exchange's account */
	uint64_t size;
	bool lost; /* part of the body was never captured */
};

struct grpc_info {
	bool present;
	char *service, *method;
	bool has_status; /* a grpc-status was seen */
	int32_t status;
	char *message;
	uint32_t request_messages, response_messages;
	uint64_t request_message_bytes, response_message_bytes;
};

struct http_txn_block; /* string storage, private to http_txn.c */

struct http_txn {
	struct http_txn *next;
	struct http_txn_block *blocks;
	struct mem_account *account; /* its connection's: every allocation of t is charged there */
	/* who and where */
	uint32_t pid, tid;
	char comm[16];
	uint64_t session;
	uint64_t conn_cookie; /* the TCP connection, 0 when unknown */
	bool server_side;     /* the observed process answered the request */
	uint32_t stream_id;
	/* request */
	char protocol[12]; /* "HTTP/1.1", "HTTP/2" */
	char *method, *scheme, *authority, *path;
	struct http_fields request_headers;
	struct http_body request_body;
	bool request_complete;
	bool head_request, connect_request; /* HTTP/1 response framing */
	bool orphan;			    /* a response whose request is not (yet) known */
	/* response */
	int status;
	struct http_fields response_headers; /* trailers appended */
	struct http_body response_body;
	bool response_started, response_complete;
	/* timing, CLOCK_MONOTONIC ns */
	uint64_t request_start_ns, response_first_byte_ns, response_end_ns;
	/* trouble */
	char error[128];
	uint64_t gap_bytes;
	bool resynchronised;
	struct grpc_info grpc;
};

struct http_txn_config {
	size_t body_limit;
	const struct redactor *redactor;
};

/* account: what t's memory is charged to (NULL: the collector's budget only). */
struct http_txn *http_txn_new(struct mem_account *account);
void http_txn_free(struct http_txn *t);

/* Copy a header of t into fields (redacting its value if asked to). -ENOMEM. */
int http_txn_add_field(struct http_txn *t, struct http_fields *fields, const struct redactor *r,
		       const char *name, size_t name_len, const uint8_t *value, size_t value_len);

/* Value of the first header of that name (case-insensitive), or NULL. */
const struct http_field *http_fields_get(const struct http_fields *fields, const char *name);

/*
 * Append body bytes (data NULL: len bytes were lost) keeping at most limit. The buffer grows
 * with what arrives, never to more than limit. -ENOMEM.
 */
int http_body_add(struct http_body *b, const uint8_t *data, size_t len, size_t limit);

/* A NUL-terminated copy owned by t (freed with it), NULL when out of memory. */
char *http_txn_strndup(struct http_txn *t, const char *s, size_t len);

/* Set error once (the first reason wins). */
void http_txn_set_error(struct http_txn *t, const char *reason);

#endif
