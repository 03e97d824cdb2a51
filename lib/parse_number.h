/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_PARSE_NUMBER_H
#define CT_PARSE_NUMBER_H

#include <stdint.h>

/* A whole decimal (or 0x hex) number in [min, max]: 0, -EINVAL (not a number), -ERANGE. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret);

/* Bytes, in decimal with an optional binary unit: "65536", "64K", "256M", "1G", "512Mi". */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

#endif
