/* SPDX-License-Identifier: Apache-2.0 */
#include "memory_budget.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_HEADER sizeof(size_t) /* what glibc's malloc keeps in front of each block */

static struct mem_budget_stats budget = {.limit = UINT64_MAX};

void mem_budget_set_limit(uint64_t bytes)
{
	budget.limit = bytes;
}

void mem_budget_get(struct mem_budget_stats *ret)
{
	*ret = budget;
}

bool mem_budget_above(unsigned eighths)
{
	return budget.limit != UINT64_MAX && budget.used > budget.limit / 8 * eighths;
}

static uint64_t charge_of(void *p)
{
	return p ? malloc_usable_size(p) + CHUNK_HEADER : 0;
}

/* Whether want more bytes may be reserved; a refusal is counted where it applies. */
static bool fits(struct mem_account *a, uint64_t want)
{
	if (budget.used + want > budget.limit || want > budget.limit) {
		budget.refused++;
		if (a) {
			a->refused++;
			a->refused_global = true;
		}
		return false;
	}
	if (a && a->limit && a->used + want > a->limit) {
		budget.refused++;
		a->refused++;
		a->refused_global = false;
		return false;
	}
	return true;
}

static void charge(struct mem_account *a, uint64_t add, uint64_t remove)
{
	budget.used = budget.used + add - remove;
	if (budget.used > budget.peak)
		budget.peak = budget.used;
	if (a)
		a->used = a->used + add - remove;
}

void *ct_mem_alloc(struct mem_account *a, size_t n)
{
	void *p;

	if (!fits(a, (uint64_t)n + CHUNK_HEADER) || !(p = malloc(n)))
		return NULL;
	charge(a, charge_of(p), 0);
	return p;
}

void *ct_mem_zalloc(struct mem_account *a, size_t n)
{
	void *p;

	if (!fits(a, (uint64_t)n + CHUNK_HEADER) || !(p = calloc(1, n)))
		return NULL;
	charge(a, charge_of(p), 0);
	return p;
}

void *ct_mem_realloc(struct mem_account *a, void *p, size_t n)
{
	uint64_t old = charge_of(p);
	void *q;

	if ((uint64_t)n + CHUNK_HEADER > old && !fits(a, (uint64_t)n + CHUNK_HEADER - old))
		return NULL;
	q = realloc(p, n);
	if (!q)
		return NULL;
	charge(a, charge_of(q), old);
	return q;
}

void ct_mem_free(struct mem_account *a, void *p)
{
	if (!p)
		return;
	charge(a, 0, charge_of(p));
	free(p);
}
