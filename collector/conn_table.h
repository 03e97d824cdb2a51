/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP connections by socket cookie, from the kernel's open/close records: what data and
 * transactions are attributed with. Closed connections are kept a while, since their last data
 * and their HTTP exchanges are often reported after the close.
 */
#ifndef CT_CONN_TABLE_H
#define CT_CONN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleartap/events.h"

struct conn_info {
	uint64_t cookie;
	uint16_t family, local_port, remote_port;
	uint8_t local_addr[16], remote_addr[16];
	uint8_t role; /* enum cleartap_conn_role, 0 when only the close was seen */
	uint32_t pid; /* the connecting process (client role) */
	uint64_t open_ns, close_ns;
	uint64_t bytes_sent, bytes_received;
	bool closed;
};

struct conn_table;

int conn_table_new(struct conn_table **ret);
void conn_table_free(struct conn_table *t);

/* Apply an open or close record; *ret_info is the updated entry. -ENOMEM, -EBADMSG. */
int conn_table_apply(struct conn_table *t, const struct cleartap_conn *rec,
		     const struct conn_info **ret_info);

const struct conn_info *conn_table_get(const struct conn_table *t, uint64_t cookie);

/* Forget connections closed more than keep_ns before now_ns. */
void conn_table_expire(struct conn_table *t, uint64_t now_ns, uint64_t keep_ns);

size_t conn_table_size(const struct conn_table *t);

/* "127.0.0.1:443" or "[::1]:443" into buf (at least 64 bytes). */
void conn_format_endpoint(uint16_t family, const uint8_t addr[16], uint16_t port, char *buf,
			  size_t size);

/* The address alone ("127.0.0.1", "::1"). */
void conn_format_address(uint16_t family, const uint8_t addr[16], char *buf, size_t size);

#endif
