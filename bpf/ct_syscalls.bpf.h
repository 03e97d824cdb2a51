/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* System calls that move socket data or open libraries; numbers differ per architecture. */
#ifndef CT_SYSCALLS_BPF_H
#define CT_SYSCALLS_BPF_H

#if defined(__TARGET_ARCH_x86)
#define CT_NR_read     0
#define CT_NR_write    1
#define CT_NR_readv    19
#define CT_NR_writev   20
#define CT_NR_sendto   44
#define CT_NR_recvfrom 45
#define CT_NR_sendmsg  46
#define CT_NR_recvmsg  47
#define CT_NR_openat   257
#define CT_NR_sendfile 40
#define CT_NR_splice   275
#elif defined(__TARGET_ARCH_arm64)
#define CT_NR_read     63
#define CT_NR_write    64
#define CT_NR_readv    65
#define CT_NR_writev   66
#define CT_NR_sendto   206
#define CT_NR_recvfrom 207
#define CT_NR_sendmsg  211
#define CT_NR_recvmsg  212
#define CT_NR_openat   56
#define CT_NR_sendfile 71
#define CT_NR_splice   76
#else
#error "cleartap: syscall numbers for this architecture are missing"
#endif

/* open(2) flags (the same on x86 and arm64) */
#define CT_O_WRONLY 01
#define CT_O_RDWR   02
#define CT_O_CREAT  0100

/* recv flags (generic) */
#define CT_MSG_PEEK 0x02

/*
 * The number of the syscall a sys_exit reports: the tracepoint passes the registers only, as a
 * BTF pointer (tp_btf), so a direct load serves; it runs on every syscall of the host.
 */
#if defined(__TARGET_ARCH_x86)
#define CT_SYSCALL_NR(regs) ((regs)->orig_ax)
#else
#define CT_SYSCALL_NR(regs) ((regs)->syscallno)
#endif

/* Syscalls that move socket data (sendfile and splice without passing user memory). */
static __always_inline bool ct_is_socket_io_syscall(long id)
{
	switch (id) {
	case CT_NR_sendfile:
	case CT_NR_splice:
	case CT_NR_read:
	case CT_NR_write:
	case CT_NR_readv:
	case CT_NR_writev:
	case CT_NR_sendto:
	case CT_NR_recvfrom:
	case CT_NR_sendmsg:
	case CT_NR_recvmsg:
		return true;
	default:
		return false;
	}
}

#endif
