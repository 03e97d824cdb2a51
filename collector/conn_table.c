/* SPDX-License-Identifier: Apache-2.0 */
#include "conn_table.h"
#include "id_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct id_node node; /* key: the cookie */
	struct conn_info info;
};

struct conn_table {
	struct id_table ids;
};

int conn_table_new(struct conn_table **ret)
{
	struct conn_table *t = calloc(1, sizeof(*t));

	if (!t || id_table_init(&t->ids) < 0) {
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

static void free_entry(struct id_node *n)
{
	free(id_entry(n, struct entry, node));
}

void conn_table_free(struct conn_table *t)
{
	if (!t)
		return;
	id_table_free(&t->ids, free_entry);
	free(t);
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

int conn_table_apply(struct conn_table *t, const struct cleartap_conn *rec,
		     const struct conn_info **ret_info)
{
	struct entry *e;

	if (!rec->cookie || (rec->family != 2 && rec->family != 10) ||
	    (rec->event != CLEARTAP_CONN_OPEN && rec->event != CLEARTAP_CONN_CLOSE))
		return -EBADMSG;
	e = find(t, rec->cookie);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->info.cookie = e->node.key = rec->cookie;
		id_table_insert(&t->ids, &e->node);
	}
	/* At close the kernel has already released the local port: keep what the open said. */
	if (rec->event == CLEARTAP_CONN_OPEN || !e->info.open_ns) {
		e->info.family = rec->family;
		e->info.local_port = rec->local_port;
		e->info.remote_port = rec->remote_port;
		memcpy(e->info.local_addr, rec->local_addr, 16);
		memcpy(e->info.remote_addr, rec->remote_addr, 16);
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
	}
	*ret_info = &e->info;
	return 0;
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
