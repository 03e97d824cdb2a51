/* SPDX-License-Identifier: Apache-2.0 */
#include "conn_table.h"
#include "id_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory_budget.h"

/* The first record of one direction of a TLS connection, as it arrives. */
struct hello_buf {
	uint8_t data[CLEARTAP_HELLO_MAX];
	uint32_t filled; /* bytes received (chunks do not overlap) */
	uint32_t head;	 /* bytes received contiguously from the start */
	bool done;
};

struct entry {
	struct id_node node; /* key: the cookie */
	struct conn_info info;
	struct conn_tls *tls;
	struct hello_buf *hello[2]; /* by direction; freed once parsed */
};

struct conn_table {
	struct id_table ids;
};

int conn_table_new(struct conn_table **ret)
{
	struct conn_table *t = ct_mem_zalloc(NULL, sizeof(*t));

	if (!t || id_table_init(&t->ids, 1024) < 0) {
		ct_mem_free(NULL, t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

static void free_entry(struct id_node *n)
{
	struct entry *e = id_entry(n, struct entry, node);

	ct_mem_free(NULL, e->hello[0]);
	ct_mem_free(NULL, e->hello[1]);
	ct_mem_free(NULL, e->tls);
	ct_mem_free(NULL, e);
}

void conn_table_free(struct conn_table *t)
{
	if (!t)
		return;
	id_table_free(&t->ids, free_entry);
	ct_mem_free(NULL, t);
}

static struct entry *find(const struct conn_table *t, uint64_t cookie)
{
	struct id_node *n = id_table_find(&t->ids, cookie);

	return n ? id_entry(n, struct entry, node) : NULL;
}

const struct conn_info *conn_table_get(const struct conn_table *t, uint64_t cookie)
{
	struct entry *e = cookie ? find(t, cookie) : NULL;

	return e ? &e->info : NULL;
}

/* The entry of a cookie, made when a record names a connection whose open was not seen. */
static struct entry *find_or_add(struct conn_table *t, uint64_t cookie)
{
	struct entry *e = find(t, cookie);

	if (e)
		return e;
	e = ct_mem_zalloc(NULL, sizeof(*e));
	if (!e)
		return NULL;
	e->info.cookie = e->node.key = cookie;
	id_table_insert(&t->ids, &e->node);
	return e;
}

int conn_table_apply(struct conn_table *t, const struct cleartap_conn *rec,
		     const struct conn_info **ret_info)
{
	struct entry *e;

	if (!rec->cookie || (rec->family != 2 && rec->family != 10) ||
	    (rec->event != CLEARTAP_CONN_OPEN && rec->event != CLEARTAP_CONN_CLOSE))
		return -EBADMSG;
	e = find_or_add(t, rec->cookie);
	if (!e)
		return -ENOMEM;
	/* At close the kernel has already released the local port: keep what the open said. */
	if (rec->event == CLEARTAP_CONN_OPEN || !e->info.open_ns) {
		e->info.family = rec->family;
		e->info.local_port = rec->local_port;
		e->info.remote_port = rec->remote_port;
		memcpy(e->info.local_addr, rec->local_addr, 16);
		memcpy(e->info.remote_addr, rec->remote_addr, 16);
		/* every record of the connection names them: format once, not per record */
		conn_format_address(rec->family, rec->local_addr, e->info.local_text,
				    sizeof(e->info.local_text));
		conn_format_address(rec->family, rec->remote_addr, e->info.remote_text,
				    sizeof(e->info.remote_text));
	}
	if (rec->event == CLEARTAP_CONN_OPEN) {
		e->info.role = rec->role;
		e->info.open_ns = rec->hdr.timestamp_ns;
		/* a client connects in process context; a server's open happens in softirq */
		e->info.pid = rec->role == CLEARTAP_ROLE_CLIENT ? rec->hdr.tgid : 0;
	} else {
		e->info.closed = true;
		e->info.close_ns = rec->hdr.timestamp_ns;
		e->info.bytes_sent = rec->bytes_sent;
		e->info.bytes_received = rec->bytes_received;
		e->info.stream_length[0] = rec->stream_length[0];
		e->info.stream_length[1] = rec->stream_length[1];
	}
	*ret_info = &e->info;
	return 0;
}

/* Parse a direction's hello once its record is complete; 1 if it was. */
static int hello_complete(struct entry *e, struct hello_buf *b)
{
	struct tls_hello h;
	size_t need;
	int r;

	if (tls_hello_needed(b->data, b->head, CLEARTAP_HELLO_MAX, &need) < 0) {
		r = -EBADMSG;
		goto done;
	}
	if (b->head < 5 || b->filled < need)
		return 0; /* the record's header, or more of the record, is still to come */
	r = tls_hello_parse(b->data, b->filled, &h);
	if (r == 0 && h.type == TLS_CLIENT_HELLO) {
		e->tls->client = h;
		e->tls->have_client = true;
	} else if (r == 0) {
		e->tls->server = h;
		e->tls->have_server = true;
	}
done:
	b->done = true;
	if (r == -EBADMSG)
		e->tls->malformed = true;
	return r < 0 ? r : 1;
}

int conn_table_hello(struct conn_table *t, const struct cleartap_tls_data *rec,
		     const struct conn_info **ret_info)
{
	uint64_t at = rec->stream_offset + rec->chunk_offset;
	struct hello_buf *b;
	struct entry *e;
	int r;

	if (!rec->conn_cookie || rec->direction > CLEARTAP_DIR_READ ||
	    at + rec->chunk_len > CLEARTAP_HELLO_MAX)
		return -EBADMSG;
	e = find_or_add(t, rec->conn_cookie);
	if (!e || (!e->tls && !(e->tls = ct_mem_zalloc(NULL, sizeof(*e->tls)))))
		return -ENOMEM;
	e->info.tls = e->tls;
	if (!e->info.pid)
		e->info.pid = rec->hdr.tgid; /* a server's: its open was seen in softirq */
	*ret_info = &e->info;
	b = e->hello[rec->direction];
	if (!b) {
		b = e->hello[rec->direction] = ct_mem_zalloc(NULL, sizeof(*b));
		if (!b)
			return -ENOMEM;
	}
	if (b->done)
		return 0;
	memcpy(b->data + at, rec->payload, rec->chunk_len);
	b->filled += rec->chunk_len;
	if (at == b->head)
		b->head += rec->chunk_len;
	r = hello_complete(e, b);
	if (r <= 0 || !e->tls->have_client || !e->tls->have_server)
		return r < 0 ? r : 0;
	e->info.handshake_ns = rec->hdr.timestamp_ns;
	return 1;
}

const struct conn_info *conn_table_note_plain(struct conn_table *t, uint64_t cookie, uint32_t pid)
{
	struct entry *e = cookie ? find(t, cookie) : NULL;
	bool late;

	if (!e)
		return NULL;
	late = e->info.closed && !e->info.plain;
	e->info.plain = true;
	e->info.plain_pid = pid;
	if (!e->info.pid)
		e->info.pid = pid;
	return late ? &e->info : NULL;
}

void conn_table_note_tls_plaintext(struct conn_table *t, uint64_t cookie, uint32_t tgid,
				   uint64_t session)
{
	struct entry *e = find(t, cookie);

	if (e) {
		e->info.tls_plaintext = true;
		e->info.tls_tgid = tgid;
		e->info.tls_session = session;
	}
}

const struct conn_info *conn_table_set_plaintext_missed(struct conn_table *t, uint64_t cookie,
							const char *reason)
{
	struct entry *e = find(t, cookie);

	if (!e)
		return NULL;
	e->info.plaintext_missed = reason;
	return &e->info;
}

struct expiry {
	uint64_t now_ns, keep_ns;
};

static bool expired(const struct id_node *n, void *ud)
{
	const struct conn_info *c = &id_entry(n, struct entry, node)->info;
	const struct expiry *x = ud;

	return c->closed && x->now_ns > c->close_ns + x->keep_ns;
}

void conn_table_expire(struct conn_table *t, uint64_t now_ns, uint64_t keep_ns)
{
	struct expiry x = {now_ns, keep_ns};

	id_table_remove_if(&t->ids, expired, &x, free_entry);
}

size_t conn_table_size(const struct conn_table *t)
{
	return t->ids.n;
}

void conn_format_address(uint16_t family, const uint8_t addr[16], char *buf, size_t size)
{
	if (!inet_ntop(family == 10 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

void conn_format_endpoint(uint16_t family, const uint8_t addr[16], uint16_t port, char *buf,
			  size_t size)
{
	char a[INET6_ADDRSTRLEN];

	conn_format_address(family, addr, a, sizeof(a));
	snprintf(buf, size, family == 10 ? "[%s]:%u" : "%s:%u", a, port);
}
