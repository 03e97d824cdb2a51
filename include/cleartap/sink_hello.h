/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What cleartap-export writes first on each collector connection (--proto unix:): its pid, so
 * the collector never exports that process's own traffic. SO_PEERCRED cannot tell: for a
 * socket systemd made, it names systemd.
 */
#ifndef CLEARTAP_SINK_HELLO_H
#define CLEARTAP_SINK_HELLO_H

#include <linux/types.h>

#define CLEARTAP_SINK_HELLO_MAGIC 0x48585443u /* "CTXH" */

struct cleartap_sink_hello {
	__u32 magic;
	__u32 pid; /* in the exporter's pid namespace (the host's under systemd) */
	__u64 reserved;
};

_Static_assert(sizeof(struct cleartap_sink_hello) == 16, "sink hello layout");

#endif
