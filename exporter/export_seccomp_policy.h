/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_EXPORT_SECCOMP_POLICY_H
#define CT_EXPORT_SECCOMP_POLICY_H

#include <stddef.h>

#include "seccomp_filter.h"

/* cleartap-export after start-up: what reading collectors and sending HTTP needs. */
extern const struct seccomp_rule export_runtime_rules[];
extern const size_t export_runtime_rules_count;

#endif
