/* SPDX-License-Identifier: Apache-2.0 */
#include "test_switches.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

bool test_drop_chunk(void *spec, const struct cleartap_tls_data *rec)
{
	static uint64_t calls, last_session = UINT64_MAX, last_offset = UINT64_MAX;
	static uint64_t dropping_session = UINT64_MAX, dropping_offset = UINT64_MAX;
	char comm[CLEARTAP_COMM_LEN + 1] = {}, want_comm[32] = {}, want_dir[8] = {};
	unsigned long long n;

	if (sscanf(spec, "%31[^:]:%7[^:]:%llu", want_comm, want_dir, &n) != 3)
		return false;
	memcpy(comm, rec->comm, CLEARTAP_COMM_LEN);
	if (strcmp(comm, want_comm) ||
	    rec->direction !=
		(strcmp(want_dir, "read") == 0 ? CLEARTAP_DIR_READ : CLEARTAP_DIR_WRITE))
		return false;
	if (rec->session_id == dropping_session && rec->stream_offset == dropping_offset)
		return true; /* another chunk of the call being dropped */
	if (rec->session_id != last_session || rec->stream_offset != last_offset) {
		last_session = rec->session_id;
		last_offset = rec->stream_offset;
		if (calls++ == n) {
			dropping_session = rec->session_id;
			dropping_offset = rec->stream_offset;
			return true;
		}
	}
	return false;
}

int test_attempt_forbidden(const char *what)
{
	union bpf_attr attr = {};
	char *const argv[] = {"/bin/true", NULL};

	if (strcmp(what, "execve") == 0)
		execve("/bin/true", argv, NULL);
	else if (strcmp(what, "bpf-prog-load") == 0)
		syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	else if (strcmp(what, "ptrace") == 0)
		ptrace(PTRACE_ATTACH, 1, NULL, NULL); /* getppid() would be the forbidden call */
	else if (strcmp(what, "raw-socket") == 0)
		socket(AF_PACKET, SOCK_RAW, 0);
	else if (strcmp(what, "unix-socket") == 0)
		socket(AF_UNIX, SOCK_STREAM, 0); /* connections are its opener child's */
	else if (strcmp(what, "open-for-writing") == 0)
		open("/tmp/cleartap-forbidden", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	else if (strcmp(what, "open-for-reading") == 0)
		open("/etc/hostname", O_RDONLY | O_CLOEXEC); /* it names files, never reads them */
	else if (strcmp(what, "bpf-link-create") == 0)
		syscall(__NR_bpf, BPF_LINK_CREATE, &attr,
			sizeof(attr)); /* attaching is the loader's */
	else if (strcmp(what, "bpf-map-lookup") == 0)
		syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, &attr,
			sizeof(attr)); /* the rings and counters are mapped */
	else if (strcmp(what, "exec-memory") == 0)
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else
		return -EINVAL;
	return -EPERM;
}
