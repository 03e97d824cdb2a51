/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * A TLS library call between its entry and return probes, per thread. The TLS object writes it;
 * the syscall object reads it to name the call's socket, and to know that bytes moved inside a
 * TLS call are ciphertext. Each thread keeps its slot: the return ends the call by setting func
 * to 0 (every exit path does), and the next entry overwrites the slot in place, because an LRU
 * insert and delete per call cost 120 ns more than that (bpf_stats, nginx under wrk). Slots of
 * threads that are gone are reclaimed by the LRU.
 */
#ifndef CT_TLS_CALL_BPF_H
#define CT_TLS_CALL_BPF_H

struct ct_call {
	__u64 ssl;
	__u64 buf;
	__u64 len_ptr; /* size_t *written / *readbytes of the _ex variants */
	__u64 start_ns;
	__s32 fd; /* from the first socket syscall inside the call, -1 until then */
	__u32 func;
	__u64 conn_cookie; /* of that fd's socket */
	__u32 contract;	   /* enum cleartap_call_contract, from the entry site's cookie */
	__u32 shared_exit; /* ends at a uretprobe on an internal function other callers share */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ct_call);
} ct_calls SEC(".maps");

/*
 * Go's calls belong to goroutines: a Read that blocks parks its goroutine, and it resumes on
 * whichever thread the scheduler picks, while its old thread runs other goroutines' calls. So a
 * Go call is keyed by its goroutine, the g pointer Go's ABIInternal keeps in r14 at every
 * function entry and return, and that the runtime's syscall wrappers leave there up to the
 * syscall instruction. Two goroutines never share a g while both live.
 */
struct ct_go_key {
	__u64 tgid;
	__u64 g;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ct_go_key);
	__type(value, struct ct_call);
} ct_go_calls SEC(".maps");

#if defined(__TARGET_ARCH_x86)
#define CT_GO_G(regs) ((regs)->r14)
#elif defined(__TARGET_ARCH_arm64)
#define CT_GO_G(regs) ((regs)->regs[28])
#endif

#endif
