/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From reassembled stream segments to HTTP transactions. Per TLS session (pid, SSL*): detect the
 * protocol and which side the observed process is from the first bytes, then run the HTTP/1 or
 * HTTP/2 parser on each direction and pair requests with responses. Transactions go to a
 * callback, which must not keep the pointer.
 */
#ifndef CT_HTTP_SESSION_H
#define CT_HTTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "http_txn.h"
#include "reassembly.h"

struct http_sessions;

enum http_protocol {
	HTTP_PROTOCOL_HTTP1,
	HTTP_PROTOCOL_HTTP2,
	HTTP_PROTOCOL_GRPC, /* also counted as HTTP/2 */
	HTTP_PROTOCOL__MAX,
};

struct http_session_counters {
	uint64_t transactions, malformed, desynchronised, opaque_sessions;
	uint64_t by_protocol[HTTP_PROTOCOL__MAX];
	uint64_t over_budget; /* connections no longer parsed: over any of their budgets */
	uint64_t over_memory; /* of those, for memory: their own limit or the collector's */
};

#define HTTP_DEFAULT_MAX_WAITING       256
#define HTTP_DEFAULT_CONNECTION_MEMORY (16u << 20)

struct http_session_config {
	size_t body_limit;  /* bytes of each body kept (default 64 KiB) */
	size_t max_waiting; /* HTTP/1 requests waiting for responses per connection (default 256) */
	size_t connection_memory;	 /* bytes of HTTP state per connection (default 16 MiB) */
	const struct redactor *redactor; /* NULL: no redaction */
};

int http_sessions_new(const struct http_session_config *config,
		      void (*on_transaction)(void *userdata, const struct http_txn *txn),
		      void *userdata, struct http_sessions **ret);
void http_sessions_free(struct http_sessions *s);

/* One reassembled segment (its gap_before included). -ENOMEM only. */
int http_sessions_segment(struct http_sessions *s, const struct reasm_segment *segment);

/* The TLS session ended: finish both directions and emit what is pending. */
void http_sessions_end(struct http_sessions *s, uint32_t tgid, uint64_t session, uint64_t time_ns);

/* Emit everything pending (at exit). */
void http_sessions_flush(struct http_sessions *s);

const struct http_session_counters *http_sessions_counters(const struct http_sessions *s);

#endif
