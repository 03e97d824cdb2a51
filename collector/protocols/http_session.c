/* SPDX-License-Identifier: Apache-2.0 */
#include "http_session.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http1_parser.h"
#include "http2_conn.h"
#include "id_table.h"
#include "memory_budget.h"

#define DETECT_BYTES 24		 /* the HTTP/2 client preface is the longest pattern */
#define HOLD_LIMIT   (64 * 1024) /* bytes held per direction until the protocol is known */
#define H2_PREFACE   "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

enum protocol { PROTO_UNKNOWN, PROTO_HTTP1, PROTO_HTTP2, PROTO_OPAQUE };

/* Per direction of the observed process: WRITE = what it sent. */
struct direction {
	struct ct_buf held; /* everything seen until the protocol is known, replayed then */

	uint64_t held_time_ns, held_call_start_ns;
	uint64_t message_start_ns;	/* time of the segment that began the current message */
	uint64_t message_call_start_ns; /* when the call that carried its first bytes began */
	uint64_t now_ns;		/* time of the segment being parsed */
	uint64_t now_call_start_ns;	/* when its call began */
};

/* Transactions in arrival order, linked through http_txn.next. */
struct txn_fifo {
	struct http_txn *head, *tail;
	size_t n;
};

static void txn_fifo_push(struct txn_fifo *f, struct http_txn *t)
{
	f->n++;
	t->next = NULL;
	if (f->tail)
		f->tail->next = t;
	else
		f->head = t;
	f->tail = t;
}

static struct http_txn *txn_fifo_pop(struct txn_fifo *f)
{
	struct http_txn *t = f->head;

	if (t) {
		f->n--;
		f->head = t->next;
		if (!f->head)
			f->tail = NULL;
		t->next = NULL;
	}
	return t;
}

struct http_conn {

	struct id_node node; /* key: conn_key() of tgid, session */
	struct http_sessions *owner;
	uint32_t tgid, tid;
	char comm[16];
	uint64_t session;
	uint64_t conn_cookie;
	enum protocol protocol;
	bool server_side;	 /* requests arrive on READ */
	bool plain;		 /* plain TCP from socket syscalls, not TLS plaintext */
	struct direction dir[2]; /* by enum cleartap_direction */
	/* HTTP/1: parsers by role, and the requests waiting for their responses, in order */
	struct http1_parser requests, responses;
	struct txn_fifo queue;
	struct http_txn *current_request;
	/* responses that found no request waiting, kept until the request side explains them */
	struct txn_fifo orphans;
	bool request_resync, response_resync;
	/* HTTP/2 */
	struct h2_conn *h2;
	struct mem_account account; /* everything above is charged here, within its budget */
};

struct http_sessions {
	struct http_session_config config;
	void (*on_transaction)(void *userdata, const struct http_txn *txn);
	void *userdata;
	struct http_session_counters counters;
	struct id_table conns;
};

static const char *const methods[] = {"GET ",	"HEAD ",    "POST ",	"PUT ",	 "DELETE ",
				      "PATCH ", "OPTIONS ", "CONNECT ", "TRACE "};

int http_sessions_new(const struct http_session_config *config,
		      void (*on_transaction)(void *, const struct http_txn *), void *userdata,
		      struct http_sessions **ret)
{
	struct http_sessions *s = ct_mem_zalloc(NULL, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->config = *config;
	if (!s->config.body_limit)
		s->config.body_limit = 64 * 1024;
	if (!s->config.max_waiting)
		s->config.max_waiting = HTTP_DEFAULT_MAX_WAITING;
	if (!s->config.connection_memory)
		s->config.connection_memory = HTTP_DEFAULT_CONNECTION_MEMORY;
	s->on_transaction = on_transaction;
	s->userdata = userdata;
	if (id_table_init(&s->conns, 1024) < 0) {
		ct_mem_free(NULL, s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

const struct http_session_counters *http_sessions_counters(const struct http_sessions *s)
{
	return &s->counters;
}

static uint64_t conn_key(uint32_t tgid, uint64_t session)
{
	return session ^ ((uint64_t)tgid << 32);
}

static struct http_conn *conn_find(struct http_sessions *s, uint32_t tgid, uint64_t session)
{
	for (struct id_node *n = id_table_find(&s->conns, conn_key(tgid, session)); n;
	     n = id_table_find_next(n)) {
		struct http_conn *c = id_entry(n, struct http_conn, node);

		if (c->tgid == tgid && c->session == session)
			return c;
	}
	return NULL;
}

static void conn_remove(struct http_sessions *s, struct http_conn *c)
{
	id_table_remove(&s->conns, &c->node);
	ct_mem_free(NULL, c);
}

/* ---- emitting ---- */

static void emit(struct http_sessions *s, struct http_txn *t)
{
	s->counters.transactions++;
	s->counters.by_protocol[strcmp(t->protocol, "HTTP/2") ? HTTP_PROTOCOL_HTTP1
							      : HTTP_PROTOCOL_HTTP2]++;
	if (t->grpc.present)
		s->counters.by_protocol[HTTP_PROTOCOL_GRPC]++;
	if (strncmp(t->error, "malformed", 9) == 0)
		s->counters.malformed++;
	if (s->on_transaction)
		s->on_transaction(s->userdata, t);
	http_txn_free(t);
}

/* Who the transaction belongs to: the same for every transaction of a connection. */
static void stamp_conn(const struct http_conn *c, struct http_txn *t)
{
	t->pid = c->tgid;
	t->tid = c->tid;
	memcpy(t->comm, c->comm, sizeof(t->comm));
	t->session = c->session;
	t->conn_cookie = c->conn_cookie;
	t->server_side = c->server_side;
}

static void h2_emit(void *userdata, struct http_txn *t)
{
	struct http_conn *c = userdata;

	stamp_conn(c, t);
	if (strncmp(t->error, "desynchronised", 14) == 0)
		c->owner->counters.desynchronised++;
	emit(c->owner, t);
}

/*
 * A memory-BIO runtime's connection is known from its first read on (ct_bio_ties.bpf.h): the
 * exchanges already waiting, whose request went out before, belong to it too.
 */
static void learn_connection(struct http_conn *c)
{
	for (struct http_txn *t = c->queue.head; t; t = t->next)
		if (!t->conn_cookie)
			t->conn_cookie = c->conn_cookie;
	for (struct http_txn *t = c->orphans.head; t; t = t->next)
		if (!t->conn_cookie)
			t->conn_cookie = c->conn_cookie;
	if (c->current_request && !c->current_request->conn_cookie)
		c->current_request->conn_cookie = c->conn_cookie;
}

static struct http_txn *new_txn(struct http_conn *c)
{
	struct http_txn *t = http_txn_new(&c->account);

	if (t)
		stamp_conn(c, t);
	return t;
}

/* Emit a transaction that left the queue; it may still be the request being parsed. */
static void emit_txn(struct http_conn *c, struct http_txn *t)
{
	if (c->current_request == t)
		c->current_request = NULL;
	emit(c->owner, t);
}

/*
 * The unexplained response a request whose call began at request_call_start_ns answers, or
 * NULL; those that came before it began are told as unexplained (0: all of them). The two
 * directions' records come from different threads' calls, and a response's can be drained a
 * pass before its request's (Go's read loop returns while the writing goroutine has not yet
 * left its Write): a response cannot precede its request, so the first that came after the
 * request began is its own.
 */
/*
 * "HTTP/1.<minor>": the parser admits one digit. Not snprintf: its two calls per exchange were
 * 3% of the collector's instructions (callgrind, replay_bench).
 */
static void set_http1_protocol(struct http_txn *t, int minor_version)
{
	_Static_assert(sizeof(t->protocol) >= sizeof("HTTP/1.1"), "protocol fits");
	memcpy(t->protocol, "HTTP/1.1", sizeof("HTTP/1.1"));
	t->protocol[7] = (char)('0' + minor_version);
}

static struct http_txn *take_orphan(struct http_conn *c, uint64_t request_call_start_ns)
{
	struct http_txn *t;

	while ((t = txn_fifo_pop(&c->orphans))) {
		if (request_call_start_ns && t->response_first_byte_ns >= request_call_start_ns) {
			t->orphan = false;
			return t;
		}
		http_txn_set_error(t, "no request captured for this response");
		emit(c->owner, t);
	}
	return NULL;
}

/* ---- HTTP/1: requests ---- */

static enum cleartap_direction request_dir(const struct http_conn *c)
{
	return c->server_side ? CLEARTAP_DIR_READ : CLEARTAP_DIR_WRITE;
}

static void release_held(struct http_conn *c);

/*
 * A connection over its budget stops being parsed: what it holds is emitted, each saying so, and
 * its further bytes are only counted (as for an opaque session). Memory stays bounded whatever
 * a local user pipelines.
 */
static void over_budget(struct http_conn *c, const char *why)
{
	struct http_txn *t;

	c->owner->counters.over_budget++;
	if (c->protocol == PROTO_HTTP2) {
		h2_conn_abandon(c->h2, why);
		h2_conn_free(c->h2);
		c->h2 = NULL;
	}
	while ((t = txn_fifo_pop(&c->queue))) {
		http_txn_set_error(t, why);
		emit_txn(c, t);
	}
	while ((t = txn_fifo_pop(&c->orphans))) {
		http_txn_set_error(t, why);
		emit(c->owner, t);
	}
	if (c->current_request) { /* answered already, its body still arriving */
		http_txn_set_error(c->current_request, why);
		emit_txn(c, c->current_request);
	}
	if (c->protocol == PROTO_HTTP1) {
		http1_parser_free(&c->requests);
		http1_parser_free(&c->responses);
	}
	c->protocol = PROTO_OPAQUE;
	release_held(c);
}

/* What a refused allocation makes of the connection: it is no longer parsed, and says why. */
static void over_memory(struct http_conn *c)
{
	c->owner->counters.over_memory++;
	over_budget(c, c->account.refused_global
			   ? "the collector's memory budget (--memory-limit) is exhausted; "
			     "connection no longer parsed"
			   : "connection over its memory budget (--connection-memory-limit); no "
			     "longer parsed");
}

static enum http1_body on_request_head(void *ud, const struct http1_head *h)
{
	struct http_conn *c = ud;
	const struct redactor *r = c->owner->config.redactor;
	struct direction *d = &c->dir[request_dir(c)];
	struct http_txn *t;

	if (c->queue.n >= c->owner->config.max_waiting) {
		over_budget(c,
			    "connection over its budget: more requests waiting for responses than "
			    "--max-waiting-requests; no longer parsed");
		return HTTP1_BODY_TUNNEL;
	}
	t = take_orphan(c, d->message_call_start_ns);
	if (!t && !(t = new_txn(c)))
		return HTTP1_BODY_TUNNEL; /* out of memory: stop parsing this direction */
	set_http1_protocol(t, h->minor_version);
	t->method = http_txn_strndup(t, h->method, h->method_len);
	t->path = http_txn_strndup(t, h->target, h->target_len);
	t->scheme = c->plain ? http_txn_strndup(t, "http", 4) : http_txn_strndup(t, "https", 5);
	t->head_request = h->method_len == 4 && memcmp(h->method, "HEAD", 4) == 0;
	t->connect_request = h->method_len == 7 && memcmp(h->method, "CONNECT", 7) == 0;
	t->request_start_ns = d->message_start_ns ? d->message_start_ns : d->now_ns;
	t->resynchronised = c->request_resync;
	c->request_resync = false;
	for (size_t i = 0; i < h->n_headers; i++) {
		const struct http1_header *f = &h->headers[i];

		http_txn_add_field(t, &t->request_headers, r, f->name, f->name_len,
				   (const uint8_t *)f->value, f->value_len);
		if (!t->authority && f->name_len == 4 && strncasecmp(f->name, "host", 4) == 0)
			t->authority = http_txn_strndup(t, f->value, f->value_len);
	}
	if (!t->response_complete) /* else answered already: it ends with its request */
		txn_fifo_push(&c->queue, t);
	c->current_request = t;
	return http1_default_body(h);
}

static void on_request_body(void *ud, const uint8_t *data, size_t len)
{
	struct http_conn *c = ud;

	if (c->current_request) {
		http_body_add(&c->current_request->request_body, data, len,
			      c->owner->config.body_limit);
		if (!data)
			c->current_request->gap_bytes += len;
	}
}

static void on_request_end(void *ud, const struct http1_header *trailers, size_t n)
{
	struct http_conn *c = ud;

	struct http_txn *t = c->current_request;

	(void)trailers;
	(void)n;
	c->dir[request_dir(c)].message_start_ns = 0;
	if (!t)
		return;
	t->request_complete = true;
	c->current_request = NULL;
	if (t->response_complete)
		emit(c->owner, t); /* its response ended first (see on_response_end) */
}

static void on_request_error(void *ud, const char *reason)
{
	struct http_conn *c = ud;
	struct http_txn *t = c->current_request;

	if (!t) {
		/* Garbage where a request should start: tell it as an exchange of its own. */
		t = new_txn(c);
		if (!t)
			return;
		set_http1_protocol(t, 1);
		t->request_start_ns = c->dir[request_dir(c)].now_ns;
		http_txn_set_error(t, reason);
		emit(c->owner, t);
	} else {
		http_txn_set_error(t, reason);
		t->request_complete = true;
		c->current_request = NULL;
		if (t->response_complete)
			emit(c->owner, t);
	}
	c->request_resync = true;
	c->dir[request_dir(c)].message_start_ns = 0;
}

/* ---- HTTP/1: responses ---- */

static enum http1_body on_response_head(void *ud, const struct http1_head *h)
{
	struct http_conn *c = ud;
	const struct redactor *r = c->owner->config.redactor;
	struct direction *d = &c->dir[!request_dir(c)];
	struct http_txn *t = c->queue.head;
	enum http1_body body = http1_default_body(h);

	if (h->status >= 100 && h->status < 200 && h->status != 101)
		return HTTP1_BODY_NONE; /* interim: the final response follows */
	if (!t) {
		/* capture began after the request was sent, or the request was lost */
		t = new_txn(c);
		if (!t)
			return HTTP1_BODY_TUNNEL;
		t->orphan = true;
		txn_fifo_push(&c->queue, t);
	}
	set_http1_protocol(t, h->minor_version);
	t->status = h->status;
	t->response_started = true;
	t->response_first_byte_ns = d->message_start_ns ? d->message_start_ns : d->now_ns;
	if (c->response_resync)
		t->resynchronised = true;
	c->response_resync = false;
	for (size_t i = 0; i < h->n_headers; i++)
		http_txn_add_field(t, &t->response_headers, r, h->headers[i].name,
				   h->headers[i].name_len, (const uint8_t *)h->headers[i].value,
				   h->headers[i].value_len);
	if (t->head_request)
		return HTTP1_BODY_NONE;
	if (t->connect_request && h->status / 100 == 2)
		return HTTP1_BODY_TUNNEL;
	return body;
}

static void on_response_body(void *ud, const uint8_t *data, size_t len)
{
	struct http_conn *c = ud;
	struct http_txn *t = c->queue.head;

	if (t && t->response_started) {
		http_body_add(&t->response_body, data, len, c->owner->config.body_limit);
		if (!data)
			t->gap_bytes += len;
	}
}

static void on_response_end(void *ud, const struct http1_header *trailers, size_t n)
{
	struct http_conn *c = ud;
	struct direction *d = &c->dir[!request_dir(c)];
	struct http_txn *t = c->queue.head;

	d->message_start_ns = 0;
	if (!t || !t->response_started)
		return; /* an interim response ended */
	for (size_t i = 0; i < n; i++)
		http_txn_add_field(t, &t->response_headers, c->owner->config.redactor,
				   trailers[i].name, trailers[i].name_len,
				   (const uint8_t *)trailers[i].value, trailers[i].value_len);
	t->response_complete = true;
	t->response_end_ns = d->now_ns;
	if (t->connect_request && t->status / 100 == 2)
		http_txn_set_error(t, "tunnel: CONNECT established, not parsed further");
	if (t->status == 101)
		http_txn_set_error(t, "tunnel: protocol switched, not parsed further");
	txn_fifo_pop(&c->queue);
	if (t->orphan) {
		/*
		 * A response with no request waiting: capture began mid-connection, or its
		 * request was lost in a gap the request side has not reported yet (a hole shows
		 * only when a later call arrives). Kept until one of those is known, and
		 * within the connection's budget: the oldest is told as unexplained first.
		 */
		if (c->orphans.n >= c->owner->config.max_waiting) {
			struct http_txn *oldest = txn_fifo_pop(&c->orphans);

			http_txn_set_error(oldest, "no request captured for this response");
			emit(c->owner, oldest);
		}
		txn_fifo_push(&c->orphans, t);
		return;
	}
	/* A server may answer before the request body has all arrived: wait for its end. */
	if (t == c->current_request)
		return;
	emit(c->owner, t);
}

static void on_response_error(void *ud, const char *reason)
{
	struct http_conn *c = ud;
	struct http_txn *t = txn_fifo_pop(&c->queue);

	if (!t) {
		t = new_txn(c);
		if (!t)
			return;
	}
	http_txn_set_error(t, reason);
	emit_txn(c, t);
	c->response_resync = true;
	c->dir[!request_dir(c)].message_start_ns = 0;
}

static const struct http1_callbacks request_callbacks = {on_request_head, on_request_body,
							 on_request_end, on_request_error};
static const struct http1_callbacks response_callbacks = {on_response_head, on_response_body,
							  on_response_end, on_response_error};

/* ---- detection ---- */

static int classify(const uint8_t *b, size_t n, bool *ret_requests)
{
	/* 1: decided (protocol in return via *ret_requests for HTTP/1), 0: need more, -1: opaque */
	size_t preface = sizeof(H2_PREFACE) - 1;

	if (n >= preface ? memcmp(b, H2_PREFACE, preface) == 0
			 : memcmp(b, H2_PREFACE, n) == 0 && n > 0) {
		if (n < preface)
			return 0;
		*ret_requests = true;
		return 2;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
		size_t len = strlen(methods[i]);

		if (memcmp(b, methods[i], n < len ? n : len) == 0) {
			if (n < len)
				return 0;
			*ret_requests = true;
			return 1;
		}
	}
	if (memcmp(b, "HTTP/1.", n < 7 ? n : 7) == 0) {
		if (n < 7)
			return 0;
		*ret_requests = false;
		return 1;
	}
	return -1;
}

static int feed(struct http_conn *c, enum cleartap_direction dir, const uint8_t *data, size_t len);

static void release_held(struct http_conn *c)
{
	for (int dir = 0; dir < 2; dir++) {
		ct_buf_free(&c->dir[dir].held);
	}
}

static void make_opaque(struct http_conn *c)
{
	c->protocol = PROTO_OPAQUE;
	c->owner->counters.opaque_sessions++;
	release_held(c);
}

/*
 * Decide the protocol from what each direction began with. A direction that matches nothing
 * (an HTTP/2 server's SETTINGS frame, say) waits for the other one; both unknown is opaque.
 * Returns 1 when decided (and held bytes replayed), 0 to wait, -ENOMEM.
 */
static int decide(struct http_conn *c)
{
	int verdict[2] = {0, 0}, dir;
	bool requests[2] = {false, false};

	for (dir = 0; dir < 2; dir++) {
		struct direction *d = &c->dir[dir];
		size_t n = d->held.len < DETECT_BYTES ? d->held.len : DETECT_BYTES;

		verdict[dir] =
		    n ? classify(d->held.data, n, &requests[dir]) : -2; /* -2: nothing yet */
	}
	for (dir = 0; dir < 2 && verdict[dir] < 1; dir++)
		;
	if (dir == 2) {
		if (verdict[0] == -1 && verdict[1] == -1)
			make_opaque(c);
		else if ((verdict[0] == -1 && c->dir[0].held.len >= HOLD_LIMIT) ||
			 (verdict[1] == -1 && c->dir[1].held.len >= HOLD_LIMIT))
			make_opaque(c);
		return 0;
	}
	/* this direction carries requests (or responses): which side are we? */
	c->server_side = (dir == CLEARTAP_DIR_READ) == requests[dir];
	if (verdict[dir] == 2) {
		struct h2_conn_config h2 = {.body_limit = c->owner->config.body_limit,
					    .max_streams = c->owner->config.max_waiting,
					    .redactor = c->owner->config.redactor,
					    .account = &c->account};

		c->protocol = PROTO_HTTP2;
		if (h2_conn_new(&h2, h2_emit, c, &c->h2) < 0)
			return -ENOMEM;
	} else {
		c->protocol = PROTO_HTTP1;
		http1_parser_init(&c->requests, true, NULL, &request_callbacks, c);
		http1_parser_init(&c->responses, false, NULL, &response_callbacks, c);
		c->requests.buf.account = c->responses.buf.account = &c->account;
	}
	/* replay what was held, requests first */
	for (int k = 0; k < 2; k++) {
		enum cleartap_direction rd = k == 0 ? request_dir(c) : !request_dir(c);
		struct direction *h = &c->dir[rd];
		int r;

		if (!h->held.len)
			continue;
		h->now_ns = h->held_time_ns;
		h->now_call_start_ns = h->held_call_start_ns;
		r = feed(c, rd, h->held.data, h->held.len);
		if (r < 0)
			return r;
	}
	release_held(c);
	return 1;
}

static int feed(struct http_conn *c, enum cleartap_direction dir, const uint8_t *data, size_t len)
{
	bool is_request = dir == request_dir(c);
	struct direction *d = &c->dir[dir];

	if (!d->message_start_ns) {
		d->message_start_ns = d->now_ns;
		d->message_call_start_ns = d->now_call_start_ns;
	}
	if (c->protocol == PROTO_HTTP2) {
		int r = h2_conn_feed(c->h2, is_request, data, len, d->now_ns);

		if (h2_conn_over_budget(c->h2)) { /* its streams are out, each saying so */
			c->owner->counters.over_budget++;
			c->protocol = PROTO_OPAQUE;
			h2_conn_free(c->h2);
			c->h2 = NULL;
		}
		return r;
	}
	return http1_feed(is_request ? &c->requests : &c->responses, data, len);
}

static void gap(struct http_conn *c, enum cleartap_direction dir, uint64_t bytes)
{
	bool is_request = dir == request_dir(c);

	if (c->protocol == PROTO_HTTP2) {
		h2_conn_gap(c->h2, is_request, bytes);
		return;
	}
	if (is_request) {
		struct http_txn *t = c->current_request;

		if (http1_gap(&c->requests, bytes))
			return;
		if (!t && (t = txn_fifo_pop(&c->orphans))) {
			/* the lost request's response was already seen */
			t->orphan = false;
		} else if (!t) {
			/*
			 * Requests were lost whole. Assume one (a lost call usually is one
			 * request): its stand-in keeps the next response from pairing with a later
			 * request.
			 */
			t = new_txn(c);
			if (t) {
				set_http1_protocol(t, 1);
				txn_fifo_push(&c->queue, t);
			}
		}
		if (t) {
			char why[96];

			snprintf(why, sizeof(why), "gap: %llu request bytes not captured",
				 (unsigned long long)bytes);
			http_txn_set_error(t, why);
			t->gap_bytes += bytes;
			t->request_complete = true;
			c->current_request = NULL;
			if (t->response_complete)
				emit(c->owner, t);
		}
		c->request_resync = true;
	} else {
		char why[96];

		if (http1_gap(&c->responses, bytes))
			return;
		/* Responses can no longer be matched to requests: tell every waiting one. */
		snprintf(why, sizeof(why), "gap: %llu response bytes not captured",
			 (unsigned long long)bytes);
		while (c->queue.head) {
			struct http_txn *t = txn_fifo_pop(&c->queue);

			http_txn_set_error(t, why);
			t->gap_bytes += bytes;
			emit_txn(c, t);
		}
		c->response_resync = true;
	}
	c->dir[dir].message_start_ns = 0;
}

/*
 * Near the collector's limit the largest connections stop being parsed, until a quarter of it
 * is free again: whoever holds the most pays, so a newcomer's exchange is not refused because
 * one sender filled the budget. One pass over the table per connection shed.
 */
static void shed_largest(struct http_sessions *s)
{
	if (!mem_budget_above(7))
		return;
	do {
		struct http_conn *largest = NULL;

		id_table_for_each(&s->conns, n)
		{
			struct http_conn *c = id_entry(n, struct http_conn, node);

			if (c->protocol != PROTO_OPAQUE &&
			    (!largest || c->account.used > largest->account.used))
				largest = c;
		}
		if (!largest || largest->account.used < (64u << 10))
			return; /* nothing worth shedding: the rest is the collector's own */
		s->counters.over_memory++;
		over_budget(largest,
			    "the collector's memory budget (--memory-limit) is nearly "
			    "exhausted: the connection holding the most is no longer parsed");
	} while (mem_budget_above(6));
}

int http_sessions_segment(struct http_sessions *s, const struct reasm_segment *seg)
{
	struct http_conn *c = conn_find(s, seg->tgid, seg->session);
	struct direction *d;
	const uint8_t *data = seg->data;
	size_t len = seg->len;
	uint64_t refused;
	int r;

	if (mem_budget_above(7))
		shed_largest(s); /* shed connections stay in the table, opaque */
	if (!c) {
		c = ct_mem_zalloc(NULL, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->owner = s;
		c->account.limit = s->config.connection_memory;
		c->dir[0].held.account = c->dir[1].held.account = &c->account;
		c->tgid = seg->tgid;
		c->session = seg->session;
		c->node.key = conn_key(c->tgid, c->session);
		id_table_insert(&s->conns, &c->node);
	}
	c->tid = seg->tid;
	memcpy(c->comm, seg->comm, sizeof(c->comm));
	if (seg->conn_cookie && seg->conn_cookie != c->conn_cookie) {
		c->conn_cookie = seg->conn_cookie;
		learn_connection(c);
	}
	c->plain = seg->flags & CLEARTAP_DATA_PLAIN;
	if (seg->direction > CLEARTAP_DIR_READ)
		return 0;
	d = &c->dir[seg->direction];
	d->now_ns = seg->time_ns;
	d->now_call_start_ns = seg->call_start_ns;
	if (c->protocol == PROTO_OPAQUE)
		return 0;
	refused = c->account.refused;
	if (c->protocol == PROTO_UNKNOWN) {
		if (seg->gap_before)
			d->held.len = 0; /* what was held no longer continues: detect afresh */
		if (d->held.len + len > HOLD_LIMIT)
			len = HOLD_LIMIT - d->held.len;
		if (!d->held.len) {
			d->held_time_ns = seg->time_ns;
			d->held_call_start_ns = seg->call_start_ns;
		}
		ct_buf_put(&d->held, data, len);
		if (d->held.failed) {
			over_memory(c);
			return 0;
		}
		r = decide(c);
		if (c->account.refused != refused)
			over_memory(c);
		return r < 0 && r != -ENOMEM ? r : 0;
	}
	if (seg->gap_before)
		gap(c, seg->direction, seg->gap_before);
	r = feed(c, seg->direction, data, len);
	/* the rest of a call beyond the capture cap: inside a body it only counts to the size */
	if (r >= 0 && seg->truncated)
		gap(c, seg->direction, seg->truncated);
	if (c->account.refused != refused)
		over_memory(c);
	return r == -ENOMEM ? 0 : r; /* told on the connection's transactions, and counted */
}

static void conn_finish(struct http_conn *c, uint64_t time_ns)
{
	if (c->protocol == PROTO_HTTP1) {
		c->dir[!request_dir(c)].now_ns = time_ns ? time_ns : c->dir[!request_dir(c)].now_ns;
		http1_finish(&c->requests);
		http1_finish(&c->responses);
		while (c->queue.head) {
			struct http_txn *t = txn_fifo_pop(&c->queue);

			if (!t->response_started)
				http_txn_set_error(t,
						   "no response captured before the session ended");
			else if (!t->response_complete)
				http_txn_set_error(t,
						   "truncated: session ended inside the response");
			emit_txn(c, t);
		}
		take_orphan(c, 0);
		if (c->current_request) {
			/* answered, but the request never ended */
			http_txn_set_error(c->current_request,
					   "truncated: session ended inside the request");
			emit_txn(c, c->current_request);
		}
		http1_parser_free(&c->requests);
		http1_parser_free(&c->responses);
	} else if (c->protocol == PROTO_HTTP2) {
		h2_conn_finish(c->h2);
		h2_conn_free(c->h2);
		c->h2 = NULL;
	}
	release_held(c);
}

void http_sessions_end(struct http_sessions *s, uint32_t tgid, uint64_t session, uint64_t time_ns)
{
	struct http_conn *c = conn_find(s, tgid, session);

	if (!c)
		return;
	conn_finish(c, time_ns);
	conn_remove(s, c);
}

void http_sessions_flush(struct http_sessions *s)
{
	id_table_for_each(&s->conns, n)
	{
		struct http_conn *c = id_entry(n, struct http_conn, node);

		conn_finish(c, 0);
		conn_remove(s, c);
	}
}

void http_sessions_free(struct http_sessions *s)
{
	if (!s)
		return;
	s->on_transaction = NULL; /* nothing is told while tearing down */
	http_sessions_flush(s);
	ct_mem_free(NULL, s->conns.buckets);
	ct_mem_free(NULL, s);
}
