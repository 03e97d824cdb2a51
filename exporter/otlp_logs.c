/* SPDX-License-Identifier: Apache-2.0 */
#include "otlp_logs.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ct_macro.h"
#include "otlp_logs.pb-c.h"

typedef Cleartap__Otlp__V1__AnyValue any_value;
typedef Cleartap__Otlp__V1__KeyValue key_value;

/* A log record's attributes beyond these are counted in dropped_attributes_count. */
#define MAX_ATTRIBUTES	192
#define MAX_ARRAY_ITEMS 256
#define ARENA_BYTES	16384

/* protobuf-c messages point at their parts: one record's parts live here (single-threaded). */
static struct scratch {
	key_value kv[MAX_ATTRIBUTES];
	key_value *kvp[MAX_ATTRIBUTES];
	any_value value[MAX_ATTRIBUTES];
	Cleartap__Otlp__V1__ArrayValue array[MAX_ATTRIBUTES];
	any_value item[MAX_ARRAY_ITEMS];
	any_value *itemp[MAX_ARRAY_ITEMS];
	size_t n, n_arrays, n_items, arena_len;
	uint32_t dropped;
	char arena[ARENA_BYTES]; /* keys and values made here (header keys, url parts) */
} scratch;

static void scratch_reset(struct scratch *s)
{
	s->n = s->n_arrays = s->n_items = s->arena_len = 0;
	s->dropped = 0;
}

/* A NUL-terminated copy of n bytes in the arena; NULL when it is full. */
static char *arena_strndup(struct scratch *s, const char *p, size_t n)
{
	char *r;

	if (n + 1 > sizeof(s->arena) - s->arena_len)
		return NULL;
	r = s->arena + s->arena_len;
	memcpy(r, p, n);
	r[n] = '\0';
	s->arena_len += n + 1;
	return r;
}

static char *arena_printf(struct scratch *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *arena_printf(struct scratch *s, const char *fmt, ...)
{
	size_t room = sizeof(s->arena) - s->arena_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->arena + s->arena_len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return NULL;
	s->arena_len += (size_t)n + 1;
	return s->arena + s->arena_len - (size_t)n - 1;
}

/* The value of a new attribute key; NULL (and counted as dropped) when none fits. */
static any_value *attr_new(struct scratch *s, const char *key)
{
	key_value *kv;

	if (!key || s->n == MAX_ATTRIBUTES) {
		s->dropped++;
		return NULL;
	}
	kv = &s->kv[s->n];
	cleartap__otlp__v1__key_value__init(kv);
	cleartap__otlp__v1__any_value__init(&s->value[s->n]);
	kv->key = (char *)key;
	kv->value = &s->value[s->n];
	s->kvp[s->n] = kv;
	return &s->value[s->n++];
}

static void attr_str(struct scratch *s, const char *key, const char *v)
{
	any_value *a;

	if (!v || !*v || !(a = attr_new(s, key)))
		return;
	a->value_case = CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE;
	a->string_value = (char *)v;
}

static void attr_int(struct scratch *s, const char *key, int64_t v)
{
	any_value *a = attr_new(s, key);

	if (!a)
		return;
	a->value_case = CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_INT_VALUE;
	a->int_value = v;
}

static void attr_bool(struct scratch *s, const char *key, bool v)
{
	any_value *a;

	if (!v || !(a = attr_new(s, key)))
		return;
	a->value_case = CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_BOOL_VALUE;
	a->bool_value = true;
}

/* Text as a string, anything else as bytes; nothing for empty data. */
static void set_text_or_bytes(any_value *a, const ProtobufCBinaryData *d, const char *text)
{
	if (text && *text) {
		a->value_case = CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE;
		a->string_value = (char *)text;
	} else {
		a->value_case = CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_BYTES_VALUE;
		a->bytes_value = *d;
	}
}

static void attr_body(struct scratch *s, const char *key, const ProtobufCBinaryData *d,
		      const char *text)
{
	any_value *a;

	if ((!text || !*text) && !d->len)
		return;
	if ((a = attr_new(s, key)))
		set_text_or_bytes(a, d, text);
}

static void attr_endpoint(struct scratch *s, const char *address_key, const char *port_key,
			  const Cleartap__V1__Endpoint *ep)
{
	if (!ep || !ep->address || !*ep->address)
		return;
	attr_str(s, address_key, ep->address);
	if (ep->port)
		attr_int(s, port_key, ep->port);
}

static const char *name_of(const Cleartap__V1__Header *h)
{
	return h->name ? h->name : "";
}

/* A new array-valued attribute key; NULL (counted as dropped) when none fits. */
static Cleartap__Otlp__V1__ArrayValue *attr_array(struct scratch *s, const char *key)
{
	Cleartap__Otlp__V1__ArrayValue *array;
	any_value *a = attr_new(s, key);

	if (!a)
		return NULL;
	array = &s->array[s->n_arrays++]; /* one per attribute at most: it always fits */
	cleartap__otlp__v1__array_value__init(array);
	array->values = &s->itemp[s->n_items];
	a->value_case = CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
	a->array_value = array;
	return array;
}

/* The next item of array, the one begun last; NULL (counted as dropped) when none fits. */
static any_value *array_item(struct scratch *s, Cleartap__Otlp__V1__ArrayValue *array)
{
	any_value *item;

	if (s->n_items == MAX_ARRAY_ITEMS) { /* shared by every array of the record */
		s->dropped++;
		return NULL;
	}
	item = &s->item[s->n_items];
	cleartap__otlp__v1__any_value__init(item);
	s->itemp[s->n_items++] = item;
	array->n_values++;
	return item;
}

/* Headers as http.{request,response}.header.<lowercase name>: string[] (one item per field). */
static void attr_headers(struct scratch *s, const char *prefix, Cleartap__V1__Header **h, size_t n)
{
	bool done[MAX_ARRAY_ITEMS] = {false};

	if (n > MAX_ARRAY_ITEMS) {
		s->dropped += (uint32_t)(n - MAX_ARRAY_ITEMS);
		n = MAX_ARRAY_ITEMS;
	}
	for (size_t i = 0; i < n; i++) {
		Cleartap__Otlp__V1__ArrayValue *array;
		char *key;

		if (done[i])
			continue;
		key = arena_printf(s, "%s%s", prefix, name_of(h[i]));
		if (key)
			for (char *c = key + strlen(prefix); *c; c++)
				*c = (char)tolower((unsigned char)*c);
		if (!(array = attr_array(s, key)))
			continue;
		for (size_t j = i; j < n; j++) {
			any_value *item;

			if (done[j] || strcasecmp(name_of(h[j]), name_of(h[i])))
				continue;
			done[j] = true;
			if (!(item = array_item(s, array)))
				continue;
			set_text_or_bytes(item, &h[j]->value_bytes, h[j]->value ? h[j]->value : "");
			if (item->value_case == CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_BYTES_VALUE &&
			    !item->bytes_value.len) { /* an empty value is an empty string */
				item->value_case =
				    CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE;
				item->string_value = "";
			}
		}
	}
}

static void attr_process(struct scratch *s, const Cleartap__V1__ProcessRef *p)
{
	if (!p)
		return;
	if (p->pid)
		attr_int(s, "process.pid", p->pid);
	if (p->tid)
		attr_int(s, "thread.id", p->tid);
	attr_str(s, "process.executable.name", p->comm);
	attr_str(s, "process.executable.path", p->exe);
	if (p->container_id && strcmp(p->container_id, "host") != 0)
		attr_str(s, "container.id", p->container_id);
	if (p->kubernetes) {
		attr_str(s, "k8s.pod.name", p->kubernetes->pod);
		attr_str(s, "k8s.namespace.name", p->kubernetes->pod_namespace);
		attr_str(s, "k8s.container.name", p->kubernetes->container);
	}
}

/* The methods HTTP semantic conventions name; any other is "_OTHER" plus the original. */
static bool known_method(const char *m)
{
	static const char *const known[] = {"GET",     "HEAD",	  "POST",  "PUT",  "DELETE",
					    "CONNECT", "OPTIONS", "TRACE", "PATCH"};

	for (size_t i = 0; i < CT_ARRAY_SIZE(known); i++)
		if (strcmp(m, known[i]) == 0)
			return true;
	return false;
}

/* The host of an authority ("h", "h:p", "[v6]:p"), its port in *ret_port (0: none given). */
static char *authority_host(struct scratch *s, const char *a, uint32_t *ret_port)
{
	const char *colon, *end = a + strlen(a), *host = a;

	*ret_port = 0;
	if (*a == '[') {
		const char *close = strchr(a, ']');

		if (!close)
			return arena_strndup(s, a, strlen(a));
		host = a + 1;
		colon = close[1] == ':' ? close + 1 : NULL;
		end = close;
	} else {
		colon = strrchr(a, ':');
		if (colon)
			end = colon;
	}
	if (colon) {
		char *tail;
		unsigned long port = strtoul(colon + 1, &tail, 10);

		if (*tail == '\0' && tail != colon + 1 && port <= 65535)
			*ret_port = (uint32_t)port;
	}
	return arena_strndup(s, host, (size_t)(end - host));
}

static Cleartap__Otlp__V1__SeverityNumber severity(const char **ret_text, int level)
{
	static const char *const text[] = {"INFO", "WARN", "ERROR"};
	static const Cleartap__Otlp__V1__SeverityNumber number[] = {
	    CLEARTAP__OTLP__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO,
	    CLEARTAP__OTLP__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN,
	    CLEARTAP__OTLP__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR};

	*ret_text = text[level];
	return number[level];
}

/* ERROR for 5xx and incomplete exchanges, WARN for 4xx, else INFO. */
static int http_level(const Cleartap__V1__HttpTransaction *h)
{
	return (h->error && *h->error) || h->status >= 500 ? 2 : h->status >= 400 ? 1 : 0;
}

static const char *user_agent(const Cleartap__V1__HttpTransaction *h)
{
	for (size_t i = 0; i < h->n_request_headers; i++)
		if (strcasecmp(name_of(h->request_headers[i]), "user-agent") == 0)
			return h->request_headers[i]->value;
	return NULL;
}

static void http_attributes(struct scratch *s, const Cleartap__V1__HttpTransaction *h)
{
	const char *path = h->path ? h->path : "", *query = strchr(path, '?');
	const Cleartap__V1__Endpoint *server_ep = h->server_side ? h->local : h->remote;
	uint32_t port = 0;
	const char *host =
	    h->authority && *h->authority ? authority_host(s, h->authority, &port) : NULL;

	if (h->method && *h->method) {
		bool known = known_method(h->method);

		attr_str(s, "http.request.method", known ? h->method : "_OTHER");
		if (!known)
			attr_str(s, "http.request.method_original", h->method);
	}
	attr_str(s, "url.scheme", h->scheme);
	attr_str(s, "url.path", query ? arena_strndup(s, path, (size_t)(query - path)) : path);
	if (query && query[1])
		attr_str(s, "url.query", query + 1);
	if (!h->server_side && host && *path)
		attr_str(s, "url.full",
			 arena_printf(s, "%s://%s%s", h->scheme && *h->scheme ? h->scheme : "https",
				      h->authority, path));
	if (!host && server_ep)
		host = server_ep->address;
	if (!port && server_ep)
		port = server_ep->port;
	attr_str(s, "server.address", host);
	if (port)
		attr_int(s, "server.port", port);
	if (h->server_side)
		attr_endpoint(s, "client.address", "client.port", h->remote);
	attr_endpoint(s, "network.peer.address", "network.peer.port", h->remote);
	attr_endpoint(s, "network.local.address", "network.local.port", h->local);
	attr_str(s, "network.transport", "tcp");
	if (h->protocol && strncmp(h->protocol, "HTTP/", 5) == 0) {
		attr_str(s, "network.protocol.name", "http");
		attr_str(s, "network.protocol.version", h->protocol + 5);
	}
	if (h->status)
		attr_int(s, "http.response.status_code", h->status);
	if (h->error && *h->error)
		attr_str(s, "error.type", "cleartap.http.incomplete");
	else if (h->status >= 500 || (!h->server_side && h->status >= 400))
		attr_str(s, "error.type", arena_printf(s, "%u", h->status));
	attr_int(s, "http.request.body.size", (int64_t)h->request_body_size);
	if (h->status)
		attr_int(s, "http.response.body.size", (int64_t)h->response_body_size);
	attr_str(s, "user_agent.original", user_agent(h));
	if (h->grpc) {
		attr_str(s, "rpc.system", "grpc");
		attr_str(s, "rpc.service", h->grpc->service);
		attr_str(s, "rpc.method", h->grpc->method);
		if (h->grpc->status)
			attr_int(s, "rpc.grpc.status_code", h->grpc->status->code);
	}
	attr_process(s, h->process);
	attr_str(s, "cleartap.http.role", h->server_side ? "server" : "client");
	if (h->connection_id)
		attr_int(s, "cleartap.connection.id", (int64_t)h->connection_id);
	if (h->stream_id)
		attr_int(s, "cleartap.http2.stream_id", h->stream_id);
	if (h->request_start_unix_nano && h->response_first_byte_unix_nano)
		attr_int(s, "cleartap.http.time_to_first_byte_ns",
			 (int64_t)(h->response_first_byte_unix_nano - h->request_start_unix_nano));
	if (h->request_start_unix_nano && h->response_end_unix_nano)
		attr_int(s, "cleartap.http.duration_ns",
			 (int64_t)(h->response_end_unix_nano - h->request_start_unix_nano));
	attr_str(s, "cleartap.http.error", h->error);
	attr_str(s, "cleartap.http.capture_level", h->capture_level);
	if (h->gap_bytes)
		attr_int(s, "cleartap.http.gap_bytes", (int64_t)h->gap_bytes);
	attr_bool(s, "cleartap.http.resynchronised", h->resynchronised);
	attr_bool(s, "cleartap.http.request.body.truncated", h->request_body_truncated);
	attr_bool(s, "cleartap.http.response.body.truncated", h->response_body_truncated);
	attr_str(s, "cleartap.http.response.body.decoding", h->response_body_decoding);
	attr_body(s, "cleartap.http.request.body", &h->request_body, h->request_body_text);
	attr_body(s, "cleartap.http.response.body", &h->response_body, h->response_body_text);
	attr_headers(s, "http.request.header.", h->request_headers, h->n_request_headers);
	attr_headers(s, "http.response.header.", h->response_headers, h->n_response_headers);
}

static const char *connection_event(const Cleartap__V1__Connection *c)
{
	return c->closed ? "close" : c->handshake ? "handshake" : "open";
}

static void connection_attributes(struct scratch *s, const Cleartap__V1__Connection *c)
{
	attr_int(s, "cleartap.connection.id", (int64_t)c->id);
	attr_str(s, "cleartap.connection.event", connection_event(c));
	if (c->pid)
		attr_int(s, "process.pid", c->pid);
	attr_str(s, "network.transport", "tcp");
	attr_endpoint(s, "network.local.address", "network.local.port", c->local);
	attr_endpoint(s, "network.peer.address", "network.peer.port", c->remote);
	if (c->role != CLEARTAP__V1__CONNECTION__ROLE__ROLE_UNSPECIFIED)
		attr_str(s, "cleartap.connection.role",
			 c->role == CLEARTAP__V1__CONNECTION__ROLE__ROLE_CLIENT ? "client"
										: "server");
	if (c->tls) {
		attr_str(s, "tls.protocol.name", "tls");
		if (c->tls_version && strncmp(c->tls_version, "TLSv", 4) == 0)
			attr_str(s, "tls.protocol.version", c->tls_version + 4);
		attr_str(s, "tls.client.server_name", c->server_name);
		attr_str(s, "tls.next_protocol", c->alpn);
		if (c->cipher_suite)
			attr_int(s, "cleartap.tls.cipher_suite", c->cipher_suite);
	}
	attr_bool(s, "cleartap.connection.plaintext", c->plaintext);
	attr_bool(s, "cleartap.tls.malformed", c->tls_malformed);
	if (c->closed) {
		attr_int(s, "cleartap.connection.bytes_sent", (int64_t)c->bytes_sent);
		attr_int(s, "cleartap.connection.bytes_received", (int64_t)c->bytes_received);
	}
	attr_str(s, "cleartap.connection.plaintext_missed", c->plaintext_missed);
}

/* Every counter of a counters message, as prefix + its field name (the proto's own names). */
static void counter_attributes(struct scratch *s, const char *prefix, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d;

	if (!m)
		return;
	d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->type == PROTOBUF_C_TYPE_UINT64 && f->label != PROTOBUF_C_LABEL_REPEATED)
			attr_int(s, arena_printf(s, "%s%s", prefix, f->name),
				 (int64_t) * (const uint64_t *)((const char *)m + f->offset));
	}
}

static void attr_strings(struct scratch *s, const char *key, char **v, size_t n)
{
	Cleartap__Otlp__V1__ArrayValue *array;
	any_value *item;

	if (!n || !(array = attr_array(s, key)))
		return;
	for (size_t i = 0; i < n; i++)
		if ((item = array_item(s, array))) {
			item->value_case = CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE;
			item->string_value = v[i];
		}
}

static void stats_attributes(struct scratch *s, const Cleartap__V1__Stats *st)
{
	attr_str(s, "cleartap.schema_version", st->schema_version);
	attr_bool(s, "cleartap.final", st->final);
	if (st->kernel)
		counter_attributes(s, "cleartap.kernel.", &st->kernel->base);
	if (st->collector)
		counter_attributes(s, "cleartap.collector.", &st->collector->base);
	attr_strings(s, "cleartap.kernel_degraded", st->kernel_degraded, st->n_kernel_degraded);
}

static void put_varint(struct ct_buf *out, uint64_t v)
{
	do {
		ct_buf_putc(out, (char)((v & 0x7f) | (v >> 7 ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static size_t varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

/* A length-delimited field: tag (field number, wire type 2) and length. */
static void put_field_head(struct ct_buf *out, unsigned field, uint64_t len)
{
	put_varint(out, (uint64_t)field << 3 | 2);
	put_varint(out, len);
}

/* Bytes a length-delimited field of len bytes takes (field numbers below 16: one tag byte). */
static size_t field_size(size_t len)
{
	return 1 + varint_size(len) + len;
}

#define LOG_RECORDS_FIELD 2 /* ScopeLogs.log_records */

static int pack_log(struct scratch *s, Cleartap__Otlp__V1__LogRecord *log, const char *body,
		    struct ct_buf *out)
{
	any_value body_value;
	uint8_t *p;
	size_t len;

	if (body) {
		cleartap__otlp__v1__any_value__init(&body_value);
		body_value.value_case = CLEARTAP__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE;
		body_value.string_value = (char *)body;
		log->body = &body_value;
	}
	log->attributes = s->kvp;
	log->n_attributes = s->n;
	log->dropped_attributes_count = s->dropped;
	len = protobuf_c_message_get_packed_size(&log->base);
	put_field_head(out, LOG_RECORDS_FIELD, len);
	p = ct_buf_extend(out, len);
	if (p)
		protobuf_c_message_pack(&log->base, p);
	return out->failed ? -ENOMEM : 0;
}

static void log_init(Cleartap__Otlp__V1__LogRecord *log, const char *event, uint64_t time_ns,
		     uint64_t observed_ns, int level)
{
	const char *text;

	cleartap__otlp__v1__log_record__init(log);
	log->event_name = (char *)event;
	log->time_unix_nano = time_ns;
	log->observed_time_unix_nano = observed_ns;
	log->severity_number = severity(&text, level);
	log->severity_text = (char *)text;
}

int otlp_log_from_record(const Cleartap__V1__Record *rec, uint64_t observed_unix_ns,
			 struct ct_buf *out)
{
	struct scratch *s = &scratch;
	Cleartap__Otlp__V1__LogRecord log;
	const char *body = NULL;

	scratch_reset(s);
	switch (rec->kind_case) {
	case CLEARTAP__V1__RECORD__KIND_HTTP: {
		const Cleartap__V1__HttpTransaction *h = rec->http;

		log_init(&log, "cleartap.http.transaction",
			 h->request_start_unix_nano ? h->request_start_unix_nano
						    : h->response_first_byte_unix_nano,
			 observed_unix_ns, http_level(h));
		http_attributes(s, h);
		body = h->status ? arena_printf(s, "%s %s %u", h->method, h->path, h->status)
				 : arena_printf(s, "%s %s (%s)", h->method, h->path,
						h->error && *h->error ? h->error : "no response");
		break;
	}
	case CLEARTAP__V1__RECORD__KIND_CONNECTION: {
		const Cleartap__V1__Connection *c = rec->connection;
		const Cleartap__V1__Endpoint none = CLEARTAP__V1__ENDPOINT__INIT;
		const Cleartap__V1__Endpoint *l = c->local ? c->local : &none,
					     *r = c->remote ? c->remote : &none;

		log_init(&log, "cleartap.connection", c->time_unix_nano, observed_unix_ns, 0);
		connection_attributes(s, c);
		body = arena_printf(s, "connection %s %s:%u -> %s:%u", connection_event(c),
				    l->address, l->port, r->address, r->port);
		break;
	}
	case CLEARTAP__V1__RECORD__KIND_STATS:
		log_init(&log, "cleartap.collector.stats", rec->stats->time_unix_nano,
			 observed_unix_ns, 0);
		stats_attributes(s, rec->stats);
		break;
	default:
		return -ENOENT;
	}
	return pack_log(s, &log, body, out);
}

const struct export_counter_field export_counter_fields[] = {
#define COUNTER(name)                                                                              \
	{                                                                                          \
#name, offsetof(struct export_counters, name)                                      \
	}
    COUNTER(received), COUNTER(skipped), COUNTER(malformed),	      COUNTER(oversized),
    COUNTER(queued),   COUNTER(sent),	 COUNTER(requests),	      COUNTER(retries),
    COUNTER(rejected), COUNTER(failed),	 COUNTER(dropped_queue_full), COUNTER(refused_clients),
#undef COUNTER
};
const size_t export_counter_fields_count = CT_ARRAY_SIZE(export_counter_fields);

uint64_t export_counter_value(const struct export_counters *c, size_t i)
{
	return *(const uint64_t *)((const char *)c + export_counter_fields[i].offset);
}

int otlp_log_from_counters(const struct export_counters *c, uint64_t now_unix_ns, bool final,
			   struct ct_buf *out)
{
	struct scratch *s = &scratch;
	Cleartap__Otlp__V1__LogRecord log;

	scratch_reset(s);
	log_init(&log, "cleartap.export.stats", now_unix_ns, now_unix_ns, 0);
	for (size_t i = 0; i < export_counter_fields_count; i++)
		attr_int(s, arena_printf(s, "cleartap.export.%s", export_counter_fields[i].name),
			 (int64_t)export_counter_value(c, i));
	attr_bool(s, "cleartap.final", final);
	return pack_log(s, &log, NULL, out);
}

size_t otlp_framed_record_size(const uint8_t *p)
{
	uint64_t len = 0;
	size_t i = 1; /* the tag: one byte for field 2 */

	for (unsigned shift = 0;; shift += 7) {
		len |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i++] & 0x80))
			break;
	}
	return i + (size_t)len;
}

int otlp_resource_pack(const char *host_name, const char *const *extra, size_t n_extra,
		       struct ct_buf *ret_resource)
{
	struct scratch *s = &scratch;
	Cleartap__Otlp__V1__Resource resource;
	uint8_t *p;
	size_t len;

	scratch_reset(s);
	cleartap__otlp__v1__resource__init(&resource);
	for (size_t i = 0; i < n_extra; i++) {
		const char *eq = strchr(extra[i], '=');

		if (!eq || eq == extra[i])
			return -EINVAL;
		attr_str(s, arena_strndup(s, extra[i], (size_t)(eq - extra[i])), eq + 1);
	}
	/* the operator's own service.name or host.name wins */
	for (size_t i = 0; i < 2; i++) {
		const char *key = i ? "host.name" : "service.name";
		bool given = false;

		for (size_t j = 0; j < s->n; j++)
			given |= strcmp(s->kv[j].key, key) == 0;
		if (!given)
			attr_str(s, key, i ? host_name : "cleartap");
	}
	resource.attributes = s->kvp;
	resource.n_attributes = s->n;
	ct_buf_reset(ret_resource);
	len = protobuf_c_message_get_packed_size(&resource.base);
	p = ct_buf_extend(ret_resource, len);
	if (!p)
		return -ENOMEM;
	protobuf_c_message_pack(&resource.base, p);
	return 0;
}

void otlp_request_write(struct ct_buf *out, const struct ct_buf *resource, const uint8_t *records,
			size_t records_len)
{
	static const char name[] = "cleartap", version[] = CLEARTAP_VERSION;
	size_t scope_len = field_size(strlen(name)) + field_size(strlen(version));
	size_t scope_logs_len = field_size(scope_len) + records_len;
	size_t resource_logs_len = field_size(resource->len) + field_size(scope_logs_len);

	ct_buf_reset(out);
	put_field_head(out, 1, resource_logs_len); /* ExportLogsServiceRequest.resource_logs */
	put_field_head(out, 1, resource->len);	   /* ResourceLogs.resource */
	ct_buf_put(out, resource->data, resource->len);
	put_field_head(out, 2, scope_logs_len); /* ResourceLogs.scope_logs */
	put_field_head(out, 1, scope_len);	/* ScopeLogs.scope: InstrumentationScope */
	put_field_head(out, 1, strlen(name));
	ct_buf_puts(out, name);
	put_field_head(out, 2, strlen(version));
	ct_buf_puts(out, version);
	ct_buf_put(out, records, records_len); /* ScopeLogs.log_records, framed as they came */
}

int64_t otlp_response_rejected(const uint8_t *body, size_t len, char *message, size_t message_size)
{
	Cleartap__Otlp__V1__ExportLogsServiceResponse *r =
	    cleartap__otlp__v1__export_logs_service_response__unpack(NULL, len, body);
	int64_t rejected = 0;

	if (message_size)
		message[0] = '\0';
	if (!r)
		return 0;
	if (r->partial_success) {
		rejected = r->partial_success->rejected_log_records;
		if (message_size && r->partial_success->error_message)
			snprintf(message, message_size, "%s", r->partial_success->error_message);
	}
	cleartap__otlp__v1__export_logs_service_response__free_unpacked(r, NULL);
	return rejected;
}
