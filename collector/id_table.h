/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's one hash table: intrusive nodes keyed by a 64-bit id (socket cookie, pid), or
 * by a hash of a longer key (then keys may repeat: id_table_find_next walks the equal ones, and
 * the caller compares the rest). Grows as needed.
 */
#ifndef CT_ID_TABLE_H
#define CT_ID_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct id_node {
	struct id_node *next;
	uint64_t key;
};

struct id_table {
	struct id_node **buckets;
	size_t n_buckets, n;
};

#define id_entry(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))

/* n_buckets: the initial size, a power of two (the table doubles as it fills). */
int id_table_init(struct id_table *t, size_t n_buckets);

/* Frees every node with free_node, then the table. */
void id_table_free(struct id_table *t, void (*free_node)(struct id_node *node));

struct id_node *id_table_find(const struct id_table *t, uint64_t key);

/* The next node after node with the same key, or NULL. */
struct id_node *id_table_find_next(const struct id_node *node);

/* Every node n of t, in no order; the body may remove n (not another node) and insert none. */
#define id_table_for_each(t, n)                                                                    \
	for (size_t id_bucket_ = 0; id_bucket_ < (t)->n_buckets; id_bucket_++)                     \
		for (struct id_node *n = (t)->buckets[id_bucket_], *id_next_;                      \
		     n && ((id_next_ = n->next), 1); n = id_next_)

/* node->key must be set (and, for an id, not present yet). */
void id_table_insert(struct id_table *t, struct id_node *node);

/* Take node (present in t) out of t; the caller owns it again. */
void id_table_remove(struct id_table *t, struct id_node *node);

/* Remove (and free_node) every node for which drop(node, userdata) is true. */
void id_table_remove_if(struct id_table *t, bool (*drop)(const struct id_node *node, void *ud),
			void *userdata, void (*free_node)(struct id_node *node));

#endif
