/* SPDX-License-Identifier: Apache-2.0 */
#include "conn_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	struct conn_info info;
};

struct conn_table {
	struct entry **buckets;
	size_t n_buckets, n;
};

static size_t bucket(const struct conn_table *t, uint64_t cookie)
{
	return (size_t)((cookie * 0x9e3779b97f4a7c15ULL) >> 40) & (t->n_buckets - 1);
}

int conn_table_new(struct conn_table **ret)
{
	struct conn_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->n_buckets = 1024;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

void conn_table_free(struct conn_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct entry *e = t->buckets[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(t->buckets);
	free(t);
}

static void grow(struct conn_table *t)
{
	size_t old = t->n_buckets;
	struct entry **old_buckets = t->buckets;
	struct entry **buckets = calloc(old * 2, sizeof(*buckets));

	if (!buckets)
		return;
	t->buckets = buckets;
	t->n_buckets = old * 2;
	for (size_t i = 0; i < old; i++)
		for (struct entry *e = old_buckets[i], *next; e; e = next) {
			size_t b = bucket(t, e->info.cookie);

			next = e->next;
			e->next = buckets[b];
			buckets[b] = e;
		}
	free(old_buckets);
}

static struct entry *find(const struct conn_table *t, uint64_t cookie)
{
	for (struct entry *e = t->buckets[bucket(t, cookie)]; e; e = e->next)
		if (e->info.cookie == cookie)
			return e;
	return NULL;
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
		size_t b;

		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->info.cookie = rec->cookie;
		b = bucket(t, rec->cookie);
		e->next = t->buckets[b];
		t->buckets[b] = e;
		if (++t->n > t->n_buckets)
			grow(t);
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

void conn_table_expire(struct conn_table *t, uint64_t now_ns, uint64_t keep_ns)
{
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct entry **p = &t->buckets[i]; *p;) {
			struct entry *e = *p;

			if (e->info.closed && now_ns > e->info.close_ns + keep_ns) {
				*p = e->next;
				free(e);
				t->n--;
			} else {
				p = &e->next;
			}
		}
}

size_t conn_table_size(const struct conn_table *t)
{
	return t->n;
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
