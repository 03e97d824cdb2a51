/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_LOADER_SECCOMP_POLICY_H
#define CT_LOADER_SECCOMP_POLICY_H

#include <stddef.h>

#include "seccomp_filter.h"

/* What the loader may do once it only serves descriptors. */
extern const struct seccomp_rule loader_serving_rules[];
extern const size_t loader_serving_rules_count;

/* What the planner child may do once it parses an untrusted file. */
extern const struct seccomp_rule planner_child_rules[];
extern const size_t planner_child_rules_count;

/* What the broker may do once it serves the loader. */
extern const struct seccomp_rule broker_rules[];
extern const size_t broker_rules_count;

#endif
