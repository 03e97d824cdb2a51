/* SPDX-License-Identifier: Apache-2.0 */
#include "filter.h"

#include <errno.h>
#include <string.h>

int filter_add(const char **list, size_t *n, const char *value)
{
	if (*n == FILTER_MAX)
		return -E2BIG;
	list[(*n)++] = value;
	return 0;
}

static bool listed(const char *const *list, size_t n, const char *value)
{
	for (size_t i = 0; value && i < n; i++)
		if (strcmp(list[i], value) == 0)
			return true;
	return false;
}

bool filter_process(const struct filter *f, uint32_t pid, const char *comm, const char *exe)
{
	if (pid == f->self_pid || (f->sink_pid && pid == f->sink_pid))
		return false;
	if (listed(f->exclude_comm, f->n_exclude_comm, comm) ||
	    listed(f->exclude_exe, f->n_exclude_exe, exe))
		return false;
	if (f->n_include_comm || f->n_include_exe)
		return listed(f->include_comm, f->n_include_comm, comm) ||
		       listed(f->include_exe, f->n_include_exe, exe);
	return true;
}

static bool is_loopback(uint16_t family, const uint8_t addr[16])
{
	static const uint8_t v6_loopback[16] = {[15] = 1};
	static const uint8_t v4_mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (family == 2)
		return addr[0] == 127;
	return memcmp(addr, v6_loopback, 16) == 0 ||
	       (memcmp(addr, v4_mapped, 12) == 0 && addr[12] == 127);
}

bool filter_connection(const struct filter *f, const struct conn_info *c)
{
	return !(f->no_loopback && c && is_loopback(c->family, c->remote_addr));
}
