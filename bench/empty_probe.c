/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attach the empty baseline probes to a libssl file, then wait for stdin to close.
 *   planned: at the sites the attach planner chooses, with the same links as cleartap's probes
 *   entry:   a uprobe and a uretprobe on each function's first instruction (cleartap before
 *            the planner, and what most eBPF TLS agents do)
 *   syscalls: as planned, plus empty programs on tp_btf/sys_enter and sys_exit (the hooks of
 *            cleartap's syscall programs: what hooking every system call costs by itself)
 *   sys-enter: as planned, plus an empty program on tp_btf/sys_enter alone (what keeping it
 *            for the library-open watcher would cost)
 *   sockets: as planned, plus empty programs on tp_btf/sock_send_length and sock_recv_length
 *            (Linux 6.3+: what hooking only socket I/O would cost instead)
 * Usage: empty_probe planned|entry|syscalls|sys-enter|sockets LIBSSL_PATH
 */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ct_macro.h"
#include "empty_probe.skel.h"
#include "tls_probes.h"
#include "uprobe_link.h"

/* Every probe on the function's first instruction: entry uprobe plus uretprobe. */
static void at_function_entry(struct tls_probe_plan *plan)
{
	struct tls_link_plan *entry = &plan->links[TLS_LINK_ENTRY];
	struct tls_link_plan *ret = &plan->links[TLS_LINK_RETURN];

	memset(plan->links, 0, sizeof(plan->links));
	for (size_t i = 0; i < plan->n_functions; i++) {
		const struct tls_function_plan *f = &plan->functions[i];

		entry->offsets[entry->n] = f->offset;
		entry->cookies[entry->n++] = f->func;
		if (f->sites.exit != PLANNER_EXIT_NONE) {
			ret->offsets[ret->n] = f->offset;
			ret->cookies[ret->n++] = f->func;
		}
	}
}

/* The modes, and which empty tracepoint programs each adds to the uprobes. */
enum { SYS_ENTER = 1, SYS_EXIT = 2, SOCKETS = 4 };
static const struct {
	const char *name;
	unsigned tracepoints;
} modes[] = {
    {"planned", 0},	      {"entry", 0},	    {"syscalls", SYS_ENTER | SYS_EXIT},
    {"sys-enter", SYS_ENTER}, {"sockets", SOCKETS},
};

int main(int argc, char **argv)
{
	struct planner_kernel kernel;
	struct tls_probe_plan plan;
	struct ct_empty_probe *skel;
	struct tls_links links;
	const char *path;
	unsigned tracepoints;
	size_t mode = 0;
	int fd, r;
	char c;

	while (argc == 3 && mode < CT_ARRAY_SIZE(modes) && strcmp(argv[1], modes[mode].name))
		mode++;
	if (argc != 3 || mode == CT_ARRAY_SIZE(modes)) {
		fprintf(
		    stderr,
		    "usage: empty_probe planned|entry|syscalls|sys-enter|sockets LIBSSL_PATH\n");
		return 1;
	}
	path = argv[2];
	tracepoints = modes[mode].tracepoints;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || planner_kernel_running(&kernel) < 0 ||
	    tls_probe_plan(fd, &kernel, &plan) < 0) {
		fprintf(stderr, "empty_probe: cannot plan probes for %s\n", path);
		return 1;
	}
	if (strcmp(argv[1], "entry") == 0)
		at_function_entry(&plan);
	skel = ct_empty_probe__open();
	if (!skel)
		return 1;
	bpf_program__set_expected_attach_type(skel->progs.empty_enter, CT_BPF_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(skel->progs.empty_return, CT_BPF_TRACE_UPROBE_MULTI);
	bpf_program__set_autoload(skel->progs.empty_sys_enter, tracepoints & SYS_ENTER);
	bpf_program__set_autoload(skel->progs.empty_sys_exit, tracepoints & SYS_EXIT);
	bpf_program__set_autoload(skel->progs.empty_sock_send, tracepoints & SOCKETS);
	bpf_program__set_autoload(skel->progs.empty_sock_recv, tracepoints & SOCKETS);
	if (ct_empty_probe__load(skel)) {
		fprintf(stderr, "empty_probe: load failed\n");
		return 1;
	}
	r = tls_probe_attach(
	    &(const struct tls_programs){.entry_fd = bpf_program__fd(skel->progs.empty_enter),
					 .return_fd = bpf_program__fd(skel->progs.empty_return)},
	    path, &plan, false, &links);
	if (r < 0) {
		fprintf(stderr, "empty_probe: attach failed: %s\n", strerror(-r));
		return 1;
	}
	if (((tracepoints & SYS_ENTER) && !bpf_program__attach(skel->progs.empty_sys_enter)) ||
	    ((tracepoints & SYS_EXIT) && !bpf_program__attach(skel->progs.empty_sys_exit)) ||
	    ((tracepoints & SOCKETS) && (!bpf_program__attach(skel->progs.empty_sock_send) ||
					 !bpf_program__attach(skel->progs.empty_sock_recv)))) {
		fprintf(stderr, "empty_probe: attaching the tracepoint programs failed "
				"(the socket ones need Linux 6.3+)\n");
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	ct_empty_probe__destroy(skel);
	return 0;
}
