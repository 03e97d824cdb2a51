/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incremental HTTP/1.x parser for one direction of a connection (requests or responses). Bytes
 * arrive in any split; heads are collected in a bounded buffer and parsed in place, bodies are
 * passed through without copying. Limits on head size, start line and header count end in a
 * "malformed: <reason>" error. After a capture gap the parser resynchronises: inside a body of
 * known length the gap is just subtracted; elsewhere it looks for the next message start.
 */
#ifndef CT_HTTP1_PARSER_H
#define CT_HTTP1_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HTTP1_MAX_HEADERS 128

struct http1_limits {
	size_t max_head;       /* start line + headers (default 64 KiB) */
	size_t max_start_line; /* default 8 KiB */
	size_t max_headers;    /* default and at most HTTP1_MAX_HEADERS */
};

struct http1_header {
	const char *name, *value;
	size_t name_len, value_len;
};

/* A parsed head; every pointer is valid only during the callback. */
struct http1_head {
	bool request;
	const char *method, *target, *reason;
	size_t method_len, target_len, reason_len;
	int minor_version;
	int status;
	struct http1_header headers[HTTP1_MAX_HEADERS];
	size_t n_headers;
	int64_t content_length; /* -1 when absent */
	bool chunked;
};

/* What follows a head, decided by whoever knows the request (HEAD, CONNECT) for a response. */
enum http1_body {
	HTTP1_BODY_NONE,	/* no body: HEAD response, 1xx, 204, 304, GET without length */
	HTTP1_BODY_LENGTH,	/* content_length bytes */
	HTTP1_BODY_CHUNKED,	/* chunked transfer coding */
	HTTP1_BODY_UNTIL_CLOSE, /* response without length: ends with the connection */
	HTTP1_BODY_TUNNEL,	/* 101 / CONNECT 2xx: the rest is not HTTP */
};

struct http1_callbacks {
	/* A complete head. Returns how the body is framed (see http1_default_body()). */
	enum http1_body (*head)(void *userdata, const struct http1_head *head);
	void (*body)(void *userdata, const uint8_t *data, size_t len);
	/* The message is complete (trailers, if any, are in *trailers). */
	void (*end)(void *userdata, const struct http1_header *trailers, size_t n_trailers);
	/* Bytes that could not be parsed: the parser now skips to the next message start. */
	void (*error)(void *userdata, const char *reason);
};

enum http1_state {
	HTTP1_S_HEAD,
	HTTP1_S_BODY_LENGTH,
	HTTP1_S_CHUNK_SIZE,
	HTTP1_S_CHUNK_DATA,
	HTTP1_S_CHUNK_DATA_END,
	HTTP1_S_TRAILERS,
	HTTP1_S_UNTIL_CLOSE,
	HTTP1_S_TUNNEL,
	HTTP1_S_SEEK, /* lost: looking for the next message start */
};

struct http1_parser {
	bool requests; /* parses requests (true) or responses */
	struct http1_limits limits;
	struct http1_callbacks cb;
	void *userdata;
	enum http1_state state;
	struct ct_buf buf;    /* head, chunk-size line or trailers being collected */
	uint64_t remaining;   /* body or chunk bytes still expected */
	bool in_message;      /* a head was delivered and its end not yet */
	uint64_t skipped;     /* bytes skipped while seeking */
	bool at_line_start;   /* while seeking: the last byte seen ended a line */
	uint8_t seek_buf[16]; /* a possible message start cut by the end of a feed */
	size_t seek_len;
};

/* The framing RFC 9112 section 6 gives a head on its own (a response to HEAD/CONNECT aside). */
enum http1_body http1_default_body(const struct http1_head *head);

int http1_parser_init(struct http1_parser *p, bool requests, const struct http1_limits *limits,
		      const struct http1_callbacks *cb, void *userdata);
void http1_parser_free(struct http1_parser *p);

/* Parse len more bytes. Returns 0, or -ENOMEM. Malformed input goes to cb.error, not here. */
int http1_feed(struct http1_parser *p, const uint8_t *data, size_t len);

/* gap bytes of the stream were never captured. Returns true if the parser stayed in sync. */
bool http1_gap(struct http1_parser *p, uint64_t gap);

/* The stream ended: a body framed by the connection's close ends here. */
void http1_finish(struct http1_parser *p);

#endif
