/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every user-space component: cleanup attributes, array sizes. */
#ifndef CT_MACRO_H
#define CT_MACRO_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define CT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void ct_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void ct_freep(void *p)
{
	free(*(void **)p);
}

#define _cleanup_close_ __attribute__((cleanup(ct_closep)))
#define _cleanup_free_	__attribute__((cleanup(ct_freep)))

/* Hand a cleanup-managed fd to the caller. */
static inline int ct_take_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* -errno of the last failure, never 0 (some libraries fail without setting errno). */
static inline int ct_negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#endif
