/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the running kernel offers the BPF programs, probed by loading tiny programs (the kernel
 * version alone says nothing about backports). The probe needs the loader's start-up
 * privileges; the descriptions are for both sides.
 */
#ifndef CT_KERNEL_FEATURES_H
#define CT_KERNEL_FEATURES_H

#include <stddef.h>
#include <stdint.h>

/* A bitmask of enum cleartap_kernel_feature. Probes that cannot run count as absent. */
uint32_t kernel_features_probe(void);

/*
 * The features cleartap cannot do without (the ring buffer: Linux 5.8; bpf() for processes
 * without capabilities: not on 5.10 under kernel.unprivileged_bpf_disabled), of those absent
 * from features: 0 when it can run.
 */
uint32_t kernel_features_missing_required(uint32_t features);

/* The feature of that name in kernel_features[] ("bpf_loop", say); 0 if none. */
uint32_t kernel_feature_by_name(const char *name);

/*
 * The features cleartap knows, in the order they are reported: the bit, its name (for
 * --test-hide-feature) and what a kernel without it loses, in one sentence for the log and
 * the stats records.
 */
struct kernel_feature {
	uint32_t feature; /* one enum cleartap_kernel_feature bit */
	const char *name;
	const char *degradation;
};
extern const struct kernel_feature kernel_features[];
extern const size_t kernel_features_count;

#endif
