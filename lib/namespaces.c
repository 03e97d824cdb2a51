/* SPDX-License-Identifier: Apache-2.0 */
#include "namespaces.h"

#include <stdio.h>
#include <unistd.h>

uint32_t mount_namespace_at(const char *ns_link)
{
	char link[64];
	ssize_t n = readlink(ns_link, link, sizeof(link) - 1);
	unsigned long v;

	if (n <= 0)
		return 0;
	link[n] = '\0';
	return sscanf(link, "mnt:[%lu]", &v) == 1 ? (uint32_t)v : 0;
}

uint32_t own_mount_namespace(void)
{
	return mount_namespace_at("/proc/self/ns/mnt");
}
