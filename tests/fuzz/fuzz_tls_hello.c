/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: TLS hellos. The input is parsed whole, then fed to the connection table as chunks
 * of one direction, cut where byte 0 says, in both orders. Nothing may crash, leak or hit
 * undefined behaviour.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conn_table.h"
#include "tls_hello.h"

static void feed(struct conn_table *t, const uint8_t *data, size_t size, size_t at, uint32_t offset)
{
	static uint8_t storage[sizeof(struct cleartap_tls_data) + CLEARTAP_HELLO_MAX];
	struct cleartap_tls_data *rec = (struct cleartap_tls_data *)storage;
	const struct conn_info *info;

	if (at + size > CLEARTAP_HELLO_MAX)
		return;
	memset(rec, 0, sizeof(*rec));
	rec->hdr.type = CLEARTAP_REC_TLS_HELLO;
	rec->conn_cookie = 1;
	rec->stream_offset = offset;
	rec->chunk_offset = (uint32_t)(at - offset);
	rec->chunk_len = (uint32_t)size;
	memcpy(rec->payload, data, size);
	conn_table_hello(t, rec, &info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn_table *t;
	struct tls_hello h;
	size_t need, cut;

	if (size < 1)
		return 0;
	cut = data[0] % (size);
	data++, size--;
	if (tls_hello_needed(data, size, CLEARTAP_HELLO_MAX, &need) == 0 && need <= size)
		tls_hello_parse(data, need, &h);
	tls_hello_parse(data, size, &h);
	if (conn_table_new(&t) < 0)
		return 0;
	if (cut & 1) { /* the tail first */
		feed(t, data + cut, size - cut, cut, (uint32_t)cut);
		feed(t, data, cut, 0, 0);
	} else {
		feed(t, data, cut, 0, 0);
		feed(t, data + cut, size - cut, cut, 0);
	}
	conn_table_free(t);
	return 0;
}
