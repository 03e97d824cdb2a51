/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel records as the collector drained them, kept in a file for replay (bench/replay_bench)
 * and for reproducing a problem away from the host: "CTRECS01", then per record a 32-bit
 * little-endian size and the record's bytes; a size of 0 ends a drain pass.
 */
#ifndef CT_RECORD_FILE_H
#define CT_RECORD_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "record_batch.h"

#define RECORD_FILE_MAGIC "CTRECS01"

/* Start a file on fd (the magic). Returns 0 or -errno. */
int record_file_start(int fd);

/* Append one drain pass, in arrival order. Returns 0 or -errno. */
int record_file_write_pass(int fd, const struct record_batch *pass);

/*
 * Walk a file in memory: *pos starts at 0. Returns the next record and its size, NULL with
 * *ret_size 0 at the end of a pass, and NULL with *ret_size 1 at the end of the data (or at
 * anything malformed, -EBADMSG in *ret_error).
 */
const void *record_file_next(const uint8_t *data, size_t len, size_t *pos, size_t *ret_size,
			     int *ret_error);

#endif
