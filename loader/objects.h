/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_LOADER_OBJECTS_H
#define CT_LOADER_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff_io.h"

#define CT_MAX_RING_SHARDS CT_MAX_RINGS

struct objects_config {
	const char *pin_dir;
	uint32_t ring_size;	  /* bytes per shard, power of two */
	uint32_t ring_shards;	  /* 1..CT_MAX_RING_SHARDS */
	uint32_t max_call_bytes;  /* per-call copy cap */
	uint32_t kernel_features; /* enum cleartap_kernel_feature, from kernel_features_probe() */
};

/* Kernels without attach cookies (before 5.15): a TLS program instance with its cookie fixed. */
struct tls_instance {
	uint64_t cookie;
	bool return_prog; /* ct_tls_return, else ct_tls_enter */
	int fd;
};

#define CT_MAX_TLS_INSTANCES 64

/* The kernel objects the loader hands over, whether freshly loaded or reused from pins. */
struct objects {
	struct handoff_fds fds;
	bool reused;	     /* pins existed: nothing was loaded */
	const char *pin_dir; /* the instances' maps are found there */
	struct tls_instance instances[CT_MAX_TLS_INSTANCES];
	size_t n_instances;
	/* kernels without BPF links on perf events (before 5.15): the uprobe events, held */
	int *held;
	size_t n_held;
	/*
	 * ct_call_limit's one value, mapped: after the loader drops its capabilities, 5.10 refuses
	 * it bpf() while kernel.unprivileged_bpf_disabled is set.
	 */
	volatile uint32_t *call_limit;
};

/*
 * Reuse the objects pinned under cfg->pin_dir, or load and pin them. Ensures the syscall link is
 * attached and pinned exactly once. Returns 0, or -errno with nothing left pinned by this call.
 */
int objects_load_or_reuse(const struct objects_config *cfg, struct objects *ret_objects);

/* Unpin everything cleartap pinned below pin_dir (its links detach with it). Returns 0 or -errno.
 */
int objects_remove_pins(const char *pin_dir);

void objects_close(struct objects *objects);

/*
 * Kernels without attach cookies: the TLS entry (or return, return_prog) program instance for
 * cookie, loaded the first time it is asked for (needs the start-up privileges) with every map
 * shared with the pinned programs. Returns its fd, owned by objects, or -errno.
 */
int objects_tls_program(struct objects *objects, bool return_prog, uint64_t cookie);

/*
 * Kernels without BPF links on perf events: keep the uprobe events of links (nothing can pin
 * them) until objects_close, which detaches them. Returns 0, or -errno (links untouched).
 */
struct tls_links;
int objects_hold_links(struct objects *objects, struct tls_links *links);

/* Path of a pin below pin_dir ("progs/ct_tls_enter"). Returns 0 or -ENAMETOOLONG. */
int objects_pin_path(char *buf, size_t size, const char *pin_dir, const char *name);

#endif
