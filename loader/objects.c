/* SPDX-License-Identifier: Apache-2.0 */
#include "objects.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bpffs.h"
#include "cleartap/events.h"
#include "cleartap/handoff.h"
#include "ct_macro.h"
#include "conn.skel.h"
#include "proc.skel.h"
#include "syscalls.skel.h"
#include "syscalls_bounded.skel.h"
#include "tls.skel.h"
#include "tls_bounded.skel.h"
#include "tls_probes.h"
#include "uprobe_link.h"

int objects_pin_path(char *buf, size_t size, const char *pin_dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", pin_dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int pin_fd(int fd, const char *pin_dir, const char *name)
{
	char path[PATH_MAX];
	int r = objects_pin_path(path, sizeof(path), pin_dir, name);

	if (r < 0)
		return r;
	return bpf_obj_pin(fd, path) < 0 ? ct_negative_errno() : 0;
}

static int get_pinned(const char *pin_dir, const char *name, int *ret_fd)
{
	char path[PATH_MAX];
	int r = objects_pin_path(path, sizeof(path), pin_dir, name);
	int fd;

	if (r < 0)
		return r;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return ct_negative_errno();
	*ret_fd = fd;
	return 0;
}

void objects_close(struct objects *o)
{
	handoff_fds_close(&o->fds);
	for (size_t i = 0; i < o->n_instances; i++)
		close(o->instances[i].fd);
	o->n_instances = 0;
	for (size_t i = 0; i < o->n_held; i++)
		close(o->held[i]);
	if (o->call_limit)
		munmap((void *)o->call_limit, (size_t)sysconf(_SC_PAGESIZE));
	o->call_limit = NULL;
	free(o->held);
	o->held = NULL;
	o->n_held = 0;
}

int objects_hold_links(struct objects *o, struct tls_links *links)
{
	size_t n = 0;
	int *held;

	for (int l = 0; l < TLS_LINK__MAX; l++)
		n += links->n[l];
	held = realloc(o->held, (o->n_held + n) * sizeof(*held));
	if (!held && o->n_held + n)
		return -ENOMEM;
	o->held = held;
	for (int l = 0; l < TLS_LINK__MAX; l++) {
		for (size_t i = 0; i < links->n[l]; i++)
			o->held[o->n_held++] = links->fd[l][i];
		links->n[l] = 0;
	}
	return 0;
}

static int map_max_entries(int fd, uint32_t *ret)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return ct_negative_errno();
	*ret = info.max_entries;
	return 0;
}

static int reuse_pins(const char *pin_dir, struct objects *o)
{
	struct ct_tls__rodata rodata = {};
	_cleanup_close_ int rodata_fd = -1;
	_cleanup_close_ int outer_fd = -1;
	uint32_t zero = 0;
	int r;

	if ((r = get_pinned(pin_dir, "progs/ct_tls_enter", &o->fds.prog_tls_enter)) < 0 ||
	    (r = get_pinned(pin_dir, "progs/ct_tls_return", &o->fds.prog_tls_return)) < 0 ||
	    (r = get_pinned(pin_dir, "maps/ct_counters", &o->fds.counters)) < 0 ||
	    (r = get_pinned(pin_dir, "maps/ct_rodata", &rodata_fd)) < 0 ||
	    (r = get_pinned(pin_dir, "maps/ct_rings", &outer_fd)) < 0)
		return r;
	if (bpf_map_lookup_elem(rodata_fd, &zero, &rodata) < 0)
		return ct_negative_errno();
	if (rodata.ct_schema_version != CLEARTAP_SCHEMA_VERSION)
		return -EPROTONOSUPPORT;
	if ((r = get_pinned(pin_dir, "maps/ct_call_limit", &o->fds.call_limit)) < 0)
		return r;
	if ((r = map_max_entries(outer_fd, &o->fds.n_rings)) < 0)
		return r;
	if (o->fds.n_rings == 0 || o->fds.n_rings > CT_MAX_RING_SHARDS ||
	    o->fds.n_rings != rodata.ct_ring_shards)
		return -EUCLEAN;
	for (uint32_t i = 0; i < o->fds.n_rings; i++) {
		char name[32];

		snprintf(name, sizeof(name), "maps/ct_ring_%u", i);
		o->fds.rings[i] = -1;
		if ((r = get_pinned(pin_dir, name, &o->fds.rings[i])) < 0)
			return r;
	}
	if ((r = map_max_entries(o->fds.counters, &o->fds.counter_rows)) < 0)
		return r;
	if (o->fds.counter_rows % CLEARTAP_COUNTER_STRIDE)
		return -EUCLEAN;
	o->fds.counter_rows /= CLEARTAP_COUNTER_STRIDE;
	o->fds.ring_size = rodata.ct_ring_size;
	o->fds.max_call_bytes = rodata.ct_max_call_bytes;
	o->reused = true;
	return 0;
}

/*
 * SKEL##__open_build(bounded): skeleton SKEL opened on the ELF bytes of its bounded build
 * (BOUNDED, for kernels without bpf_loop) when bounded. The builds differ in code and in maps the
 * skeleton does not name; what it names, and the rodata it maps, they share (asserted below).
 */
#define DEFINE_OPEN_BUILD(SKEL, BOUNDED)                                                           \
	_Static_assert(sizeof(struct SKEL##__rodata) == sizeof(struct BOUNDED##__rodata) &&        \
			   offsetof(struct SKEL##__rodata, ct_max_call_bytes) ==                   \
			       offsetof(struct BOUNDED##__rodata, ct_max_call_bytes),              \
		       #SKEL " and its bounded build map the same rodata");                        \
	static struct SKEL *SKEL##__open_build(bool bounded)                                       \
	{                                                                                          \
		struct SKEL *obj = calloc(1, sizeof(*obj));                                        \
		int r;                                                                             \
                                                                                                   \
		if (!obj)                                                                          \
			return NULL;                                                               \
		if ((r = SKEL##__create_skeleton(obj)) < 0)                                        \
			goto fail;                                                                 \
		if (bounded)                                                                       \
			obj->skeleton->data =                                                      \
			    (void *)BOUNDED##__elf_bytes(&obj->skeleton->data_sz);                 \
		if ((r = bpf_object__open_skeleton(obj->skeleton, NULL)) < 0)                      \
			goto fail;                                                                 \
		return obj;                                                                        \
	fail:                                                                                      \
		SKEL##__destroy(obj);                                                              \
		errno = -r;                                                                        \
		return NULL;                                                                       \
	}
DEFINE_OPEN_BUILD(ct_tls, ct_tls_bounded)
DEFINE_OPEN_BUILD(ct_syscalls, ct_syscalls_bounded)

/* The connection object shares the TLS object's rings and counters. */
static int load_conn(const struct objects_config *cfg, struct ct_tls *tls)
{
	struct ct_conn *conn = ct_conn__open();
	int r;

	if (!conn)
		return ct_negative_errno();
	conn->rodata->ct_ring_shards = cfg->ring_shards;
	conn->rodata->ct_ring_size = cfg->ring_size;
	conn->rodata->ct_sock_ids_made = tls->rodata->ct_sock_ids_made;
	if ((r = bpf_map__reuse_fd(conn->maps.ct_rings, bpf_map__fd(tls->maps.ct_rings))) < 0 ||
	    (r = bpf_map__reuse_fd(conn->maps.ct_sock_ids, bpf_map__fd(tls->maps.ct_sock_ids))) <
		0 ||
	    (r = bpf_map__reuse_fd(conn->maps.ct_counters, bpf_map__fd(tls->maps.ct_counters))) <
		0 ||
	    (r = ct_conn__load(conn)) < 0 ||
	    (r = pin_fd(bpf_map__fd(conn->maps.ct_socks), cfg->pin_dir, "maps/ct_socks")) < 0)
		goto out;
	r = pin_fd(bpf_program__fd(conn->progs.ct_sock_state), cfg->pin_dir, "progs/ct_sock_state");
out:
	ct_conn__destroy(conn);
	return r;
}

/* The process object shares the TLS object's rings and counters too. */
static int load_proc(const struct objects_config *cfg, struct ct_tls *tls)
{
	struct ct_proc *proc = ct_proc__open();
	int r;

	if (!proc)
		return ct_negative_errno();
	proc->rodata->ct_ring_shards = cfg->ring_shards;
	proc->rodata->ct_ring_size = cfg->ring_size;
	if ((r = bpf_map__reuse_fd(proc->maps.ct_rings, bpf_map__fd(tls->maps.ct_rings))) < 0 ||
	    (r = bpf_map__reuse_fd(proc->maps.ct_counters, bpf_map__fd(tls->maps.ct_counters))) <
		0 ||
	    (r = ct_proc__load(proc)) < 0 ||
	    (r = pin_fd(bpf_program__fd(proc->progs.ct_proc_exec), cfg->pin_dir,
			"progs/ct_proc_exec")) < 0)
		goto out;
	r = pin_fd(bpf_program__fd(proc->progs.ct_proc_exit), cfg->pin_dir, "progs/ct_proc_exit");
out:
	ct_proc__destroy(proc);
	return r;
}

/*
 * The syscall object shares the TLS object's rings, counters and pending calls, and the
 * connection object's per-connection state (pinned by load_conn).
 */
static int load_syscalls(const struct objects_config *cfg, struct ct_tls *tls)
{
	struct ct_syscalls *sys =
	    ct_syscalls__open_build(!(cfg->kernel_features & CLEARTAP_KFEAT_BPF_LOOP));
	_cleanup_close_ int socks_fd = -1;
	int r;

	if (!sys)
		return ct_negative_errno();
	sys->rodata->ct_ring_shards = cfg->ring_shards;
	sys->rodata->ct_ring_size = cfg->ring_size;
	sys->rodata->ct_max_call_bytes = cfg->max_call_bytes;
	sys->rodata->ct_sock_ids_made = tls->rodata->ct_sock_ids_made;
	if ((r = get_pinned(cfg->pin_dir, "maps/ct_socks", &socks_fd)) < 0 ||
	    (r = bpf_map__reuse_fd(sys->maps.ct_rings, bpf_map__fd(tls->maps.ct_rings))) < 0 ||
	    (r = bpf_map__reuse_fd(sys->maps.ct_counters, bpf_map__fd(tls->maps.ct_counters))) <
		0 ||
	    (r = bpf_map__reuse_fd(sys->maps.ct_calls, bpf_map__fd(tls->maps.ct_calls))) < 0 ||
	    (r = bpf_map__reuse_fd(sys->maps.ct_go_calls, bpf_map__fd(tls->maps.ct_go_calls))) <
		0 ||
	    (r = bpf_map__reuse_fd(sys->maps.ct_thread_bio, bpf_map__fd(tls->maps.ct_thread_bio))) <
		0 ||
	    (r = bpf_map__reuse_fd(sys->maps.ct_bio_ties, bpf_map__fd(tls->maps.ct_bio_ties))) <
		0 ||
	    (r = bpf_map__reuse_fd(sys->maps.ct_call_limit, bpf_map__fd(tls->maps.ct_call_limit))) <
		0 ||
	    (r = bpf_map__reuse_fd(sys->maps.ct_socks, socks_fd)) < 0 ||
	    (r = bpf_map__reuse_fd(sys->maps.ct_sock_ids, bpf_map__fd(tls->maps.ct_sock_ids))) <
		0 ||
	    (r = ct_syscalls__load(sys)) < 0 ||
	    (r = pin_fd(bpf_program__fd(sys->progs.ct_sys_enter), cfg->pin_dir,
			"progs/ct_sys_enter")) < 0)
		goto out;
	r = pin_fd(bpf_program__fd(sys->progs.ct_sys_exit), cfg->pin_dir, "progs/ct_sys_exit");
out:
	ct_syscalls__destroy(sys);
	return r;
}

static int load_and_pin(const struct objects_config *cfg, struct objects *o)
{
	struct {
		struct bpf_map *map;
		const char *pin;
	} pinned_maps[9];
	struct ct_tls *skel;
	int outer_fd, r;

	skel = ct_tls__open_build(!(cfg->kernel_features & CLEARTAP_KFEAT_BPF_LOOP));
	if (!skel)
		return ct_negative_errno();
	skel->rodata->ct_ring_shards = cfg->ring_shards;
	skel->rodata->ct_ring_size = cfg->ring_size;
	skel->rodata->ct_max_call_bytes = cfg->max_call_bytes;
	skel->rodata->ct_sock_ids_made = !(cfg->kernel_features & CLEARTAP_KFEAT_SOCKET_COOKIE);
	/* without attach cookies these two are templates: instances run (objects_tls_program) */
	skel->rodata->ct_cookie_fixed = !(cfg->kernel_features & CLEARTAP_KFEAT_ATTACH_COOKIE);
	/* Rings are created first; the first one is the outer map's inner-map template. */
	o->fds.n_rings = cfg->ring_shards;
	for (uint32_t i = 0; i < o->fds.n_rings; i++) {
		char name[32];

		snprintf(name, sizeof(name), "ct_ring_%u", i);
		o->fds.rings[i] =
		    bpf_map_create(BPF_MAP_TYPE_RINGBUF, name, 0, 0, cfg->ring_size, NULL);
		if (o->fds.rings[i] < 0) {
			r = ct_negative_errno();
			goto out;
		}
	}
	/* a row of counters per CPU the programs may run on */
	if ((r = libbpf_num_possible_cpus()) < 0)
		goto out;
	o->fds.counter_rows = (uint32_t)r;
	if ((r = bpf_map__set_max_entries(skel->maps.ct_counters,
					  o->fds.counter_rows * CLEARTAP_COUNTER_STRIDE)) < 0 ||
	    (r = bpf_map__set_max_entries(skel->maps.ct_rings, cfg->ring_shards)) < 0 ||
	    (r = bpf_map__set_inner_map_fd(skel->maps.ct_rings, o->fds.rings[0])) < 0)
		goto out;
	/* Before 6.6 the programs go on perf-event uprobes, which need no expected attach type. */
	if ((cfg->kernel_features & CLEARTAP_KFEAT_UPROBE_MULTI) &&
	    ((r = bpf_program__set_expected_attach_type(skel->progs.ct_tls_enter,
							CT_BPF_TRACE_UPROBE_MULTI)) < 0 ||
	     (r = bpf_program__set_expected_attach_type(skel->progs.ct_tls_return,
							CT_BPF_TRACE_UPROBE_MULTI)) < 0))
		goto out;
	/* The verifier decides here; its log goes to the libbpf print callback. */
	if ((r = ct_tls__load(skel)) < 0)
		goto out;

	outer_fd = bpf_map__fd(skel->maps.ct_rings);
	for (uint32_t i = 0; i < o->fds.n_rings; i++) {
		char name[32];

		if (bpf_map_update_elem(outer_fd, &i, &o->fds.rings[i], BPF_ANY) < 0) {
			r = ct_negative_errno();
			goto out;
		}
		snprintf(name, sizeof(name), "maps/ct_ring_%u", i);
		if ((r = pin_fd(o->fds.rings[i], cfg->pin_dir, name)) < 0)
			goto out;
	}
	pinned_maps[0].map = skel->maps.ct_rings, pinned_maps[0].pin = "maps/ct_rings";
	pinned_maps[1].map = skel->maps.ct_counters, pinned_maps[1].pin = "maps/ct_counters";
	pinned_maps[2].map = skel->maps.ct_calls, pinned_maps[2].pin = "maps/ct_calls";
	pinned_maps[3].map = skel->maps.ct_ssl, pinned_maps[3].pin = "maps/ct_ssl";
	pinned_maps[4].map = skel->maps.ct_go_calls, pinned_maps[4].pin = "maps/ct_go_calls";
	pinned_maps[5].map = skel->maps.ct_call_limit, pinned_maps[5].pin = "maps/ct_call_limit";
	/* the rest for program instances of kernels without attach cookies (objects_tls_program) */
	pinned_maps[6].map = skel->maps.ct_thread_bio, pinned_maps[6].pin = "maps/ct_thread_bio";
	pinned_maps[7].map = skel->maps.ct_bio_ties, pinned_maps[7].pin = "maps/ct_bio_ties";
	pinned_maps[8].map = skel->maps.ct_sock_ids, pinned_maps[8].pin = "maps/ct_sock_ids";
	for (size_t i = 0; i < CT_ARRAY_SIZE(pinned_maps); i++)
		if ((r = pin_fd(bpf_map__fd(pinned_maps[i].map), cfg->pin_dir,
				pinned_maps[i].pin)) < 0)
			goto out;
	if ((r = load_conn(cfg, skel)) < 0 || (r = load_proc(cfg, skel)) < 0 ||
	    (r = load_syscalls(cfg, skel)) < 0 ||
	    (r = pin_fd(bpf_map__fd(skel->maps.rodata), cfg->pin_dir, "maps/ct_rodata")) < 0 ||
	    (r = pin_fd(bpf_program__fd(skel->progs.ct_tls_return), cfg->pin_dir,
			"progs/ct_tls_return")) < 0 ||
	    /* Pinned last: its presence marks a complete set of pins (see reuse_pins). */
	    (r = pin_fd(bpf_program__fd(skel->progs.ct_tls_enter), cfg->pin_dir,
			"progs/ct_tls_enter")) < 0)
		goto out;

	/*
	 * Frozen: no process can write the counters any more, through bpf() or a writable
	 * mapping (the programs still count). The collector maps them instead of reading them
	 * with bpf(BPF_MAP_LOOKUP_ELEM), which could not write; frozen, neither can the mapping.
	 */
	if (bpf_map_freeze(bpf_map__fd(skel->maps.ct_counters)) < 0) {
		r = ct_negative_errno();
		goto out;
	}
	o->fds.counters = dup(bpf_map__fd(skel->maps.ct_counters));
	o->fds.call_limit = dup(bpf_map__fd(skel->maps.ct_call_limit));
	o->fds.prog_tls_enter = dup(bpf_program__fd(skel->progs.ct_tls_enter));
	o->fds.prog_tls_return = dup(bpf_program__fd(skel->progs.ct_tls_return));
	if (o->fds.counters < 0 || o->fds.call_limit < 0 || o->fds.prog_tls_enter < 0 ||
	    o->fds.prog_tls_return < 0) {
		r = -errno;
		goto out;
	}
	o->fds.ring_size = cfg->ring_size;
	o->fds.max_call_bytes = cfg->max_call_bytes;
	r = 0;
out:
	ct_tls__destroy(skel);
	return r;
}

/*
 * A TLS program instance for one cookie: the tls build again, with the pinned rodata, the cookie
 * fixed in it, and every map the pins hold (those they do not, the per-thread emit slots, stay
 * the instance's own). Only the one program is loaded.
 */
static int load_tls_instance(const struct objects *o, bool return_prog, uint64_t cookie,
			     int *ret_fd)
{
	struct ct_tls *skel =
	    ct_tls__open_build(!(o->fds.kernel_features & CLEARTAP_KFEAT_BPF_LOOP));
	_cleanup_close_ int rodata_fd = -1;
	struct ct_tls__rodata pinned = {};
	struct bpf_program *prog;
	struct bpf_map *map;
	uint32_t zero = 0;
	int r;

	if (!skel)
		return ct_negative_errno();
	if ((r = get_pinned(o->pin_dir, "maps/ct_rodata", &rodata_fd)) < 0)
		goto out;
	if (bpf_map_lookup_elem(rodata_fd, &zero, &pinned) < 0) {
		r = ct_negative_errno();
		goto out;
	}
	*skel->rodata = pinned;
	skel->rodata->ct_cookie_fixed = 1;
	skel->rodata->ct_fixed_cookie = cookie;
	bpf_object__for_each_map (map, skel->obj) {
		char pin[64];
		int fd;

		if (bpf_map__is_internal(map))
			continue;
		snprintf(pin, sizeof(pin), "maps/%s", bpf_map__name(map));
		r = get_pinned(o->pin_dir, pin, &fd);
		if (r == -ENOENT)
			continue;
		if (r == 0) {
			r = bpf_map__reuse_fd(map, fd);
			close(fd);
		}
		if (r < 0)
			goto out;
	}
	bpf_program__set_autoload(
	    return_prog ? skel->progs.ct_tls_enter : skel->progs.ct_tls_return, false);
	prog = return_prog ? skel->progs.ct_tls_return : skel->progs.ct_tls_enter;
	if ((r = ct_tls__load(skel)) < 0)
		goto out;
	*ret_fd = dup(bpf_program__fd(prog));
	r = *ret_fd < 0 ? -errno : 0;
out:
	ct_tls__destroy(skel);
	return r;
}

int objects_tls_program(struct objects *o, bool return_prog, uint64_t cookie)
{
	struct tls_instance *in;
	int fd = -1, r;

	for (size_t i = 0; i < o->n_instances; i++)
		if (o->instances[i].cookie == cookie && o->instances[i].return_prog == return_prog)
			return o->instances[i].fd;
	if (o->n_instances == CT_ARRAY_SIZE(o->instances))
		return -E2BIG;
	if ((r = load_tls_instance(o, return_prog, cookie, &fd)) < 0)
		return r;
	in = &o->instances[o->n_instances++];
	in->cookie = cookie;
	in->return_prog = return_prog;
	in->fd = fd;
	return fd;
}

static const char *const pin_subdirs[] = {"maps", "progs", "links"};

static int for_each_pin_subdir(const char *pin_dir, int (*fn)(const char *path))
{
	for (size_t i = 0; i < CT_ARRAY_SIZE(pin_subdirs); i++) {
		char path[PATH_MAX];
		int r = objects_pin_path(path, sizeof(path), pin_dir, pin_subdirs[i]);

		if (r < 0 || (r = fn(path)) < 0)
			return r;
	}
	return 0;
}

int objects_remove_pins(const char *pin_dir)
{
	int r = for_each_pin_subdir(pin_dir, bpffs_remove_tree);

	if (r < 0)
		return r;
	/* Only cleartap's own subdirectories are removed; the directory goes if nothing else is. */
	if (rmdir(pin_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		return -errno;
	return 0;
}

/* A tp_btf program is attached once, and its link pinned, whoever loaded the programs. */
static int ensure_raw_tp_link(const char *pin_dir, const char *name)
{
	_cleanup_close_ int link_fd = -1;
	_cleanup_close_ int prog_fd = -1;
	char path[PATH_MAX], pin[64];
	int r;

	snprintf(pin, sizeof(pin), "links/%s", name);
	if ((r = objects_pin_path(path, sizeof(path), pin_dir, pin)) < 0)
		return r;
	if (access(path, F_OK) == 0)
		return 0;
	snprintf(pin, sizeof(pin), "progs/%s", name);
	if ((r = get_pinned(pin_dir, pin, &prog_fd)) < 0)
		return r;
	/* tp_btf: the attach target was fixed at load time, so no name is passed. */
	link_fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	if (link_fd < 0)
		return ct_negative_errno();
	return bpf_obj_pin(link_fd, path) < 0 ? ct_negative_errno() : 0;
}

/* Mapped now: the loader writes it after dropping its capabilities, without bpf() (objects.h). */
static int map_call_limit(struct objects *o)
{
	void *area = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
			  o->fds.call_limit, 0);

	if (area == MAP_FAILED)
		return -errno;
	o->call_limit = area;
	return 0;
}

int objects_load_or_reuse(const struct objects_config *cfg, struct objects *ret_objects)
{
	char marker[PATH_MAX];
	struct objects o;
	bool fresh;
	int r;

	memset(&o, 0, sizeof(o));
	handoff_fds_init(&o.fds);
	o.fds.kernel_features = cfg->kernel_features;
	o.pin_dir = cfg->pin_dir;
	if ((r = objects_pin_path(marker, sizeof(marker), cfg->pin_dir, "progs/ct_tls_enter")) < 0)
		return r;
	fresh = access(marker, F_OK) < 0;
	if (fresh) {
		/* A half-written pin tree from a crashed load holds no marker: start over. */
		if ((r = objects_remove_pins(cfg->pin_dir)) < 0 ||
		    (r = for_each_pin_subdir(cfg->pin_dir, bpffs_mkdir_p)) < 0)
			return r;
		r = load_and_pin(cfg, &o);
	} else {
		r = reuse_pins(cfg->pin_dir, &o);
	}
	if (r == 0)
		r = ensure_raw_tp_link(cfg->pin_dir, "ct_sys_enter");
	if (r == 0)
		r = ensure_raw_tp_link(cfg->pin_dir, "ct_sys_exit");
	if (r == 0)
		r = ensure_raw_tp_link(cfg->pin_dir, "ct_sock_state");
	if (r == 0)
		r = ensure_raw_tp_link(cfg->pin_dir, "ct_proc_exec");
	if (r == 0)
		r = ensure_raw_tp_link(cfg->pin_dir, "ct_proc_exit");
	if (r == 0)
		r = map_call_limit(&o);
	if (r < 0) {
		objects_close(&o);
		if (fresh)
			objects_remove_pins(cfg->pin_dir);
		return r;
	}
	*ret_objects = o;
	return 0;
}
