/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_COLLECTOR_SECCOMP_POLICY_H
#define CT_COLLECTOR_SECCOMP_POLICY_H

#include <stddef.h>

#include "seccomp_filter.h"

/* What the collector may do after lock-down: installed by the collector itself. */
extern const struct seccomp_rule collector_runtime_rules[];
extern const size_t collector_runtime_rules_count;

/* What it also needs from exec until lock-down: only in the container runtime's profile. */
extern const struct seccomp_rule collector_startup_rules[];
extern const size_t collector_startup_rules_count;

#endif
