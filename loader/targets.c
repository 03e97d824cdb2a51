/* SPDX-License-Identifier: Apache-2.0 */
#include "targets.h"

#include <bpf/bpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleartap/handoff.h"
#include "ct_macro.h"

/* Where distributions put the default libssl (Debian multiarch first). */
static const char *const default_libssl[] = {
#if defined(__x86_64__)
    "/usr/lib/x86_64-linux-gnu/libssl.so.3",
    "/usr/lib/x86_64-linux-gnu/libssl.so.1.1",
#elif defined(__aarch64__)
    "/usr/lib/aarch64-linux-gnu/libssl.so.3",
    "/usr/lib/aarch64-linux-gnu/libssl.so.1.1",
#endif
    "/usr/lib64/libssl.so.3",
    "/usr/lib/libssl.so.3",
#if defined(__x86_64__)
    "/usr/lib/x86_64-linux-gnu/libgnutls.so.30",
#elif defined(__aarch64__)
    "/usr/lib/aarch64-linux-gnu/libgnutls.so.30",
#endif
    "/usr/lib64/libgnutls.so.30",
};

void targets_free(struct tls_target_list *list)
{
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

static int add_target(struct tls_target_list *list, const char *path, bool executable)
{
	struct tls_target *items;
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0; /* gone or not a file: nothing to probe */
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i].dev == st.st_dev && list->items[i].ino == st.st_ino)
			return 0;
	items = realloc(list->items, (list->n + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	list->items = items;
	items[list->n].dev = st.st_dev;
	items[list->n].ino = st.st_ino;
	items[list->n].executable = executable;
	snprintf(items[list->n].path, sizeof(items[list->n].path), "%s", path);
	list->n++;
	return 0;
}

static bool is_tls_library(const char *path)
{
	const char *base = strrchr(path, '/');

	return base && (strncmp(base + 1, "libssl.so", 9) == 0 ||
			strncmp(base + 1, "libgnutls.so", 12) == 0);
}

static int scan_process(struct tls_target_list *list, const char *proc_root, const char *pid)
{
	char maps_path[PATH_MAX], line[PATH_MAX + 256];
	FILE *f;
	int r = 0;

	snprintf(maps_path, sizeof(maps_path), "%s/%s/maps", proc_root, pid);
	f = fopen(maps_path, "re");
	if (!f)
		return 0; /* exited, or a kernel thread */
	while (r == 0 && fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		char full[2 * PATH_MAX + 64];

		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (!is_tls_library(path) || strstr(path, " (deleted)"))
			continue;
		/* Through the process's root, so files of other mount namespaces resolve. */
		snprintf(full, sizeof(full), "%s/%s/root%s", proc_root, pid, path);
		r = add_target(list, full, false);
	}
	fclose(f);
	return r;
}

/* The process's executable, through its root like its libraries. */
static int add_executable(struct tls_target_list *list, const char *proc_root, const char *pid)
{
	char link[PATH_MAX], exe[PATH_MAX], full[2 * PATH_MAX + 64];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%s/exe", proc_root, pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0 || exe[0] != '/')
		return 0; /* a kernel thread, gone, or not ours to read */
	exe[n] = '\0';
	if (strstr(exe, " (deleted)"))
		return 0;
	snprintf(full, sizeof(full), "%s/%s/root%s", proc_root, pid, exe);
	return add_target(list, full, true);
}

int targets_discover(const char *proc_root, const char *const *extra, size_t n_extra,
		     struct tls_target_list *ret_list)
{
	struct tls_target_list list = {};
	struct dirent *de;
	DIR *proc;
	int r = 0;

	for (size_t i = 0; r == 0 && i < CT_ARRAY_SIZE(default_libssl); i++)
		r = add_target(&list, default_libssl[i], false);
	for (size_t i = 0; r == 0 && i < n_extra; i++) {
		if (access(extra[i], R_OK) < 0) {
			r = -errno;
			break;
		}
		r = add_target(&list, extra[i], false);
	}
	proc = opendir(proc_root);
	if (!proc && r == 0)
		r = -errno;
	while (r == 0 && proc && (de = readdir(proc)))
		if (isdigit((unsigned char)de->d_name[0]) &&
		    (r = scan_process(&list, proc_root, de->d_name)) == 0)
			r = add_executable(&list, proc_root, de->d_name);
	if (proc)
		closedir(proc);
	if (r < 0) {
		targets_free(&list);
		return r;
	}
	*ret_list = list;
	return 0;
}

/*
 * links/tls_<major>_<minor>_<ino>_<kind>: one uprobe_multi link per kind, or with perf-event links
 * (before 6.6) one per site, suffixed _<site>.
 */
static int link_pin_path(char *buf, size_t size, const char *pin_dir,
			 const struct tls_target *target, int kind, bool per_site, size_t site)
{
	static const char *const suffix[TLS_LINK__MAX] = {"enter", "exit", "return"};
	char name[112];

	if (per_site)
		snprintf(name, sizeof(name), "links/tls_%u_%u_%llu_%s_%zu", major(target->dev),
			 minor(target->dev), (unsigned long long)target->ino, suffix[kind], site);
	else
		snprintf(name, sizeof(name), "links/tls_%u_%u_%llu_%s", major(target->dev),
			 minor(target->dev), (unsigned long long)target->ino, suffix[kind]);
	return objects_pin_path(buf, size, pin_dir, name);
}

/* Calls fn on every pin path the plan needs, the entry kind last. */
static int for_each_link_pin(const char *pin_dir, const struct tls_target *target,
			     const struct tls_probe_plan *plan, bool per_site,
			     int (*fn)(const char *path, int kind, size_t i, void *ctx), void *ctx)
{
	for (int l = TLS_LINK__MAX - 1; l >= 0; l--) {
		size_t n = per_site ? plan->links[l].n : plan->links[l].n > 0;

		for (size_t i = 0; i < n; i++) {
			char path[PATH_MAX];
			int r = link_pin_path(path, sizeof(path), pin_dir, target, l, per_site, i);

			if (r < 0 || (r = fn(path, l, i, ctx)) < 0)
				return r;
		}
	}
	return 0;
}

static int pin_missing(const char *path, int kind, size_t i, void *ctx)
{
	(void)kind, (void)i, (void)ctx;
	return access(path, F_OK) == 0 ? 0 : -ENOENT;
}

static int pin_remove(const char *path, int kind, size_t i, void *ctx)
{
	(void)kind, (void)i, (void)ctx;
	unlink(path);
	return 0;
}

static int pin_link(const char *path, int kind, size_t i, void *ctx)
{
	const struct tls_links *links = ctx;

	return bpf_obj_pin(links->fd[kind][i], path) < 0 ? ct_negative_errno() : 0;
}

int target_open(const char *path)
{
	_cleanup_close_ int dir = -1;
	const char *base = strrchr(path, '/');
	char dir_path[PATH_MAX];
	int fd;

	if (path[0] != '/' || base[1] == '\0' || (size_t)(base - path) >= sizeof(dir_path))
		return -EINVAL; /* callers name files by absolute path */
	if (base == path) {	/* a file in the root */
		dir_path[0] = '/';
		dir_path[1] = '\0';
	} else {
		memcpy(dir_path, path, base - path);
		dir_path[base - path] = '\0';
	}
	dir = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	fd = openat(dir, base + 1, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

static int program_for_cookie(void *userdata, bool return_prog, uint64_t cookie)
{
	return objects_tls_program(userdata, return_prog, cookie);
}

int target_attach(struct objects *objects, const struct plan_sandbox *sandbox, const char *pin_dir,
		  const struct tls_target *target, enum target_result *ret_result,
		  struct tls_probe_plan *ret_plan)
{
	const uint32_t features = objects->fds.kernel_features;
	const bool per_site = !(features & CLEARTAP_KFEAT_UPROBE_MULTI);
	const struct tls_programs progs = {
	    .entry_fd = objects->fds.prog_tls_enter,
	    .return_fd = objects->fds.prog_tls_return,
	    .for_cookie = features & CLEARTAP_KFEAT_ATTACH_COOKIE ? NULL : program_for_cookie,
	    .userdata = objects,
	    .perf_links = features & CLEARTAP_KFEAT_PERF_LINK,
	};
	_cleanup_close_ int fd = -1;
	struct tls_probe_plan plan = {};
	struct tls_links links;
	struct stat st;
	int r;

	fd = target_open(target->path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC; /* a FIFO or device named like a library: never read */
	r = plan_sandboxed(sandbox, fd, &plan);
	*ret_plan = plan;
	if (r < 0)
		return r;
	if (per_site && !progs.perf_links) {
		/* before 5.15 nothing can pin a uprobe: the loader holds them while it runs */
		if ((r = tls_probe_attach(&progs, target->path, &plan, true, &links)) < 0)
			return r;
		if ((r = objects_hold_links(objects, &links)) < 0) {
			tls_links_close(&links);
			return r;
		}
		*ret_result = TARGET_ATTACHED;
		return 0;
	}
	/* The entry pins go last, so their presence says the set is complete. */
	if (for_each_link_pin(pin_dir, target, &plan, per_site, pin_missing, NULL) == 0) {
		*ret_result = TARGET_ALREADY_ATTACHED;
		return 0;
	}
	/* A partial set (crash between pins) is replaced, not doubled. */
	for_each_link_pin(pin_dir, target, &plan, per_site, pin_remove, NULL);
	r = tls_probe_attach(&progs, target->path, &plan, per_site, &links);
	if (r < 0)
		return r;
	r = for_each_link_pin(pin_dir, target, &plan, per_site, pin_link, &links);
	tls_links_close(&links);
	if (r < 0) {
		for_each_link_pin(pin_dir, target, &plan, per_site, pin_remove, NULL);
		return r;
	}
	*ret_result = TARGET_ATTACHED;
	return 0;
}
