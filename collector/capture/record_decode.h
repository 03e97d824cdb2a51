/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_RECORD_DECODE_H
#define CT_RECORD_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "cleartap/events.h"

/*
 * Check one ring-buffer record (size is what the ring says; records may be padded to their size
 * class). Returns its enum cleartap_record_type, or -EBADMSG (too short, wrong version, sizes
 * that disagree), -EPROTONOSUPPORT for an unknown type.
 */
int record_validate(const void *data, size_t size);

/*
 * When a data record's bytes met the other direction's: a write's start, a read's return. A
 * record is stamped when its call returns, and the answer to what a write sent can be read
 * before a descheduled writer returns (seen with Go's HTTP/1 client).
 */
static inline uint64_t record_order_time(const struct cleartap_tls_data *rec)
{
	if (rec->direction == CLEARTAP_DIR_WRITE && rec->call_start_ns &&
	    rec->call_start_ns < rec->hdr.timestamp_ns)
		return rec->call_start_ns;
	return rec->hdr.timestamp_ns;
}

#endif
