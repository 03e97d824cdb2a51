/* SPDX-License-Identifier: Apache-2.0 */
#include "seccomp_filter.h"

#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *rule)
{
	int nr = seccomp_syscall_resolve_name(rule->syscall);
	uint32_t action =
	    rule->errno_value ? SCMP_ACT_ERRNO((uint32_t)rule->errno_value) : SCMP_ACT_ALLOW;

	if (nr == __NR_SCMP_ERROR)
		return -EINVAL;
	switch (rule->check) {
	case CT_ARG_EQ:
		return seccomp_rule_add(ctx, action, nr, 1,
					SCMP_CMP(rule->arg, SCMP_CMP_EQ, rule->value));
	case CT_ARG_MASKED_ZERO:
		return seccomp_rule_add(ctx, action, nr, 1,
					SCMP_CMP(rule->arg, SCMP_CMP_MASKED_EQ, rule->value, 0));
	case CT_ARG_ANY:
	default:
		return seccomp_rule_add(ctx, action, nr, 0);
	}
}

int seccomp_install(const struct seccomp_rule *rules, size_t n_rules)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; r == 0 && i < n_rules; i++)
		r = add_rule(ctx, &rules[i]);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static const char *oci_arch(void)
{
#if defined(__x86_64__)
	return "SCMP_ARCH_X86_64";
#elif defined(__aarch64__)
	return "SCMP_ARCH_AARCH64";
#else
#error "cleartap: OCI architecture name missing"
#endif
}

int seccomp_write_oci_profile(FILE *out, const struct seccomp_rule *const *tables,
			      const size_t *n_rules, size_t n_tables)
{
	bool first = true;

	fprintf(out,
		"{\n  \"defaultAction\": \"SCMP_ACT_KILL_PROCESS\",\n"
		"  \"architectures\": [\"%s\"],\n  \"syscalls\": [",
		oci_arch());
	for (size_t t = 0; t < n_tables; t++)
		for (size_t i = 0; i < n_rules[t]; i++) {
			const struct seccomp_rule *rule = &tables[t][i];

			if (seccomp_syscall_resolve_name(rule->syscall) == __NR_SCMP_ERROR)
				return -EINVAL;
			fprintf(out, "%s\n    {\"names\": [\"%s\"], \"action\": \"%s\"",
				first ? "" : ",", rule->syscall,
				rule->errno_value ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW");
			if (rule->errno_value)
				fprintf(out, ", \"errnoRet\": %d", rule->errno_value);
			if (rule->check == CT_ARG_EQ)
				fprintf(out,
					", \"args\": [{\"index\": %u, \"value\": %llu, "
					"\"op\": \"SCMP_CMP_EQ\"}]",
					rule->arg, (unsigned long long)rule->value);
			else if (rule->check == CT_ARG_MASKED_ZERO)
				fprintf(out,
					", \"args\": [{\"index\": %u, \"value\": %llu, "
					"\"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]",
					rule->arg, (unsigned long long)rule->value);
			fprintf(out, ", \"comment\": \"%s\"}", rule->reason);
			first = false;
		}
	fprintf(out, "\n  ]\n}\n");
	return ferror(out) ? -EIO : 0;
}
