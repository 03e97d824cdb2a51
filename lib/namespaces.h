/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_NAMESPACES_H
#define CT_NAMESPACES_H

#include <stdint.h>

/* The inode of the calling process's mount namespace (as the kernel's records name it), 0 if
 * /proc does not say. */
uint32_t own_mount_namespace(void);

/* The same from a /proc/PID/ns/mnt link (0: gone, or not readable by the caller). */
uint32_t mount_namespace_at(const char *ns_link);

#endif
