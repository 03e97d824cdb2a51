/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_RECORD_DECODE_H
#define CT_RECORD_DECODE_H

#include <stddef.h>

#include "cleartap/events.h"

/*
 * Check one ring-buffer record (size is what the ring says; records may be padded to their size
 * class). Returns its enum cleartap_record_type, or -EBADMSG (too short, wrong version, sizes
 * that disagree), -EPROTONOSUPPORT for an unknown type.
 */
int record_validate(const void *data, size_t size);

#endif
