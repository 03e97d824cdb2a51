/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_COLLECTOR_SECCOMP_POLICY_H
#define CT_COLLECTOR_SECCOMP_POLICY_H

#include <fcntl.h>
#include <stddef.h>

#include "seccomp_filter.h"

/* What the collector may do after lock-down: installed by the collector itself. */
extern const struct seccomp_rule collector_runtime_rules[];
extern const size_t collector_runtime_rules_count;

/* What it also needs from exec until lock-down: only in the container runtime's profile. */
extern const struct seccomp_rule collector_startup_rules[];
extern const size_t collector_startup_rules_count;

/* How the --proto file is opened, by the collector at start and by its opener child later. */
#define PROTO_FILE_FLAGS (O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)

/*
 * The --metrics-listen socket is moved to this descriptor before lock-down: accept4 is allowed
 * on it alone. Below the collector's open-file limit (MAX_OPEN_FILES, main.c).
 */
#define COLLECTOR_METRICS_FD 255

/* The opener child's whole allowlist (opener.h); its descriptor 3 is its socket. */
extern const struct seccomp_rule opener_rules[];
extern const size_t opener_rules_count;

#endif
