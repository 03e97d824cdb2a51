/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 for one connection seen from one endpoint: a frame parser per direction, header blocks
 * decoded with libnghttp2's HPACK inflater (one per direction: each has its own table), streams
 * paired into transactions, gRPC recognised. A gap that is not inside DATA payload leaves the
 * header tables unknowable: the connection is then marked desynchronised and produces no more
 * headers rather than wrong ones.
 */
#ifndef CT_HTTP2_CONN_H
#define CT_HTTP2_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_txn.h"
#include "memory_budget.h"

#define H2_MAX_HEADER_BLOCK (256 * 1024) /* a larger header block desynchronises */

#define H2_DEFAULT_MAX_STREAMS 256

struct h2_conn_config {
	size_t body_limit;
	size_t max_streams; /* open streams kept per connection (default 256) */
	const struct redactor *redactor;
	struct mem_account *account; /* what the connection's state is charged to (NULL: none) */
};

struct h2_conn;

/* emit takes ownership of the transaction. */
int h2_conn_new(const struct h2_conn_config *config,
		void (*emit)(void *userdata, struct http_txn *txn), void *userdata,
		struct h2_conn **ret);
void h2_conn_free(struct h2_conn *h);

/* Bytes from the client (from_client) or from the server, at time_ns. -ENOMEM only. */
int h2_conn_feed(struct h2_conn *h, bool from_client, const uint8_t *data, size_t len,
		 uint64_t time_ns);

/* gap bytes of one direction were not captured. */
void h2_conn_gap(struct h2_conn *h, bool from_client, uint64_t gap);

/* The connection ended: emit every open stream. */
void h2_conn_finish(struct h2_conn *h);

/* Stop parsing (over a budget): every open stream is emitted now with why as its error. */
void h2_conn_abandon(struct h2_conn *h, const char *why);

bool h2_conn_desynchronised(const struct h2_conn *h);

/* More streams opened than config.max_streams: desynchronised for that reason. */
bool h2_conn_over_budget(const struct h2_conn *h);

#endif
