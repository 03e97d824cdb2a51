/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Processes by pid, from the kernel's exec/exit records: what every record of a process is
 * attributed with. Exited processes are kept a while, their data is often reported later.
 */
#ifndef CT_PROC_TABLE_H
#define CT_PROC_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleartap/events.h"

struct proc_info {
	uint32_t pid, ppid, uid, gid;
	char comm[CLEARTAP_COMM_LEN + 1];
	char exe[CLEARTAP_PATH_LEN + 1];  /* a path in mount namespace mnt_ns */
	uint32_t mnt_ns;		  /* 0: unknown */
	char args[CLEARTAP_ARGS_LEN + 1]; /* NUL-separated, args_len bytes */
	size_t args_len;
	bool args_truncated;
	uint64_t start_ns, cgroup_id;
	char container_id[65]; /* "host" when not in a container */
	bool snapshot;	       /* known from the loader's /proc snapshot: it predates cleartap */
	bool exited;
	int32_t exit_code;
	uint64_t exit_ns;
	bool announced; /* its process record went out for this image (see proc_table_announce) */
};

struct proc_table;

int proc_table_new(struct proc_table **ret);
void proc_table_free(struct proc_table *t);

/*
 * Apply an exec, exit or snapshot record; *ret_info is the updated entry. -ENOMEM, -EBADMSG;
 * -EEXIST for a snapshot of a process already known (the rings' records are newer).
 */
int proc_table_apply(struct proc_table *t, const struct cleartap_proc *rec,
		     const struct proc_info **ret_info);

const struct proc_info *proc_table_get(const struct proc_table *t, uint32_t pid);

/* The process is named by a record: true (and *ret_info) the first time for its image. */
bool proc_table_announce(struct proc_table *t, uint32_t pid, const struct proc_info **ret_info);

void proc_table_expire(struct proc_table *t, uint64_t now_ns, uint64_t keep_ns);
size_t proc_table_size(const struct proc_table *t);

/*
 * The container id in a cgroup leaf name: "docker-<64 hex>.scope", "cri-containerd-<id>.scope",
 * "crio-<id>.scope", "libpod-<id>.scope" or a bare "<64 hex>" (cgroupfs driver). Writes "host"
 * when there is none.
 */
void container_id_from_cgroup(const char *leaf, char out[65]);

#endif
