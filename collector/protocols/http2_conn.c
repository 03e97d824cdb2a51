/* SPDX-License-Identifier: Apache-2.0 */
#include "http2_conn.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "id_table.h"
#include "memory_budget.h"

#define PREFACE	    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN 24

enum {
	FRAME_DATA = 0,
	FRAME_HEADERS = 1,
	FRAME_PRIORITY = 2,
	FRAME_RST_STREAM = 3,
	FRAME_SETTINGS = 4,
	FRAME_PUSH_PROMISE = 5,
	FRAME_PING = 6,
	FRAME_GOAWAY = 7,
	FRAME_WINDOW_UPDATE = 8,
	FRAME_CONTINUATION = 9,
};

enum {
	FLAG_END_STREAM = 0x1,
	FLAG_END_HEADERS = 0x4,
	FLAG_PADDED = 0x8,
	FLAG_PRIORITY = 0x20,
};

/* gRPC length-prefixed messages in one direction of a stream. */
struct grpc_framing {
	uint8_t prefix_got;
	uint8_t prefix[5];
	uint64_t remaining;
};

struct h2_stream {
	struct id_node node;	       /* by stream id, in h2_conn.streams */
	struct h2_stream *prev, *next; /* h2_conn.first: newest first, for the walks */
	uint32_t id;
	struct http_txn *txn;
	bool request_done, response_done, final_response;
	bool reset_after_response;   /* NO_ERROR reset: waits for the client's side to settle */
	struct grpc_framing grpc[2]; /* [0] request, [1] response */
};

struct h2_dir {
	bool from_client;
	size_t preface_got; /* client direction: preface bytes seen */
	uint8_t head[9];    /* frame header being collected */
	size_t head_got;
	uint32_t length, stream;
	uint8_t type, flags;
	uint32_t got; /* payload bytes of the current frame consumed */
	uint8_t pad;  /* DATA: padding length, once read */
	bool pad_known;
	uint8_t *payload; /* non-DATA frames are collected whole (bounded) */
	size_t payload_cap;
	/* header block across HEADERS/PUSH_PROMISE + CONTINUATION */
	struct ct_buf block;
	uint32_t block_stream, promised_stream;
	bool block_open, block_end_stream, block_is_push;
	nghttp2_hd_inflater *inflater;
	uint64_t now_ns;
};

struct h2_conn {
	struct h2_conn_config config;
	void (*emit)(void *userdata, struct http_txn *txn);
	void *userdata;
	struct h2_dir dir[2]; /* [0] from client, [1] from server */
	struct id_table streams;
	struct h2_stream *first;
	bool desync, over_budget;
	char desync_reason[96];
	nghttp2_mem mem; /* HPACK tables charged to the connection's account */
};

static void *h2_malloc(size_t n, void *account)
{
	return ct_mem_alloc(account, n);
}

static void h2_free(void *p, void *account)
{
	ct_mem_free(account, p);
}

static void *h2_calloc(size_t n, size_t size, void *account)
{
	return size && n > SIZE_MAX / size ? NULL : ct_mem_zalloc(account, n * size);
}

static void *h2_realloc(void *p, size_t n, void *account)
{
	return ct_mem_realloc(account, p, n);
}

int h2_conn_new(const struct h2_conn_config *config, void (*emit)(void *, struct http_txn *),
		void *userdata, struct h2_conn **ret)
{
	struct h2_conn *h = ct_mem_zalloc(config->account, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->config = *config;
	if (!h->config.max_streams)
		h->config.max_streams = H2_DEFAULT_MAX_STREAMS;
	h->emit = emit;
	h->userdata = userdata;
	h->mem = (nghttp2_mem){h->config.account, h2_malloc, h2_free, h2_calloc, h2_realloc};
	if (id_table_init(&h->streams, 16) < 0) {
		ct_mem_free(config->account, h);
		return -ENOMEM;
	}
	for (int i = 0; i < 2; i++) {
		h->dir[i].from_client = i == 0;
		h->dir[i].block.account = h->config.account;
		if (nghttp2_hd_inflate_new2(&h->dir[i].inflater, &h->mem) != 0) {
			h2_conn_free(h);
			return -ENOMEM;
		}
	}
	*ret = h;
	return 0;
}

static void free_stream(struct h2_conn *h, struct h2_stream *s)
{
	http_txn_free(s->txn);
	ct_mem_free(h->config.account, s);
}

void h2_conn_free(struct h2_conn *h)
{
	if (!h)
		return;
	while (h->first) {
		struct h2_stream *s = h->first;

		h->first = s->next;
		free_stream(h, s);
	}
	ct_mem_free(NULL, h->streams.buckets);
	for (int i = 0; i < 2; i++) {
		if (h->dir[i].inflater)
			nghttp2_hd_inflate_del(h->dir[i].inflater);
		ct_mem_free(h->config.account, h->dir[i].payload);
		ct_buf_free(&h->dir[i].block);
	}
	ct_mem_free(h->config.account, h);
}

bool h2_conn_desynchronised(const struct h2_conn *h)
{
	return h->desync;
}

bool h2_conn_over_budget(const struct h2_conn *h)
{
	return h->over_budget;
}

static void desynchronise(struct h2_conn *h, const char *why);

static struct h2_stream *find_stream(struct h2_conn *h, uint32_t id, bool create)
{
	struct id_node *n = id_table_find(&h->streams, id);
	struct h2_stream *s;

	if (n)
		return id_entry(n, struct h2_stream, node);
	if (!create)
		return NULL;
	if (h->streams.n >= h->config.max_streams) {
		/* a HEADERS flood on one connection: it stops being parsed, the others carry on */
		h->over_budget = true;
		desynchronise(h, "over its budget of open streams (--max-waiting-requests)");
		return NULL;
	}
	s = ct_mem_zalloc(h->config.account, sizeof(*s));
	if (!s)
		return NULL;
	s->txn = http_txn_new(h->config.account);
	if (!s->txn) {
		ct_mem_free(h->config.account, s);
		return NULL;
	}
	s->id = id;
	s->node.key = id;
	s->txn->stream_id = id;
	snprintf(s->txn->protocol, sizeof(s->txn->protocol), "HTTP/2");
	id_table_insert(&h->streams, &s->node);
	s->next = h->first;
	if (h->first)
		h->first->prev = s;
	h->first = s;
	return s;
}

/* Hand the stream's transaction out and forget the stream. */
static void finish_stream(struct h2_conn *h, struct h2_stream *s, const char *error)
{
	id_table_remove(&h->streams, &s->node);
	if (s->prev)
		s->prev->next = s->next;
	else
		h->first = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (error)
		http_txn_set_error(s->txn, error);
	h->emit(h->userdata, s->txn);
	s->txn = NULL;
	free_stream(h, s);
}

static void desynchronise(struct h2_conn *h, const char *why)
{
	char reason[128];

	if (h->desync)
		return;
	h->desync = true;
	snprintf(h->desync_reason, sizeof(h->desync_reason), "%s", why);
	snprintf(reason, sizeof(reason), "desynchronised: %s", why);
	if (!h->first) {
		/* nothing open: still say so once (a transaction of its own, whatever the budget)
		 */
		struct http_txn *t =
		    http_txn_new(NULL); /* the notice fits even when the account is full */

		if (t) {
			snprintf(t->protocol, sizeof(t->protocol), "HTTP/2");
			http_txn_set_error(t, reason);
			h->emit(h->userdata, t);
		}
		return;
	}
	while (h->first)
		finish_stream(h, h->first, reason);
}

/*
 * A stream is over when both sides have ended it, in either order: a server may answer (and
 * end its side) before the request body has all arrived, as nginx's "return" does.
 */
static void request_ended(struct h2_conn *h, struct h2_stream *s)
{
	s->request_done = true;
	s->txn->request_complete = true;
	if (s->response_done)
		finish_stream(h, s, NULL);
}

static void response_ended(struct h2_conn *h, struct h2_stream *s, uint64_t now_ns)
{
	s->response_done = true;
	s->txn->response_complete = true;
	s->txn->response_end_ns = now_ns;
	if (s->request_done)
		finish_stream(h, s, NULL);
}

/* The client moved on to a later stream: streams waiting after a NO_ERROR reset are done. */
static void settle_resets(struct h2_conn *h, uint32_t client_stream)
{
	struct h2_stream *s = h->first, *next;

	for (; s; s = next) {
		next = s->next;
		if (s->reset_after_response && s->id < client_stream)
			finish_stream(h, s, NULL);
	}
}

/* ---- gRPC ---- */

static void grpc_count(struct h2_stream *s, bool from_client, const uint8_t *data, size_t len)
{
	struct grpc_framing *g = &s->grpc[from_client ? 0 : 1];
	struct grpc_info *info = &s->txn->grpc;

	while (len) {
		if (g->remaining) {
			size_t n = len < g->remaining ? len : (size_t)g->remaining;

			g->remaining -= n;
			data += n, len -= n;
			continue;
		}
		g->prefix[g->prefix_got++] = *data++;
		len--;
		if (g->prefix_got < 5)
			continue;
		g->prefix_got = 0;
		g->remaining = (uint64_t)g->prefix[1] << 24 | (uint64_t)g->prefix[2] << 16 |
			       (uint64_t)g->prefix[3] << 8 | g->prefix[4];
		if (from_client) {
			info->request_messages++;
			info->request_message_bytes += g->remaining;
		} else {
			info->response_messages++;
			info->response_message_bytes += g->remaining;
		}
	}
}

static void grpc_from_path(struct http_txn *t)
{
	const char *slash;

	/* "/package.Service/Method" */
	if (!t->path || t->path[0] != '/' || !(slash = strchr(t->path + 1, '/')))
		return;
	t->grpc.service = http_txn_strndup(t, t->path + 1, (size_t)(slash - t->path - 1));
	t->grpc.method = http_txn_strndup(t, slash + 1, strlen(slash + 1));
}

/* ---- header blocks ---- */

static bool is_name(const nghttp2_nv *nv, const char *name)
{
	return nv->namelen == strlen(name) && memcmp(nv->name, name, nv->namelen) == 0;
}

static void on_field(struct h2_conn *h, struct h2_stream *s, bool request, bool trailers,
		     const nghttp2_nv *nv)
{
	struct http_txn *t = s->txn;
	const struct redactor *r = h->config.redactor;

	if (request) {
		char **slot = is_name(nv, ":method")	  ? &t->method
			      : is_name(nv, ":scheme")	  ? &t->scheme
			      : is_name(nv, ":authority") ? &t->authority
			      : is_name(nv, ":path")	  ? &t->path
							  : NULL;

		if (slot) {
			*slot = http_txn_strndup(t, (const char *)nv->value, nv->valuelen);
			return;
		}
		if (is_name(nv, "content-type") && nv->valuelen >= 16 &&
		    memcmp(nv->value, "application/grpc", 16) == 0)
			t->grpc.present = true;
		http_txn_add_field(t, &t->request_headers, r, (const char *)nv->name, nv->namelen,
				   nv->value, nv->valuelen);
		return;
	}
	if (is_name(nv, ":status")) {
		int status = 0;

		for (size_t i = 0; i < nv->valuelen && i < 3; i++)
			status = status * 10 + (nv->value[i] - '0');
		if (status >= 200 || status == 101)
			s->final_response = true;
		if (s->final_response)
			t->status = status;
		return;
	}
	if (!s->final_response && !trailers)
		return; /* informational (1xx) headers */
	if (is_name(nv, "grpc-status")) {
		int32_t code = 0;

		for (size_t i = 0;
		     i < nv->valuelen && i < 9 && nv->value[i] >= '0' && nv->value[i] <= '9'; i++)
			code = code * 10 + (nv->value[i] - '0');
		t->grpc.has_status = true;
		t->grpc.status = code;
	}
	if (is_name(nv, "grpc-message")) {
		t->grpc.message = http_txn_strndup(t, (const char *)nv->value, nv->valuelen);
	}
	http_txn_add_field(t, &t->response_headers, r, (const char *)nv->name, nv->namelen,
			   nv->value, nv->valuelen);
}

/* Decode a complete header block. Returns false when HPACK fails (desynchronises). */
static bool decode_block(struct h2_conn *h, struct h2_dir *d)
{
	bool request = d->from_client || d->block_is_push;
	uint32_t id = d->block_is_push ? d->promised_stream : d->block_stream;
	struct h2_stream *s = find_stream(h, id, true);
	const uint8_t *in = d->block.data ? d->block.data : (const uint8_t *)""; /* empty: valid */
	size_t inlen = d->block.len;
	bool trailers = false;

	if (!s)
		return true; /* out of memory: the block is skipped, the table must still move */
	if (!request && s->final_response)
		trailers = true;
	if (request && !s->txn->request_start_ns)
		s->txn->request_start_ns = d->now_ns;
	if (!request && !s->txn->response_first_byte_ns)
		s->txn->response_first_byte_ns = d->now_ns;
	if (!request)
		s->txn->response_started = true;
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(d->inflater, &nv, &flags, in, inlen, 1);

		if (rv < 0)
			return false;
		in += rv, inlen -= (size_t)rv;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			on_field(h, s, request, trailers, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inflater);
			break;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && inlen == 0)
			break;
	}
	if (request && s->txn->grpc.present && !s->txn->grpc.service)
		grpc_from_path(s->txn);
	if (d->block_is_push)
		s->request_done = true; /* a promised request has no body */
	if (d->block_end_stream) {
		if (request)
			request_ended(h, s);
		else if (s->final_response)
			response_ended(h, s, d->now_ns);
	}
	return true;
}

static int block_append(struct h2_dir *d, const uint8_t *data, size_t len)
{
	if (!len)
		return 0;
	if (d->block.len + len > H2_MAX_HEADER_BLOCK)
		return -E2BIG;
	ct_buf_put(&d->block, data, len);
	return d->block.failed ? -ENOMEM : 0;
}

static const char *h2_error_name(uint32_t code)
{
	static const char *const names[] = {"NO_ERROR",
					    "PROTOCOL_ERROR",
					    "INTERNAL_ERROR",
					    "FLOW_CONTROL_ERROR",
					    "SETTINGS_TIMEOUT",
					    "STREAM_CLOSED",
					    "FRAME_SIZE_ERROR",
					    "REFUSED_STREAM",
					    "CANCEL",
					    "COMPRESSION_ERROR",
					    "CONNECT_ERROR",
					    "ENHANCE_YOUR_CALM",
					    "INADEQUATE_SECURITY",
					    "HTTP_1_1_REQUIRED"};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown error";
}

/* ---- frames ---- */

/* A whole non-DATA frame is in d->payload. */
static int on_frame(struct h2_conn *h, struct h2_dir *d)
{
	const uint8_t *p = d->payload;
	size_t len = d->length, pad = 0;
	struct h2_stream *s;
	int r;

	if (d->block_open && d->type != FRAME_CONTINUATION) {
		desynchronise(h, "header block interrupted by another frame");
		return 0;
	}
	switch (d->type) {
	case FRAME_HEADERS:
	case FRAME_PUSH_PROMISE:
		if (d->flags & FLAG_PADDED) {
			if (len < 1 || p[0] >= len) {
				desynchronise(h, "invalid padding");
				return 0;
			}
			pad = p[0];
			p++, len--;
		}
		if (d->type == FRAME_HEADERS && (d->flags & FLAG_PRIORITY)) {
			if (len < 5) {
				desynchronise(h, "short HEADERS frame");
				return 0;
			}
			p += 5, len -= 5;
		}
		d->block_is_push = d->type == FRAME_PUSH_PROMISE;
		if (d->block_is_push) {
			if (len < 4) {
				desynchronise(h, "short PUSH_PROMISE frame");
				return 0;
			}
			d->promised_stream = ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
					      (uint32_t)p[2] << 8 | p[3]) &
					     0x7fffffff;
			p += 4, len -= 4;
		}
		if (len < pad) {
			desynchronise(h, "invalid padding");
			return 0;
		}
		len -= pad;
		d->block.len = 0;
		d->block_stream = d->stream;
		d->block_end_stream = d->type == FRAME_HEADERS && (d->flags & FLAG_END_STREAM);
		d->block_open = true;
		/* fall through to collect the fragment */
		__attribute__((fallthrough));
	case FRAME_CONTINUATION:
		if (!d->block_open || d->stream != d->block_stream) {
			desynchronise(h, "unexpected CONTINUATION");
			return 0;
		}
		r = block_append(d, p, len);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			desynchronise(h, "header block too large");
			return 0;
		}
		if (d->flags & FLAG_END_HEADERS) {
			d->block_open = false;
			if (!decode_block(h, d))
				desynchronise(h, "header compression (HPACK) error");
		}
		return 0;
	case FRAME_RST_STREAM:
		s = find_stream(h, d->stream, false);
		if (s && len >= 4) {
			uint32_t code = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
					(uint32_t)p[2] << 8 | p[3];
			char why[96];

			/*
			 * RFC 9113 8.1: after a complete response, NO_ERROR just stops the upload.
			 * What the client had already sent may still be read: wait until its side
			 * settles.
			 */
			if (code == 0 && s->response_done) {
				s->reset_after_response = true;
				return 0;
			}
			snprintf(why, sizeof(why), "reset by %s: %s (%u)",
				 d->from_client ? "client" : "server", h2_error_name(code), code);
			finish_stream(h, s, why);
		}
		return 0;
	case FRAME_SETTINGS:
		/* SETTINGS_HEADER_TABLE_SIZE limits the table the *other* side encodes with */
		for (size_t i = 0; !(d->flags & 0x1) && i + 6 <= len; i += 6) {
			uint16_t id = (uint16_t)(p[i] << 8 | p[i + 1]);
			uint32_t v = (uint32_t)p[i + 2] << 24 | (uint32_t)p[i + 3] << 16 |
				     (uint32_t)p[i + 4] << 8 | p[i + 5];

			if (id == 1)
				nghttp2_hd_inflate_change_table_size(
				    h->dir[d->from_client ? 1 : 0].inflater, v);
		}
		return 0;
	default: /* PRIORITY, PING, GOAWAY, WINDOW_UPDATE, unknown: nothing to record */
		return 0;
	}
}

/* DATA payload bytes (padding already excluded). */
static void on_data(struct h2_conn *h, struct h2_dir *d, const uint8_t *data, size_t len)
{
	struct h2_stream *s = find_stream(h, d->stream, false);
	struct http_txn *t;

	if (!s || !len)
		return;
	t = s->txn;
	if (d->from_client) {
		http_body_add(&t->request_body, data, len, h->config.body_limit);
		if (!data)
			t->gap_bytes += len;
	} else {
		http_body_add(&t->response_body, data, len, h->config.body_limit);
		if (!data)
			t->gap_bytes += len;
	}
	if (t->grpc.present && data)
		grpc_count(s, d->from_client, data, len);
}

static void on_data_end(struct h2_conn *h, struct h2_dir *d)
{
	struct h2_stream *s = find_stream(h, d->stream, false);

	if (!s || !(d->flags & FLAG_END_STREAM))
		return;
	if (d->from_client)
		request_ended(h, s);
	else
		response_ended(h, s, d->now_ns);
}

int h2_conn_feed(struct h2_conn *h, bool from_client, const uint8_t *data, size_t len,
		 uint64_t time_ns)
{
	struct h2_dir *d = &h->dir[from_client ? 0 : 1];

	d->now_ns = time_ns;
	if (from_client && d->preface_got < PREFACE_LEN) {
		size_t n = PREFACE_LEN - d->preface_got;

		n = len < n ? len : n;
		if (memcmp(data, &PREFACE[d->preface_got], n) != 0) {
			desynchronise(h, "invalid connection preface");
			return 0;
		}
		d->preface_got += n;
		data += n, len -= n;
	}
	while (len && !h->desync) {
		size_t n;

		if (d->head_got < 9) {
			n = 9 - d->head_got < len ? 9 - d->head_got : len;
			memcpy(d->head + d->head_got, data, n);
			d->head_got += n;
			data += n, len -= n;
			if (d->head_got < 9)
				break;
			d->length =
			    (uint32_t)d->head[0] << 16 | (uint32_t)d->head[1] << 8 | d->head[2];
			d->type = d->head[3];
			d->flags = d->head[4];
			d->stream = ((uint32_t)d->head[5] << 24 | (uint32_t)d->head[6] << 16 |
				     (uint32_t)d->head[7] << 8 | d->head[8]) &
				    0x7fffffff;
			d->got = 0;
			d->pad_known = false;
			d->pad = 0;
			if (d->from_client && d->stream)
				settle_resets(h, d->stream);
			if (d->type != FRAME_DATA && d->length > d->payload_cap) {
				uint8_t *p =
				    ct_mem_realloc(h->config.account, d->payload, d->length);

				if (!p)
					return -ENOMEM;
				d->payload = p;
				d->payload_cap = d->length;
			}
			/* a zero-length frame is complete now; any other one needs bytes */
			if (!len && d->length)
				break;
		}
		if (d->type == FRAME_DATA) {
			size_t data_end;

			if ((d->flags & FLAG_PADDED) && !d->pad_known && d->got < d->length) {
				d->pad = *data++;
				len--;
				d->got++;
				d->pad_known = true;
				if (d->pad >= d->length) {
					desynchronise(h, "invalid DATA padding");
					break;
				}
				continue;
			}
			data_end = d->length - d->pad; /* payload bytes before the padding */
			n = d->length - d->got < len ? d->length - d->got : len;
			if (d->got < data_end) {
				size_t useful = data_end - d->got < n ? data_end - d->got : n;

				on_data(h, d, data, useful);
			}
			d->got += (uint32_t)n;
			data += n, len -= n;
		} else {
			n = d->length - d->got < len ? d->length - d->got : len;
			if (n) /* an empty frame has no payload buffer */
				memcpy(d->payload + d->got, data, n);
			d->got += (uint32_t)n;
			data += n, len -= n;
		}
		if (d->got == d->length) {
			int r = 0;

			if (d->type == FRAME_DATA)
				on_data_end(h, d);
			else
				r = on_frame(h, d);
			d->head_got = 0;
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void h2_conn_gap(struct h2_conn *h, bool from_client, uint64_t gap)
{
	struct h2_dir *d = &h->dir[from_client ? 0 : 1];
	char why[96];

	if (h->desync || !gap)
		return;
	/* Inside DATA payload the frame layer stays in sync and HPACK is untouched. */
	if (d->head_got == 9 && d->type == FRAME_DATA && !(d->flags & FLAG_PADDED) &&
	    gap <= (uint64_t)(d->length - d->got)) {
		on_data(h, d, NULL, (size_t)gap);
		d->got += (uint32_t)gap;
		if (d->got == d->length) {
			on_data_end(h, d);
			d->head_got = 0;
		}
		return;
	}
	snprintf(why, sizeof(why), "%llu bytes from the %s not captured", (unsigned long long)gap,
		 from_client ? "client" : "server");
	desynchronise(h, why);
}

void h2_conn_abandon(struct h2_conn *h, const char *why)
{
	h->over_budget = true;
	desynchronise(h, why);
}

void h2_conn_finish(struct h2_conn *h)
{
	while (h->first) {
		struct h2_stream *s = h->first;
		const char *why =
		    !s->txn->response_started ? "no response captured before the connection ended"
		    : !s->response_done	      ? "truncated: connection ended inside the response"
		    : s->reset_after_response ? NULL
		    : !s->request_done	      ? "truncated: connection ended inside the request"
					      : NULL;

		finish_stream(h, s, why);
	}
}
