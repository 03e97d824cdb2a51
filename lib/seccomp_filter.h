/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_SECCOMP_FILTER_H
#define CT_SECCOMP_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum seccomp_arg_check {
	CT_ARG_ANY = 0,	    /* no condition on arguments */
	CT_ARG_EQ,	    /* allowed only when args[arg] == value */
	CT_ARG_MASKED_ZERO, /* allowed only when (args[arg] & value) == 0 */
};

/* One reviewed line of an allowlist. Several lines for one call are alternatives. */
struct seccomp_rule {
	const char *syscall;
	int errno_value; /* 0: allow; > 0: fail with this errno instead of killing */
	enum seccomp_arg_check check;
	unsigned arg;
	uint64_t value;
	const char *reason;
};

/* Table rows: allow, allow only when an argument matches, or fail with an errno. */
#define SECCOMP_ALLOW(name, why)                                                                   \
	{                                                                                          \
		.syscall = name, .reason = why                                                     \
	}
#define SECCOMP_ALLOW_IF_EQ(name, a, v, why)                                                       \
	{                                                                                          \
		.syscall = name, .check = CT_ARG_EQ, .arg = a, .value = v, .reason = why           \
	}
#define SECCOMP_ALLOW_IF_CLEAR(name, a, m, why)                                                    \
	{                                                                                          \
		.syscall = name, .check = CT_ARG_MASKED_ZERO, .arg = a, .value = m, .reason = why  \
	}
#define SECCOMP_FAIL(name, err, why)                                                               \
	{                                                                                          \
		.syscall = name, .errno_value = err, .reason = why                                 \
	}

/*
 * Install rules as a filter whose default action kills the process, as does a system call of
 * another architecture. Returns 0 or -errno (-EINVAL names an unknown system call).
 */
int seccomp_install(const struct seccomp_rule *rules, size_t n_rules);

/* Print the rules of all tables as an OCI (Kubernetes "Localhost") seccomp profile. */
int seccomp_write_oci_profile(FILE *out, const struct seccomp_rule *const *tables,
			      const size_t *n_rules, size_t n_tables);

#endif
