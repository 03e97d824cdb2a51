/* SPDX-License-Identifier: Apache-2.0 */
/* Connections by socket cookie: open, close, expiry, endpoint formatting, bad records. */
#include <errno.h>

#include "conn_table.h"
#include "ct_test.h"

static struct cleartap_conn record(uint64_t cookie, uint8_t event, uint16_t family)
{
	struct cleartap_conn r = {
	    .hdr = {.type = CLEARTAP_REC_CONN, .timestamp_ns = 100, .tgid = 7},
	    .cookie = cookie,
	    .family = family,
	    .local_port = 40000,
	    .remote_port = 443,
	    .role = CLEARTAP_ROLE_CLIENT,
	    .event = event};

	if (family == 2) {
		memcpy(r.local_addr, "\x7f\x00\x00\x01", 4);
		memcpy(r.remote_addr, "\x0a\x01\x02\x03", 4);
	} else {
		r.local_addr[15] = 1;
		r.remote_addr[0] = 0x20, r.remote_addr[1] = 0x01, r.remote_addr[15] = 5;
	}
	return r;
}

static void test_open_close_expire(void)
{
	struct conn_table *t;
	const struct conn_info *info;
	struct cleartap_conn open = record(11, CLEARTAP_CONN_OPEN, 2);
	struct cleartap_conn close = record(11, CLEARTAP_CONN_CLOSE, 2);
	char buf[64];

	CHECK(conn_table_new(&t) == 0);
	CHECK(conn_table_apply(t, &open, &info) == 0);
	CHECK_U64(info->pid, 7);
	CHECK(!info->closed);
	conn_format_endpoint(info->family, info->local_addr, info->local_port, buf, sizeof(buf));
	CHECK_STR(buf, "127.0.0.1:40000");
	conn_format_endpoint(info->family, info->remote_addr, info->remote_port, buf, sizeof(buf));
	CHECK_STR(buf, "10.1.2.3:443");
	close.hdr.timestamp_ns = 1000;
	close.bytes_sent = 10;
	close.bytes_received = 20;
	close.role = 0;
	close.local_port = 0; /* released by the kernel before the close is reported */
	CHECK(conn_table_apply(t, &close, &info) == 0);
	CHECK_U64(info->local_port, 40000);
	CHECK(info->closed && info->bytes_sent == 10 && info->bytes_received == 20);
	CHECK_U64(info->role, CLEARTAP_ROLE_CLIENT); /* known from the open */
	conn_table_expire(t, 1500, 1000);
	CHECK(conn_table_get(t, 11) != NULL); /* closed 500 ns ago: kept */
	conn_table_expire(t, 2500, 1000);
	CHECK(conn_table_get(t, 11) == NULL);
	CHECK_U64(conn_table_size(t), 0);
	conn_table_free(t);
}

static void test_ipv6_and_bad_records(void)
{
	struct conn_table *t;
	const struct conn_info *info;
	struct cleartap_conn r = record(12, CLEARTAP_CONN_OPEN, 10);
	char buf[64];

	CHECK(conn_table_new(&t) == 0);
	CHECK(conn_table_apply(t, &r, &info) == 0);
	conn_format_endpoint(info->family, info->local_addr, info->local_port, buf, sizeof(buf));
	CHECK_STR(buf, "[::1]:40000");
	conn_format_address(info->family, info->remote_addr, buf, sizeof(buf));
	CHECK_STR(buf, "2001::5");
	r = record(0, CLEARTAP_CONN_OPEN, 2); /* no cookie */
	CHECK(conn_table_apply(t, &r, &info) == -EBADMSG);
	r = record(13, CLEARTAP_CONN_OPEN, 1); /* AF_UNIX */
	CHECK(conn_table_apply(t, &r, &info) == -EBADMSG);
	r = record(13, 9, 2); /* unknown event */
	CHECK(conn_table_apply(t, &r, &info) == -EBADMSG);
	CHECK_U64(conn_table_size(t), 1);
	for (uint64_t cookie = 100; cookie < 5000; cookie++) { /* past a resize */
		r = record(cookie, CLEARTAP_CONN_OPEN, 2);
		CHECK(conn_table_apply(t, &r, &info) == 0);
	}
	CHECK(conn_table_get(t, 12) != NULL && conn_table_get(t, 4999) != NULL);
	CHECK_U64(conn_table_size(t), 4901);
	conn_table_free(t);
}

int main(void)
{
	RUN(test_open_close_expire);
	RUN(test_ipv6_and_bad_records);
	return TEST_EXIT();
}
