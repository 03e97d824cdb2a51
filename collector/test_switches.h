/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What only the test build (cleartap-collector-test, never installed) can be told to do: lose a
 * chosen call as a full ring would (gap drills), and make a forbidden system call after
 * lock-down (the seccomp tests). The production binary has neither the options nor this code.
 */
#ifndef CT_TEST_SWITCHES_H
#define CT_TEST_SWITCHES_H

#include <stdbool.h>

#include "cleartap/events.h"

/* spec "COMM:write|read:N": every chunk of the N-th call (from 0) processes named COMM made in
 * that direction is to be lost. A pipeline_config.drop_chunk. */
bool test_drop_chunk(void *spec, const struct cleartap_tls_data *rec);

/* Make the forbidden call named what; returns only if it was not fatal: -EPERM (survived) or
 * -EINVAL (unknown name). */
int test_attempt_forbidden(const char *what);

#endif
