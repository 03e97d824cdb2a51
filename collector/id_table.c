/* SPDX-License-Identifier: Apache-2.0 */
#include "id_table.h"

#include <errno.h>
#include <stdlib.h>

#include "memory_budget.h"

static size_t bucket_of(size_t n_buckets, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (n_buckets - 1);
}

int id_table_init(struct id_table *t, size_t n_buckets)
{
	t->n_buckets = n_buckets;
	t->n = 0;
	t->buckets = ct_mem_zalloc(NULL, (t->n_buckets) * sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void id_table_free(struct id_table *t, void (*free_node)(struct id_node *))
{
	for (size_t i = 0; t->buckets && i < t->n_buckets; i++)
		for (struct id_node *n = t->buckets[i], *next; n; n = next) {
			next = n->next;
			free_node(n);
		}
	ct_mem_free(NULL, t->buckets);
	t->buckets = NULL;
	t->n = 0;
}

struct id_node *id_table_find(const struct id_table *t, uint64_t key)
{
	for (struct id_node *n = t->buckets[bucket_of(t->n_buckets, key)]; n; n = n->next)
		if (n->key == key)
			return n;
	return NULL;
}

struct id_node *id_table_find_next(const struct id_node *node)
{
	for (struct id_node *n = node->next; n; n = n->next)
		if (n->key == node->key)
			return n;
	return NULL;
}

static void grow(struct id_table *t)
{
	size_t size = t->n_buckets * 2;
	struct id_node **buckets = ct_mem_zalloc(NULL, (size) * sizeof(*buckets));

	if (!buckets)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct id_node *n = t->buckets[i], *next; n; n = next) {
			size_t b = bucket_of(size, n->key);

			next = n->next;
			n->next = buckets[b];
			buckets[b] = n;
		}
	ct_mem_free(NULL, t->buckets);
	t->buckets = buckets;
	t->n_buckets = size;
}

void id_table_insert(struct id_table *t, struct id_node *node)
{
	size_t b = bucket_of(t->n_buckets, node->key);

	node->next = t->buckets[b];
	t->buckets[b] = node;
	if (++t->n > t->n_buckets)
		grow(t);
}

void id_table_remove(struct id_table *t, struct id_node *node)
{
	for (struct id_node **p = &t->buckets[bucket_of(t->n_buckets, node->key)]; *p;
	     p = &(*p)->next)
		if (*p == node) {
			*p = node->next;
			t->n--;
			return;
		}
}

void id_table_remove_if(struct id_table *t, bool (*drop)(const struct id_node *, void *),
			void *userdata, void (*free_node)(struct id_node *))
{
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct id_node **p = &t->buckets[i]; *p;) {
			struct id_node *n = *p;

			if (drop(n, userdata)) {
				*p = n->next;
				free_node(n);
				t->n--;
			} else {
				p = &n->next;
			}
		}
}
