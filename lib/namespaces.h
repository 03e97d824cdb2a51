/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_NAMESPACES_H
#define CT_NAMESPACES_H

#include <stdint.h>

/* The inode of the calling process's mount namespace (as the kernel's records name it), 0 if
 * /proc does not say. */
uint32_t own_mount_namespace(void);

#endif
