/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attach the empty baseline probes to a libssl file at the same offsets, with the same
 * uprobe_multi links, as cleartap's TLS probes (same plan code), then wait for stdin to close.
 * Usage: empty_probe LIBSSL_PATH
 */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "empty_probe.skel.h"
#include "tls_probes.h"
#include "uprobe_multi.h"

int main(int argc, char **argv)
{
	struct tls_probe_plan plan;
	struct ct_empty_probe *skel;
	int fd, entry_link, return_link, r;
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: empty_probe LIBSSL_PATH\n");
		return 1;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || tls_probe_plan(fd, &plan) < 0) {
		fprintf(stderr, "empty_probe: cannot plan probes for %s\n", argv[1]);
		return 1;
	}
	skel = ct_empty_probe__open();
	if (!skel)
		return 1;
	bpf_program__set_expected_attach_type(skel->progs.empty_enter, CT_BPF_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(skel->progs.empty_return, CT_BPF_TRACE_UPROBE_MULTI);
	if (ct_empty_probe__load(skel)) {
		fprintf(stderr, "empty_probe: load failed\n");
		return 1;
	}
	r = tls_probe_attach(bpf_program__fd(skel->progs.empty_enter),
			     bpf_program__fd(skel->progs.empty_return), argv[1], &plan, &entry_link,
			     &return_link);
	if (r < 0) {
		fprintf(stderr, "empty_probe: attach failed: %s\n", strerror(-r));
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	ct_empty_probe__destroy(skel);
	return 0;
}
