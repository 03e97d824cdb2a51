/* SPDX-License-Identifier: Apache-2.0 */
#include "record_decode.h"

#include <errno.h>

int record_validate(const void *data, size_t size)
{
	const struct cleartap_record_header *hdr = data;

	if (size < sizeof(*hdr) || hdr->version != CLEARTAP_SCHEMA_VERSION || hdr->size > size)
		return -EBADMSG;
	switch (hdr->type) {
	case CLEARTAP_REC_TLS_DATA:
	case CLEARTAP_REC_TLS_HELLO: {
		const struct cleartap_tls_data *rec = data;

		if (hdr->size < sizeof(*rec) || rec->chunk_len > CLEARTAP_CHUNK_MAX ||
		    hdr->size != sizeof(*rec) + rec->chunk_len)
			return -EBADMSG;
		return hdr->type;
	}
	case CLEARTAP_REC_TLS_FREE:
		if (hdr->size != sizeof(struct cleartap_tls_free))
			return -EBADMSG;
		return CLEARTAP_REC_TLS_FREE;
	case CLEARTAP_REC_CONN:
		if (hdr->size != sizeof(struct cleartap_conn))
			return -EBADMSG;
		return CLEARTAP_REC_CONN;
	case CLEARTAP_REC_PROC:
		if (hdr->size != sizeof(struct cleartap_proc))
			return -EBADMSG;
		return CLEARTAP_REC_PROC;
	case CLEARTAP_REC_LIB_OPEN:
		if (hdr->size != sizeof(struct cleartap_lib_open))
			return -EBADMSG;
		return CLEARTAP_REC_LIB_OPEN;
	default:
		return -EPROTONOSUPPORT;
	}
}
