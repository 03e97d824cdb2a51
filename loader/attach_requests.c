/* SPDX-License-Identifier: Apache-2.0 */
#include "attach_requests.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleartap/events.h"
#include "ct_macro.h"
#include "targets.h"

struct examined {
	uint64_t dev, ino;
	uint32_t status; /* enum cleartap_attach_status */
};

struct attach_requests {
	struct attach_requests_config config;
	struct examined *files;
	size_t n_files;
	int *links;
	size_t n_links, cap_links;
	double tokens;
	uint64_t last_ms;
};

static struct examined *find(struct attach_requests *ar, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < ar->n_files; i++)
		if (ar->files[i].dev == dev && ar->files[i].ino == ino)
			return &ar->files[i];
	return NULL;
}

static void remember(struct attach_requests *ar, uint64_t dev, uint64_t ino, uint32_t status)
{
	if (ar->n_files < ATTACH_FILES_MAX)
		ar->files[ar->n_files++] = (struct examined){dev, ino, status};
}

int attach_requests_new(const struct attach_requests_config *config, struct attach_requests **ret)
{
	struct attach_requests *ar = calloc(1, sizeof(*ar));

	if (!ar)
		return -ENOMEM;
	ar->files = calloc(ATTACH_FILES_MAX, sizeof(*ar->files));
	if (!ar->files) {
		free(ar);
		return -ENOMEM;
	}
	ar->config = *config;
	ar->tokens = ATTACH_PLANS_BURST;
	for (size_t i = 0; i < config->n_known; i++)
		remember(ar, config->known[i].dev, config->known[i].ino, config->known[i].status);
	ar->config.known = NULL;
	*ret = ar;
	return 0;
}

void attach_requests_free(struct attach_requests *ar)
{
	if (!ar)
		return;
	for (size_t i = 0; i < ar->n_links; i++)
		close(ar->links[i]); /* closing a link detaches it */
	free(ar->links);
	free(ar->files);
	free(ar);
}

/* A token per plan, ATTACH_PLANS_PER_S of them a second, at most ATTACH_PLANS_BURST saved. */
static bool take_token(struct attach_requests *ar, uint64_t now_ms)
{
	if (now_ms > ar->last_ms) {
		ar->tokens += (double)(now_ms - ar->last_ms) * ATTACH_PLANS_PER_S / 1000.0;
		if (ar->tokens > ATTACH_PLANS_BURST)
			ar->tokens = ATTACH_PLANS_BURST;
	}
	ar->last_ms = now_ms;
	if (ar->tokens < 1)
		return false;
	ar->tokens -= 1;
	return true;
}

static int keep_links(struct attach_requests *ar, struct tls_links *links)
{
	size_t need = ar->n_links + TLS_LINK__MAX;

	if (need > ar->cap_links) {
		size_t cap = ar->cap_links ? ar->cap_links * 2 : 16;
		int *grown = realloc(ar->links, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		ar->links = grown;
		ar->cap_links = cap;
	}
	for (int l = 0; l < TLS_LINK__MAX; l++)
		if (links->n[l]) /* uprobe_multi: one link per kind */
			ar->links[ar->n_links++] = links->fd[l][0];
	return 0;
}

static const struct tls_probe_plan none = {.library_name = ""};

/* Plan and attach one opened regular file, known by what was opened (st), never by what the
 * request claims. how: how it was reached, for the report. */
static void examine(struct attach_requests *ar, int fd, const struct stat *st, const char *path,
		    const char *how, uint64_t now_ms, struct cleartap_handoff_attachment *ret)
{
	struct tls_probe_plan plan = none;
	char detail[256], by_fd[32];
	struct tls_links links;
	struct examined *known;
	int r;

	if ((known = find(ar, st->st_dev, st->st_ino))) {
		tls_probe_report(&none,
				 known->status == CLEARTAP_ATTACH_ATTACHED ||
					 known->status == CLEARTAP_ATTACH_ALREADY_ATTACHED
				     ? CLEARTAP_ATTACH_ALREADY_ATTACHED
				     : CLEARTAP_ATTACH_SKIPPED,
				 st->st_dev, st->st_ino, path, "examined already", ret);
		return;
	}
	if (!take_token(ar, now_ms)) {
		tls_probe_report(&none, CLEARTAP_ATTACH_REFUSED, st->st_dev, st->st_ino, path,
				 "rate limit: the loader plans at most 10 new files per second",
				 ret);
		return; /* not remembered: asked again, it may be planned later */
	}
	r = plan_sandboxed(&ar->config.sandbox, fd, &plan);
	if (r < 0) {
		plan_error_describe(r, &plan, detail, sizeof(detail));
		remember(ar, st->st_dev, st->st_ino, CLEARTAP_ATTACH_SKIPPED);
		tls_probe_report(&plan, CLEARTAP_ATTACH_SKIPPED, st->st_dev, st->st_ino, path,
				 detail, ret);
		return;
	}
	if (!(ar->config.kernel_features & CLEARTAP_KFEAT_UPROBE_MULTI)) {
		remember(ar, st->st_dev, st->st_ino, CLEARTAP_ATTACH_SKIPPED);
		tls_probe_report(
		    &plan, CLEARTAP_ATTACH_SKIPPED, st->st_dev, st->st_ino, path,
		    "appeared after start-up: attaching it needs uprobe_multi links (Linux 6.6); "
		    "a loader restart probes it",
		    ret);
		return;
	}
	/* the file checked above, not whatever the path names by now */
	snprintf(by_fd, sizeof(by_fd), "/proc/self/fd/%d", fd);
	r = tls_probe_attach(&(const struct tls_programs){.entry_fd = ar->config.prog_enter,
							  .return_fd = ar->config.prog_return},
			     by_fd, &plan, false, &links);
	if (r == 0 && (r = keep_links(ar, &links)) < 0)
		tls_links_close(&links);
	if (r < 0) {
		tls_probe_report(&plan, CLEARTAP_ATTACH_FAILED, st->st_dev, st->st_ino, path,
				 strerror(-r), ret);
		return;
	}
	remember(ar, st->st_dev, st->st_ino, CLEARTAP_ATTACH_ATTACHED);
	snprintf(detail, sizeof(detail), "attached by the loader at the collector's request%s",
		 how);
	tls_probe_report(&plan, CLEARTAP_ATTACH_ATTACHED, st->st_dev, st->st_ino, path, detail,
			 ret);
}

/*
 * With a broker, the process named must map the file executable (its maps need
 * CAP_SYS_PTRACE, which only the broker holds): the broker opens it for that pid, and it must
 * be the file the loader opened. Without one (--strict) this is not checked.
 */
static bool mapped_by(struct attach_requests *ar, const struct cleartap_handoff_attach_request *req,
		      const char *path, const struct stat *st,
		      struct cleartap_handoff_attachment *ret)
{
	_cleanup_close_ int fd = -1;
	char detail[192], why[128];
	struct stat seen;

	if (!ar->config.broker || !ar->config.broker->pid)
		return true;
	if (broker_open(ar->config.broker, req->pid, path, req->flags & CLEARTAP_REQUEST_LIBRARY,
			&fd, why, sizeof(why)) < 0 ||
	    fstat(fd, &seen) < 0 || seen.st_dev != st->st_dev || seen.st_ino != st->st_ino) {
		snprintf(detail, sizeof(detail), "refused: %s", fd < 0 ? why : "another file");
		tls_probe_report(&none, CLEARTAP_ATTACH_REFUSED, req->dev, req->ino, path, detail,
				 ret);
		return false;
	}
	return true;
}

/* A file of the loader's own mount namespace: opened, and checked to be the one named. */
static void examine_own(struct attach_requests *ar,
			const struct cleartap_handoff_attach_request *req, const char *path,
			uint64_t now_ms, struct cleartap_handoff_attachment *ret)
{
	_cleanup_close_ int fd = -1;
	char detail[128];
	struct stat st;

	/* as the loader's own unprivileged user: it reads nothing that user may not; a FIFO
	 * named like a library must not block it */
	fd = target_open(path);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(detail, sizeof(detail), "the loader cannot open it: %s",
			 strerror(fd < 0 ? -fd : errno));
		tls_probe_report(&none, CLEARTAP_ATTACH_SKIPPED, req->dev, req->ino, path, detail,
				 ret);
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != req->dev || st.st_ino != req->ino) {
		tls_probe_report(
		    &none, CLEARTAP_ATTACH_REFUSED, req->dev, req->ino, path,
		    "not the file the collector named (not a regular file, or replaced)", ret);
		return;
	}
	if (!mapped_by(ar, req, path, &st, ret))
		return;
	examine(ar, fd, &st, path, "", now_ms, ret);
}

/* A file of another mount namespace: only the broker can open it, and only if pid maps it. */
static void examine_foreign(struct attach_requests *ar,
			    const struct cleartap_handoff_attach_request *req, const char *path,
			    uint64_t now_ms, struct cleartap_handoff_attachment *ret)
{
	_cleanup_close_ int fd = -1;
	char detail[256], why[128], how[64];
	struct stat st;

	if (!ar->config.broker || !ar->config.broker->pid) {
		snprintf(detail, sizeof(detail),
			 "opened in another mount namespace (mnt:[%u]): not attachable without a "
			 "broker%s",
			 req->mnt_ns, ar->config.no_broker_reason);
		tls_probe_report(&none, CLEARTAP_ATTACH_SKIPPED, 0, req->mnt_ns, path, detail, ret);
		return;
	}
	if (broker_open(ar->config.broker, req->pid, path, req->flags & CLEARTAP_REQUEST_LIBRARY,
			&fd, why, sizeof(why)) < 0 ||
	    fstat(fd, &st) < 0) {
		snprintf(
		    detail, sizeof(detail),
		    "opened in another mount namespace (mnt:[%u]); the broker did not open it: "
		    "%s",
		    req->mnt_ns, why);
		tls_probe_report(&none, CLEARTAP_ATTACH_SKIPPED, 0, req->mnt_ns, path, detail, ret);
		return;
	}
	snprintf(how, sizeof(how), ", opened by the broker in mnt:[%u]", req->mnt_ns);
	examine(ar, fd, &st, path, how, now_ms, ret);
}

/* An executable run by a relative name (./prog): the broker opens the process's own. */
static void examine_relative(struct attach_requests *ar,
			     const struct cleartap_handoff_attach_request *req, const char *path,
			     uint64_t now_ms, struct cleartap_handoff_attachment *ret)
{
	_cleanup_close_ int fd = -1;
	char detail[256], why[128];
	struct stat st;

	if (!ar->config.broker || !ar->config.broker->pid) {
		snprintf(detail, sizeof(detail),
			 "run by a relative name: only the broker can open a process's own "
			 "executable%s",
			 ar->config.no_broker_reason);
		tls_probe_report(&none, CLEARTAP_ATTACH_SKIPPED, 0, 0, path, detail, ret);
		return;
	}
	if (broker_open(ar->config.broker, req->pid, path, false, &fd, why, sizeof(why)) < 0 ||
	    fstat(fd, &st) < 0) {
		snprintf(detail, sizeof(detail), "the broker did not open pid %u's executable: %s",
			 req->pid, why);
		tls_probe_report(&none, CLEARTAP_ATTACH_SKIPPED, 0, 0, path, detail, ret);
		return;
	}
	examine(ar, fd, &st, path, ", pid's executable opened by the broker", now_ms, ret);
}

/* The collector's capture levels need no more of each call: the kernel copies no more. */
static void set_call_limit(struct attach_requests *ar,
			   const struct cleartap_handoff_attach_request *req,
			   struct cleartap_handoff_attachment *ret)
{
	uint32_t limit;
	char detail[96];

	if (req->ino && (req->ino < CLEARTAP_MIN_CALL_LIMIT || req->ino > UINT32_MAX)) {
		tls_probe_report(&none, CLEARTAP_ATTACH_REFUSED, 0, 0, "",
				 "per-call limit below 4096 bytes or above 4 GiB", ret);
		return;
	}
	limit = (uint32_t)req->ino;
	/* the programs read it once per call: a plain store is seen by the next one */
	__atomic_store_n(ar->config.call_limit, limit, __ATOMIC_RELAXED);
	if (limit && limit < ar->config.max_call_bytes)
		snprintf(detail, sizeof(detail), "each call copied up to %u bytes", limit);
	else
		snprintf(detail, sizeof(detail),
			 "each call copied up to %u bytes (--max-call-bytes)",
			 ar->config.max_call_bytes);
	tls_probe_report(&none, CLEARTAP_ATTACH_ATTACHED, 0, 0, "", detail, ret);
}

void attach_requests_answer(struct attach_requests *ar,
			    const struct cleartap_handoff_attach_request *req, uint64_t now_ms,
			    struct cleartap_handoff_attachment *ret)
{
	if (req->flags == CLEARTAP_REQUEST_CALL_LIMIT) {
		set_call_limit(ar, req, ret);
		return;
	}

	char path[sizeof(req->path)];
	size_t n = strnlen(req->path, sizeof(req->path));

	memcpy(path, req->path, n < sizeof(path) ? n : sizeof(path) - 1);
	path[n < sizeof(path) ? n : sizeof(path) - 1] = '\0';
	const bool relative = path[0] != '/';

	if (n == sizeof(req->path) || !path[0] ||
	    (relative && (req->flags & CLEARTAP_REQUEST_LIBRARY)) ||
	    req->flags & ~CLEARTAP_REQUEST_LIBRARY) {
		tls_probe_report(
		    &none, CLEARTAP_ATTACH_REFUSED, req->dev, req->ino, path,
		    "malformed request (library path not absolute, path not terminated, unknown "
		    "flags)",
		    ret);
		return;
	}
	if (relative)
		examine_relative(ar, req, path, now_ms, ret);
	else if (req->mnt_ns != ar->config.mnt_ns)
		examine_foreign(ar, req, path, now_ms, ret);
	else
		examine_own(ar, req, path, now_ms, ret);
}
