/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every user-space component: cleanup attributes, array sizes. */
#ifndef CT_MACRO_H
#define CT_MACRO_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/*
 * A fixed-size field of the handoff or kernel ABI, which need not be terminated, as a C string
 * in dst (cut to dst_size - 1 bytes).
 */
static inline void ct_copy_field(char *dst, size_t dst_size, const char *src, size_t src_size)
{
	size_t n = strnlen(src, src_size < dst_size - 1 ? src_size : dst_size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* CLOCK_MONOTONIC, the kernel records' clock (bpf_ktime_get_ns). */
static inline uint64_t ct_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Milliseconds of CLOCK_MONOTONIC: deadlines and rates. */
static inline uint64_t ct_monotonic_ms(void)
{
	return ct_monotonic_ns() / 1000000;
}

/* -errno of the last failure, never 0 (some libraries fail without setting errno). */
static inline int ct_negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#endif
