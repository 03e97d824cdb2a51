/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the operator asked to see. Applied before parsing, so filtered traffic costs nothing
 * downstream. cleartap never reports its own process.
 */
#ifndef CT_FILTER_H
#define CT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn_table.h"

#define FILTER_MAX 16

struct filter {
	const char *include_comm[FILTER_MAX], *exclude_comm[FILTER_MAX];
	const char *include_exe[FILTER_MAX], *exclude_exe[FILTER_MAX];
	size_t n_include_comm, n_exclude_comm, n_include_exe, n_exclude_exe;
	bool no_loopback; /* ignore connections whose peer is 127.0.0.0/8 or ::1 */
	uint32_t self_pid;
	uint32_t sink_pid; /* the --proto unix: consumer (cleartap-export): its own HTTP is not
			      exported, or each export would be captured and exported again */
};

/* -E2BIG when the list is full. */
int filter_add(const char **list, size_t *n, const char *value);

/* A process (exe may be NULL when its exec was not seen) is of interest. */
bool filter_process(const struct filter *f, uint32_t pid, const char *comm, const char *exe);

/* A connection (NULL: unknown) is of interest. */
bool filter_connection(const struct filter *f, const struct conn_info *conn);

#endif
