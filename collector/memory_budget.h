/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's memory for traffic state: every allocation made for what a local user sends
 * (pending calls, HTTP exchanges, connections, processes) is charged here, so no sender can grow
 * the collector past --memory-limit. An allocation can also be charged to an account (one
 * connection's HTTP state) with a limit of its own. A refused charge is the caller's -ENOMEM:
 * the caller degrades that connection and counts it, the collector carries on.
 *
 * One budget per process, as malloc is one heap per process; the collector is single-threaded.
 * Charges are what malloc really reserved (malloc_usable_size plus its header), so the figure
 * tracks the heap, not the sizes asked for.
 */
#ifndef CT_MEMORY_BUDGET_H
#define CT_MEMORY_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mem_account {
	uint64_t used;	     /* bytes charged to it now */
	uint64_t limit;	     /* 0: only the collector's limit applies */
	uint64_t refused;    /* allocations refused for it */
	bool refused_global; /* the last refusal was the collector's limit, not the account's */
};

struct mem_budget_stats {
	uint64_t limit, used, peak;
	uint64_t refused; /* allocations refused, by the collector's limit or an account's */
};

/* The collector's limit in bytes (UINT64_MAX until set). */
void mem_budget_set_limit(uint64_t bytes);
void mem_budget_get(struct mem_budget_stats *ret);

/* Whether more than fraction/8 of the limit is charged (the shedding watermarks). */
bool mem_budget_above(unsigned eighths);

/* malloc, calloc (n zeroed bytes), realloc and free, charged to the budget and to account
 * (NULL: the budget only). Memory must be freed with the account it was allocated with. */
void *ct_mem_alloc(struct mem_account *account, size_t n);
void *ct_mem_zalloc(struct mem_account *account, size_t n);
void *ct_mem_realloc(struct mem_account *account, void *p, size_t n);
void ct_mem_free(struct mem_account *account, void *p);

#endif
