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
#include "tls_hello.h"

/* What the hellos of a TLS connection said, each once parsed. */
struct conn_tls {
	struct tls_hello client, server;
	bool have_client, have_server;
	bool malformed; /* a hello could not be parsed */
};

struct conn_info {
	uint64_t cookie;
	uint16_t family, local_port, remote_port;
	uint8_t local_addr[16], remote_addr[16];
	char local_text[46], remote_text[46]; /* the addresses as text (INET6_ADDRSTRLEN) */
	uint8_t role; /* enum cleartap_conn_role, 0 when only the close was seen */
	uint32_t pid; /* the connecting process; a server's once data or a hello named it */
	uint64_t open_ns, close_ns;
	uint64_t bytes_sent, bytes_received;
	uint64_t stream_length[2]; /* plain TCP, at close: bytes moved by syscalls (0: unknown) */
	bool closed;
	bool plain;		    /* carried plain TCP data (captured from syscalls) */
	uint32_t plain_pid;	    /* the last process that moved it: whose streams end at close */
	uint64_t handshake_ns;	    /* when the second hello completed */
	const struct conn_tls *tls; /* NULL until a hello was seen */
	bool tls_plaintext;	    /* TLS plaintext was captured on it */
	uint32_t tls_tgid;	    /* whose TLS session that was (the last one, if several) */
	uint64_t tls_session;
	const char *plaintext_missed; /* a TLS connection no probe saw: why (see tls_coverage) */
};

struct conn_table;

int conn_table_new(struct conn_table **ret);
void conn_table_free(struct conn_table *t);

/* Apply an open or close record; *ret_info is the updated entry. -ENOMEM, -EBADMSG. */
int conn_table_apply(struct conn_table *t, const struct cleartap_conn *rec,
		     const struct conn_info **ret_info);

/*
 * A tls_hello record (validated). 1 when it completed the second of the two hellos, 0 when
 * more is awaited; -EBADMSG for a malformed hello (remembered in tls->malformed), -ENOMEM.
 */
int conn_table_hello(struct conn_table *t, const struct cleartap_tls_data *rec,
		     const struct conn_info **ret_info);

/*
 * Plain TCP data moved by process pid on the connection, as its record arrives. Returns the
 * connection when it had closed before any of its plain data arrived (drained from another
 * ring after the close record): its streams are to end now, as they would have at the close.
 * NULL otherwise.
 */
const struct conn_info *conn_table_note_plain(struct conn_table *t, uint64_t cookie, uint32_t pid);

/* TLS plaintext of process tgid's session was captured on the connection (nothing when the
 * connection is not known): the session ends with the connection's close. */
void conn_table_note_tls_plaintext(struct conn_table *t, uint64_t cookie, uint32_t tgid,
				   uint64_t session);

/* Say why none of a known connection's plaintext was captured (a static string, or NULL). */
const struct conn_info *conn_table_set_plaintext_missed(struct conn_table *t, uint64_t cookie,
							const char *reason);

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
