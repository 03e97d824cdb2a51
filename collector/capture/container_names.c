/* SPDX-License-Identifier: Apache-2.0 */
#include "container_names.h"
#include "ct_macro.h"
#include "id_table.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct id_node node; /* key: the id's first 16 hex digits */
	struct container_names names;
};

struct container_names_dir {
	DIR *dir;
	struct id_table ids;
	uint64_t listed_ns; /* when it was last listed (CLOCK_MONOTONIC) */
};

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* A DNS label or subdomain as Kubernetes allows them: [a-z0-9.-], 1 to max characters. */
static bool is_name(const char *s, size_t n, size_t max, bool dots)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-' ||
		      (dots && c == '.')))
			return false;
	}
	return true;
}

int container_names_parse(const char *name, struct container_names *ret)
{
	size_t len = strlen(name);
	const char *first, *second, *dash;

	/* <pod>_<namespace>_<container>-<64 hex>.log; none of the names may hold '_' */
	if (len < 4 + 65 + 5 || strcmp(name + len - 4, ".log") != 0)
		return -EINVAL;
	dash = name + len - 4 - 65;
	if (*dash != '-' || !is_hex(dash + 1, 64))
		return -EINVAL;
	first = memchr(name, '_', (size_t)(dash - name));
	second = first ? memchr(first + 1, '_', (size_t)(dash - first - 1)) : NULL;
	if (!second || memchr(second + 1, '_', (size_t)(dash - second - 1)) ||
	    !is_name(name, (size_t)(first - name), 253, true) ||
	    !is_name(first + 1, (size_t)(second - first - 1), 63, false) ||
	    !is_name(second + 1, (size_t)(dash - second - 1), 63, false))
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->id, dash + 1, 64);
	memcpy(ret->pod, name, (size_t)(first - name));
	memcpy(ret->pod_namespace, first + 1, (size_t)(second - first - 1));
	memcpy(ret->container, second + 1, (size_t)(dash - second - 1));
	return 0;
}

static uint64_t key_of(const char *id)
{
	char head[17];

	memcpy(head, id, 16);
	head[16] = '\0';
	return strtoull(head, NULL, 16);
}

static void free_entry(struct id_node *n)
{
	free(id_entry(n, struct entry, node));
}

static bool any(const struct id_node *n, void *ud)
{
	(void)n;
	(void)ud;
	return true;
}

/* The listing replaces what was known: containers that went away go with their links. */
static void list(struct container_names_dir *d, uint64_t now_ns)
{
	struct dirent *de;
	size_t n = 0;

	id_table_remove_if(&d->ids, any, NULL, free_entry);
	rewinddir(d->dir);
	while ((de = readdir(d->dir))) {
		struct container_names names;
		struct entry *e;

		if (container_names_parse(de->d_name, &names) < 0 ||
		    id_table_find(&d->ids, key_of(names.id)))
			continue;
		if (n == CONTAINER_NAMES_MAX || !(e = malloc(sizeof(*e))))
			continue; /* those containers' records go without names */
		e->names = names;
		e->node.key = key_of(names.id);
		id_table_insert(&d->ids, &e->node);
		n++;
	}
	d->listed_ns = now_ns;
}

int container_names_from_fd(int dir_fd, struct container_names_dir **ret)
{
	struct container_names_dir *d = calloc(1, sizeof(*d));

	if (!d || id_table_init(&d->ids, 256) < 0) {
		free(d);
		return -ENOMEM;
	}
	d->dir = fdopendir(dir_fd);
	if (!d->dir) {
		int r = -errno;

		container_names_close(d);
		return r;
	}
	list(d, ct_monotonic_ns());
	*ret = d;
	return 0;
}

void container_names_close(struct container_names_dir *d)
{
	if (!d)
		return;
	if (d->dir)
		closedir(d->dir);
	id_table_free(&d->ids, free_entry);
	free(d);
}

static const struct container_names *lookup(const struct container_names_dir *d, const char *id)
{
	struct id_node *n = id_table_find(&d->ids, key_of(id));

	if (n && strcmp(id_entry(n, struct entry, node)->names.id, id) == 0)
		return &id_entry(n, struct entry, node)->names;
	return NULL;
}

const struct container_names *container_names_find(struct container_names_dir *d, const char *id)
{
	const struct container_names *names;
	uint64_t now_ns;

	if (!d || strlen(id) != 64 || !is_hex(id, 64))
		return NULL; /* "host", or not a runtime's id */
	names = lookup(d, id);
	if (names)
		return names;
	/* kubelet links a container's log once it runs: a new one may be there now */
	now_ns = ct_monotonic_ns();
	if (now_ns < d->listed_ns + CONTAINER_NAMES_RELIST_NS)
		return NULL;
	list(d, now_ns);
	return lookup(d, id);
}
