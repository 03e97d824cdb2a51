/* SPDX-License-Identifier: Apache-2.0 */
/* Processes from exec/exit records; container ids from cgroup names of each runtime. */
#include <errno.h>

#include "ct_test.h"
#include "proc_table.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_container_ids(void)
{
	static const struct {
		const char *cgroup, *id;
	} cases[] = {
	    {"docker-" ID ".scope", ID},
	    {"cri-containerd-" ID ".scope", ID},
	    {"crio-" ID ".scope", ID},
	    {"libpod-" ID ".scope", ID},
	    {ID, ID},				  /* cgroupfs driver: /docker/<id> */
	    {"crio-conmon-" ID ".scope", "host"}, /* the monitor, not the container */
	    {"docker-" ID "0.scope", "host"},	  /* 65 digits */
	    {"session-3.scope", "host"},
	    {"user@0.service", "host"},
	    {"", "host"},
	    {"/", "host"},
	};
	char out[65];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		container_id_from_cgroup(cases[i].cgroup, out);
		CHECK_STR(out, cases[i].id);
	}
}

static void test_exec_then_exit(void)
{
	struct cleartap_proc rec = {.hdr = {.tgid = 42, .timestamp_ns = 500},
				    .event = CLEARTAP_PROC_EXEC,
				    .ppid = 1,
				    .uid = 1000,
				    .start_ns = 400};
	const struct proc_info *p;
	struct proc_table *t;

	memcpy(rec.comm, "curl", 5);
	memcpy(rec.filename, "/usr/bin/curl", 14);
	memcpy(rec.cgroup, "docker-" ID ".scope", 7 + 64 + 6);
	memcpy(rec.args, "curl\0-s\0", 8);
	rec.args_len = 8;
	CHECK(proc_table_new(&t) == 0);
	CHECK(proc_table_apply(t, &rec, &p) == 0);
	CHECK_STR(p->exe, "/usr/bin/curl");
	CHECK_STR(p->container_id, ID);
	CHECK_U64(p->args_len, 8);
	CHECK(memcmp(p->args, "curl\0-s\0", 8) == 0);
	rec.event = CLEARTAP_PROC_EXIT;
	rec.exit_code = 3 << 8;
	rec.hdr.timestamp_ns = 900;
	CHECK(proc_table_apply(t, &rec, &p) == 0);
	CHECK(p->exited && p->exit_code == 3 << 8);
	CHECK_STR(p->exe, "/usr/bin/curl"); /* kept from the exec */
	proc_table_expire(t, 1000, 500);
	CHECK(proc_table_get(t, 42) != NULL);
	proc_table_expire(t, 2000, 500);
	CHECK(proc_table_get(t, 42) == NULL);
	rec.args_len = CLEARTAP_ARGS_LEN + 1;
	rec.event = CLEARTAP_PROC_EXEC;
	CHECK(proc_table_apply(t, &rec, &p) == -EBADMSG);
	proc_table_free(t);
}

/* A snapshot names a process only the first time: what the rings said of it is newer. */
static void test_snapshot(void)
{
	struct cleartap_proc rec = {.hdr = {.tgid = 7, .timestamp_ns = 100},
				    .event = CLEARTAP_PROC_SNAPSHOT,
				    .filename = "/usr/sbin/nginx",
				    .comm = "nginx"};
	struct proc_table *t;
	const struct proc_info *info;

	CHECK(proc_table_new(&t) == 0);
	CHECK(proc_table_apply(t, &rec, &info) == 0);
	CHECK(info->snapshot && !info->exited);
	CHECK_STR(info->exe, "/usr/sbin/nginx");
	CHECK(proc_table_apply(t, &rec, &info) == -EEXIST);
	rec.event = CLEARTAP_PROC_EXEC; /* it exec'd: no longer as the snapshot saw it */
	strcpy(rec.filename, "/usr/bin/true");
	CHECK(proc_table_apply(t, &rec, &info) == 0);
	CHECK(!info->snapshot);
	rec.event = CLEARTAP_PROC_SNAPSHOT;
	CHECK(proc_table_apply(t, &rec, &info) == -EEXIST);
	CHECK_STR(proc_table_get(t, 7)->exe, "/usr/bin/true");
	rec.event = 4; /* unknown */
	CHECK(proc_table_apply(t, &rec, &info) == -EBADMSG);
	proc_table_free(t);
}

int main(void)
{
	RUN(test_container_ids);
	RUN(test_exec_then_exit);
	RUN(test_snapshot);
	return TEST_EXIT();
}
