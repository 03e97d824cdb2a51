/* SPDX-License-Identifier: Apache-2.0 */
/* A hash table of intrusive nodes keyed by a 64-bit id (socket cookie, pid). Grows as needed. */
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

/* node->key must be set and not present yet. */
void id_table_insert(struct id_table *t, struct id_node *node);

/* Take node (present in t) out of t; the caller owns it again. */
void id_table_remove(struct id_table *t, struct id_node *node);

/* Remove (and free_node) every node for which drop(node, userdata) is true. */
void id_table_remove_if(struct id_table *t, bool (*drop)(const struct id_node *node, void *ud),
			void *userdata, void (*free_node)(struct id_node *node));

#endif
