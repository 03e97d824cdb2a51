/* SPDX-License-Identifier: Apache-2.0 */
#include "proc_table.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	struct proc_info info;
};

struct proc_table {
	struct entry **buckets;
	size_t n_buckets, n;
};

static size_t bucket(const struct proc_table *t, uint32_t pid)
{
	return (size_t)(pid * 2654435761u) & (t->n_buckets - 1);
}

int proc_table_new(struct proc_table **ret)
{
	struct proc_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->n_buckets = 1024;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

void proc_table_free(struct proc_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct entry *e = t->buckets[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(t->buckets);
	free(t);
}

static struct entry *find(const struct proc_table *t, uint32_t pid)
{
	for (struct entry *e = t->buckets[bucket(t, pid)]; e; e = e->next)
		if (e->info.pid == pid)
			return e;
	return NULL;
}

const struct proc_info *proc_table_get(const struct proc_table *t, uint32_t pid)
{
	struct entry *e = find(t, pid);

	return e ? &e->info : NULL;
}

static bool is_hex64(const char *s, size_t len)
{
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

void container_id_from_cgroup(const char *leaf, char out[65])
{
	static const char *const prefixes[] = {"docker-", "cri-containerd-", "crio-", "libpod-"};
	size_t len = strlen(leaf);

	if (len > 6 && strcmp(leaf + len - 6, ".scope") == 0) {
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			size_t p = strlen(prefixes[i]);

			if (strncmp(leaf, prefixes[i], p) == 0 && is_hex64(leaf + p, len - 6 - p)) {
				memcpy(out, leaf + p, 64);
				out[64] = '\0';
				return;
			}
		}
	}
	if (is_hex64(leaf, len)) {
		memcpy(out, leaf, 65);
		return;
	}
	strcpy(out, "host");
}

static void copy_string(char *dst, size_t size, const char *src, size_t src_size)
{
	size_t n = strnlen(src, src_size);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int proc_table_apply(struct proc_table *t, const struct cleartap_proc *rec,
		     const struct proc_info **ret_info)
{
	uint32_t pid = rec->hdr.tgid;
	struct entry *e;
	char cgroup[CLEARTAP_CGROUP_LEN + 1];

	if (!pid || (rec->event != CLEARTAP_PROC_EXEC && rec->event != CLEARTAP_PROC_EXIT) ||
	    rec->args_len > CLEARTAP_ARGS_LEN)
		return -EBADMSG;
	e = find(t, pid);
	if (!e) {
		size_t b = bucket(t, pid);

		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->info.pid = pid;
		e->next = t->buckets[b];
		t->buckets[b] = e;
		t->n++;
	}
	e->info.ppid = rec->ppid;
	e->info.start_ns = rec->start_ns;
	e->info.cgroup_id = rec->cgroup_id;
	copy_string(e->info.comm, sizeof(e->info.comm), rec->comm, sizeof(rec->comm));
	if (rec->event == CLEARTAP_PROC_EXEC) {
		/* a new image: whatever was known of the old one goes */
		e->info.exited = false;
		e->info.exit_code = 0;
		e->info.uid = rec->uid;
		e->info.gid = rec->gid;
		copy_string(e->info.exe, sizeof(e->info.exe), rec->filename, sizeof(rec->filename));
		memcpy(e->info.args, rec->args, rec->args_len);
		e->info.args[rec->args_len] = '\0';
		e->info.args_len = rec->args_len;
		e->info.args_truncated = rec->args_truncated;
		copy_string(cgroup, sizeof(cgroup), rec->cgroup, sizeof(rec->cgroup));
		container_id_from_cgroup(cgroup, e->info.container_id);
	} else {
		e->info.exited = true;
		e->info.exit_code = rec->exit_code;
		e->info.exit_ns = rec->hdr.timestamp_ns;
	}
	*ret_info = &e->info;
	return 0;
}

void proc_table_expire(struct proc_table *t, uint64_t now_ns, uint64_t keep_ns)
{
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct entry **p = &t->buckets[i]; *p;) {
			struct entry *e = *p;

			if (e->info.exited && now_ns > e->info.exit_ns + keep_ns) {
				*p = e->next;
				free(e);
				t->n--;
			} else {
				p = &e->next;
			}
		}
}

size_t proc_table_size(const struct proc_table *t)
{
	return t->n;
}
