// SPDX-License-Identifier: Apache-2.0
#include "kernel_counters.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int kernel_counters_open(int fd, uint32_t n_rows, struct kernel_counters *ret)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len =
	    ((size_t)n_rows * CLEARTAP_COUNTER_STRIDE * sizeof(uint64_t) + page - 1) / page * page;
	void *area;

	if (n_rows == 0 || n_rows > 65536)
		return -EINVAL;
	/* the kernel refuses a mapping past the array: fewer rows than said fail here */
	area = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (area == MAP_FAILED)
		return errno == ENOMEM ? -ENOMEM : -EBADF;
	*ret = (struct kernel_counters){.rows = area, .n_rows = n_rows, .area_len = len};
	return 0;
}

void kernel_counters_read(const struct kernel_counters *counters, uint64_t ret[CLEARTAP_CNT__MAX])
{
	memset(ret, 0, sizeof(uint64_t) * CLEARTAP_CNT__MAX);
	for (uint32_t row = 0; row < counters->n_rows; row++) {
		const volatile uint64_t *values =
		    counters->rows + (size_t)row * CLEARTAP_COUNTER_STRIDE;

		for (int i = 0; i < CLEARTAP_CNT__MAX; i++)
			ret[i] += __atomic_load_n(&values[i], __ATOMIC_RELAXED);
	}
}

void kernel_counters_close(struct kernel_counters *counters)
{
	if (counters->rows)
		munmap((void *)counters->rows, counters->area_len);
	counters->rows = NULL;
}
