/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod, namespace and container names of Kubernetes containers, from what the node shows
 * without the runtime's socket: kubelet names every container's log link in /var/log/containers
 * "<pod>_<namespace>_<container>-<container id>.log". The loader opens the directory and hands
 * it over; the collector lists it at start-up and again when a container id it did not name shows
 * up (at most once a second). Docker's and podman's own names need their API or root-only files:
 * not read.
 */
#ifndef CT_CONTAINER_NAMES_H
#define CT_CONTAINER_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define CONTAINER_NAMES_MAX	  16384 /* log links read per listing; more are left out */
#define CONTAINER_NAMES_RELIST_NS 1000000000ULL

struct container_names {
	char id[65];
	char pod[254];		/* a DNS subdomain: up to 253 */
	char pod_namespace[64]; /* DNS labels: up to 63 */
	char container[64];
};

struct container_names_dir;

/* Take a directory fd (opened O_RDONLY by the loader) and list it. -ENOTDIR, -ENOMEM. */
int container_names_from_fd(int dir_fd, struct container_names_dir **ret);
void container_names_close(struct container_names_dir *d);

/*
 * The names of a container id, or NULL; an id not named yet has the directory listed again if
 * the last listing is a second old. Valid until the next call (a listing replaces them).
 */
const struct container_names *container_names_find(struct container_names_dir *d,
						   const char *container_id);

/* Parse one link name; 0, or -EINVAL when it is not kubelet's format. */
int container_names_parse(const char *file_name, struct container_names *ret);

#endif
