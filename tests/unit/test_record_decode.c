/* SPDX-License-Identifier: Apache-2.0 */
/* Ring record validation: every inconsistency is rejected, padded size classes are accepted. */
#include <errno.h>

#include "ct_test.h"
#include "record_decode.h"

static uint8_t storage[sizeof(struct cleartap_tls_data) + 1024];

static struct cleartap_tls_data *data_record(uint32_t chunk_len)
{
	struct cleartap_tls_data *rec = (void *)storage;

	memset(storage, 0, sizeof(storage));
	rec->hdr.type = CLEARTAP_REC_TLS_DATA;
	rec->hdr.version = CLEARTAP_SCHEMA_VERSION;
	rec->hdr.size = sizeof(*rec) + chunk_len;
	rec->chunk_len = chunk_len;
	return rec;
}

static void test_valid_data_record_in_larger_slot(void)
{
	data_record(100);
	/* Reserved in the 256-byte size class: the ring reports more than hdr.size. */
	CHECK(record_validate(storage, sizeof(struct cleartap_tls_data) + 256) ==
	      CLEARTAP_REC_TLS_DATA);
}

static void test_rejects_inconsistent_records(void)
{
	struct cleartap_tls_data *rec;

	CHECK(record_validate(storage, 8) == -EBADMSG);
	rec = data_record(100);
	rec->hdr.version = CLEARTAP_SCHEMA_VERSION + 1;
	CHECK(record_validate(storage, sizeof(storage)) == -EBADMSG);
	rec = data_record(100);
	CHECK(record_validate(storage, sizeof(*rec) + 99) == -EBADMSG); /* ring shorter */
	rec = data_record(100);
	rec->chunk_len = 101; /* disagrees with hdr.size */
	CHECK(record_validate(storage, sizeof(storage)) == -EBADMSG);
	rec = data_record(100);
	rec->hdr.size = 16;
	CHECK(record_validate(storage, sizeof(storage)) == -EBADMSG);
	rec = data_record(100);
	rec->chunk_len = CLEARTAP_CHUNK_MAX + 1;
	rec->hdr.size = sizeof(*rec) + rec->chunk_len;
	CHECK(record_validate(storage, sizeof(storage)) == -EBADMSG);
	rec = data_record(0);
	rec->hdr.type = 99;
	CHECK(record_validate(storage, sizeof(storage)) == -EPROTONOSUPPORT);
}

static void test_tls_free_record(void)
{
	struct cleartap_tls_free *rec = (void *)storage;

	memset(storage, 0, sizeof(storage));
	rec->hdr.type = CLEARTAP_REC_TLS_FREE;
	rec->hdr.version = CLEARTAP_SCHEMA_VERSION;
	rec->hdr.size = sizeof(*rec);
	CHECK(record_validate(storage, sizeof(*rec)) == CLEARTAP_REC_TLS_FREE);
	rec->hdr.size = sizeof(*rec) - 8;
	CHECK(record_validate(storage, sizeof(*rec)) == -EBADMSG);
}

int main(void)
{
	RUN(test_valid_data_record_in_larger_slot);
	RUN(test_rejects_inconsistent_records);
	RUN(test_tls_free_record);
	return TEST_EXIT();
}
