/* SPDX-License-Identifier: Apache-2.0 */
#include "proc_table.h"
#include "id_table.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory_budget.h"

struct entry {
	struct id_node node; /* key: the pid */
	struct proc_info info;
};

struct proc_table {
	struct id_table ids;
};

int proc_table_new(struct proc_table **ret)
{
	struct proc_table *t = ct_mem_zalloc(NULL, sizeof(*t));

	if (!t || id_table_init(&t->ids, 1024) < 0) {
		ct_mem_free(NULL, t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

static void free_entry(struct id_node *n)
{
	ct_mem_free(NULL, id_entry(n, struct entry, node));
}

void proc_table_free(struct proc_table *t)
{
	if (!t)
		return;
	id_table_free(&t->ids, free_entry);
	ct_mem_free(NULL, t);
}

static struct entry *find(const struct proc_table *t, uint32_t pid)
{
	struct id_node *n = id_table_find(&t->ids, pid);

	return n ? id_entry(n, struct entry, node) : NULL;
}

const struct proc_info *proc_table_get(const struct proc_table *t, uint32_t pid)
{
	struct entry *e = find(t, pid);

	return e ? &e->info : NULL;
}

bool proc_table_announce(struct proc_table *t, uint32_t pid, const struct proc_info **ret_info)
{
	struct entry *e = find(t, pid);

	if (!e || e->info.announced)
		return false;
	e->info.announced = true;
	*ret_info = &e->info;
	return true;
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

	if (!pid ||
	    (rec->event != CLEARTAP_PROC_EXEC && rec->event != CLEARTAP_PROC_EXIT &&
	     rec->event != CLEARTAP_PROC_SNAPSHOT) ||
	    rec->args_len > CLEARTAP_ARGS_LEN)
		return -EBADMSG;
	e = find(t, pid);
	if (e && rec->event == CLEARTAP_PROC_SNAPSHOT)
		return -EEXIST; /* an exec or exit the rings gave is newer */
	if (!e) {
		e = ct_mem_zalloc(NULL, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->info.pid = pid;
		e->node.key = pid;
		id_table_insert(&t->ids, &e->node);
	}
	e->info.ppid = rec->ppid;
	e->info.start_ns = rec->start_ns;
	e->info.cgroup_id = rec->cgroup_id;
	copy_string(e->info.comm, sizeof(e->info.comm), rec->comm, sizeof(rec->comm));
	if (rec->event != CLEARTAP_PROC_EXIT) {
		/* a new image (or the first known): whatever was known of the old one goes */
		e->info.snapshot = rec->event == CLEARTAP_PROC_SNAPSHOT;
		e->info.announced = false;
		e->info.exited = false;
		e->info.exit_code = 0;
		e->info.uid = rec->uid;
		e->info.gid = rec->gid;
		e->info.mnt_ns = rec->mnt_ns;
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

struct expiry {
	uint64_t now_ns, keep_ns;
};

static bool expired(const struct id_node *n, void *ud)
{
	const struct proc_info *p = &id_entry(n, struct entry, node)->info;
	const struct expiry *x = ud;

	return p->exited && x->now_ns > p->exit_ns + x->keep_ns;
}

void proc_table_expire(struct proc_table *t, uint64_t now_ns, uint64_t keep_ns)
{
	struct expiry x = {now_ns, keep_ns};

	id_table_remove_if(&t->ids, expired, &x, free_entry);
}

size_t proc_table_size(const struct proc_table *t)
{
	return t->ids.n;
}
