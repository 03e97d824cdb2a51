/* SPDX-License-Identifier: Apache-2.0 */
#include "late_attach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct_macro.h"
#include "tls_probes.h"

#define SEEN_MAX 8192 /* files remembered; beyond that, files are examined again */

struct seen {
	uint64_t dev, ino;
};

struct late_attach {
	int prog_enter, prog_return;
	struct planner_kernel kernel;
	bool can_attach; /* uprobe_multi links: attaching needs only the program fd */
	struct seen *seen;
	size_t n_seen;
	int *links;
	size_t n_links, cap_links;
	size_t attached;
};

static bool seen_before(const struct late_attach *la, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < la->n_seen; i++)
		if (la->seen[i].dev == dev && la->seen[i].ino == ino)
			return true;
	return false;
}

static void remember(struct late_attach *la, uint64_t dev, uint64_t ino)
{
	if (la->n_seen < SEEN_MAX)
		la->seen[la->n_seen++] = (struct seen){dev, ino};
}

int late_attach_new(int prog_enter, int prog_return, const struct planner_kernel *kernel,
		    uint32_t kernel_features, const struct cleartap_handoff_attachment *known,
		    size_t n_known, struct late_attach **ret)
{
	struct late_attach *la = calloc(1, sizeof(*la));

	if (!la)
		return -ENOMEM;
	la->seen = calloc(SEEN_MAX, sizeof(*la->seen));
	if (!la->seen) {
		free(la);
		return -ENOMEM;
	}
	la->prog_enter = prog_enter;
	la->prog_return = prog_return;
	la->kernel = *kernel;
	la->can_attach = kernel_features & CLEARTAP_KFEAT_UPROBE_MULTI;
	for (size_t i = 0; i < n_known; i++)
		remember(la, known[i].dev, known[i].ino);
	*ret = la;
	return 0;
}

void late_attach_free(struct late_attach *la)
{
	if (!la)
		return;
	for (size_t i = 0; i < la->n_links; i++)
		close(la->links[i]); /* the probes end with the collector */
	free(la->links);
	free(la->seen);
	free(la);
}

size_t late_attach_count(const struct late_attach *la)
{
	return la->attached;
}

/* Room for a file's links before they are kept: a file is attached all or nothing. */
static int reserve_links(struct late_attach *la, size_t n)
{
	if (la->n_links + n > la->cap_links) {
		size_t cap = la->cap_links ? la->cap_links * 2 : 16;
		int *links = realloc(la->links, cap * sizeof(*links));

		if (!links)
			return -ENOMEM;
		la->links = links;
		la->cap_links = cap;
	}
	return 0;
}

int late_attach_foreign(struct late_attach *la, const char *path, uint32_t mnt_ns,
			struct cleartap_handoff_attachment *ret_report)
{
	struct tls_probe_plan plan = {};
	char detail[128];

	/* one report per namespace, remembered as (0, namespace): a container opens the same few
	 * libraries in every process */
	if (seen_before(la, 0, mnt_ns))
		return 0;
	remember(la, 0, mnt_ns);
	snprintf(detail, sizeof(detail),
		 "opened in another mount namespace (mnt:[%u]): not attachable without a broker",
		 mnt_ns);
	tls_probe_report(&plan, CLEARTAP_ATTACH_SKIPPED, 0, mnt_ns, path, detail, ret_report);
	return 1;
}

int late_attach_path(struct late_attach *la, const char *path, bool is_library,
		     struct cleartap_handoff_attachment *ret_report)
{
	struct tls_probe_plan plan = {};
	_cleanup_close_ int fd = -1;
	struct tls_links links;
	struct stat st;
	int r;

	/*
	 * Known files are recognised by stat(), not open(): our own open of a library is a library
	 * open the kernel reports back to us, and would be examined again, endlessly.
	 */
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || seen_before(la, st.st_dev, st.st_ino))
		return 0; /* gone, another mount namespace's path, or known */
	/* a FIFO named like a library must not block the collector (symlinks are followed: the
	 * collector reads only what its own user may) */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0)
		return 0;
	if (!S_ISREG(st.st_mode) || seen_before(la, st.st_dev, st.st_ino))
		return 0; /* replaced between the two looks */
	remember(la, st.st_dev, st.st_ino);
	r = tls_probe_plan(fd, &la->kernel, &plan);
	if (r < 0) {
		if (!is_library)
			return 0; /* most executables have no TLS in them */
		tls_probe_report(&plan, CLEARTAP_ATTACH_SKIPPED, st.st_dev, st.st_ino, path,
				 "no OpenSSL or GnuTLS data functions found", ret_report);
		return 1;
	}
	if (!la->can_attach) {
		tls_probe_report(&plan, CLEARTAP_ATTACH_SKIPPED, st.st_dev, st.st_ino, path,
				 "appeared after start-up: attaching it needs uprobe_multi links "
				 "(Linux 6.6); a loader restart probes it",
				 ret_report);
		return 1;
	}
	r = tls_probe_attach(la->prog_enter, la->prog_return, path, &plan, false, &links);
	if (r < 0) {
		tls_probe_report(&plan, CLEARTAP_ATTACH_FAILED, st.st_dev, st.st_ino, path,
				 strerror(-r), ret_report);
		return 1;
	}
	if ((r = reserve_links(la, TLS_LINK__MAX)) < 0) {
		tls_links_close(&links); /* closing a link detaches it */
		return r;
	}
	for (int l = 0; l < TLS_LINK__MAX; l++)
		if (links.n[l]) /* uprobe_multi: one link per kind */
			la->links[la->n_links++] = links.fd[l][0];
	la->attached++;
	tls_probe_report(&plan, CLEARTAP_ATTACH_ATTACHED, st.st_dev, st.st_ino, path,
			 "attached by the collector after start", ret_report);
	return 1;
}
