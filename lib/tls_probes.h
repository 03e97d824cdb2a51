/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_TLS_PROBES_H
#define CT_TLS_PROBES_H

#include <stddef.h>
#include <stdint.h>

#include "attach_planner.h"

#define CT_TLS_PROBES_MAX 8 /* functions of one file */
/* probe sites of one link kind: a Go function's exits are its return instructions */
#define CT_TLS_SITES_MAX (2 * PLANNER_MAX_RETURNS + CT_TLS_PROBES_MAX)

enum tls_library {
	TLS_LIB_OPENSSL = 1,
	TLS_LIB_GNUTLS = 2,
	TLS_LIB_GO = 3, /* crypto/tls of a Go executable */
};

/* The links one library file gets: the entry program, and the return program twice. */
enum tls_link {
	TLS_LINK_ENTRY = 0,  /* ct_tls_enter as uprobes on the entry sites */
	TLS_LINK_EXIT = 1,   /* ct_tls_return as uprobes on exit instructions */
	TLS_LINK_RETURN = 2, /* ct_tls_return as uretprobes */
	TLS_LINK__MAX,
};

struct tls_link_plan {
	size_t n;
	uint64_t offsets[CT_TLS_SITES_MAX];
	uint64_t cookies[CT_TLS_SITES_MAX];
};

/* One probed function and where the planner put its probes. */
struct tls_function_plan {
	const char *name;
	uint32_t func; /* enum cleartap_tls_func */
	uint64_t offset;
	struct planner_plan sites;
};

/* Where the TLS programs go in one library file. */
struct tls_probe_plan {
	enum tls_library library;
	const char *library_name; /* "openssl", "gnutls", "go" */
	size_t n_functions;
	struct tls_function_plan functions[CT_TLS_PROBES_MAX];
	struct tls_link_plan links[TLS_LINK__MAX];
	char missing[128]; /* optional functions not found, comma separated, for the report */
	char why[128];	   /* -ENOTSUP: why the file cannot be probed (a Go version, a layout) */
};

/*
 * Plan the probes for an ELF file (fd not consumed) holding OpenSSL or GnuTLS, at the sites the
 * attach planner chooses for that kernel. The data calls of a library are required
 * (SSL_read/SSL_write, gnutls_record_send/recv, crypto/tls.(*Conn).Read/Write): -ENOENT without
 * them (ret_plan->missing names what a partly matching library lacks); -ENOEXEC if not ELF;
 * -ENOTSUP for TLS code cleartap cannot probe safely (ret_plan->why says why: a Go version
 * before 1.17, a function with a return path no probe can see).
 */
int tls_probe_plan(int fd, const struct planner_kernel *kernel, struct tls_probe_plan *ret_plan);

/*
 * Derive everything of a plan that follows from its library and its functions' sites (names,
 * links, cookies): a plan received from a planner child is trusted for nothing else.
 * -EBADMSG when a function is not the library's, appears twice, or names no register.
 */
int tls_probe_plan_rebuild(struct tls_probe_plan *plan);

/* The links of one file: per kind, one uprobe_multi link, or one perf-event link per site. */
struct tls_links {
	size_t n[TLS_LINK__MAX];
	int fd[TLS_LINK__MAX][CT_TLS_SITES_MAX];
};

void tls_links_close(struct tls_links *links);

/*
 * The programs a file's probes run. Kernels without attach cookies (before 5.15) run one program
 * instance per cookie: for_cookie gives it (a borrowed fd, or -errno) and sites are attached
 * without a cookie. Without BPF links on perf events (before 5.15, perf_links false) the "links"
 * are the perf events themselves, which nothing can pin: closing one detaches it.
 */
struct tls_programs {
	int entry_fd;
	int return_fd;
	int (*for_cookie)(void *userdata, bool return_prog, uint64_t cookie);
	void *userdata;
	bool perf_links;
};

/*
 * Attach the programs to path according to plan, with one uprobe_multi link per link kind, or
 * (per_site, kernels before 6.6) one perf-event link per site. Returns 0 or -errno (nothing
 * stays attached then).
 */
int tls_probe_attach(const struct tls_programs *progs, const char *path,
		     const struct tls_probe_plan *plan, bool per_site, struct tls_links *ret_links);

struct cleartap_handoff_attachment;
struct cleartap_handoff_site;

/*
 * Fill the report collectors get about one library file (status is an enum
 * cleartap_attach_status), sites included. path and detail are cut to the fixed fields.
 */
void tls_probe_report(const struct tls_probe_plan *plan, uint32_t status, uint64_t dev,
		      uint64_t ino, const char *path, const char *detail,
		      struct cleartap_handoff_attachment *ret_report);

/* "SSL_write: entry +22 js (emulated), exit +56 jne (emulated)", cut to size. */
void tls_probe_describe_site(const struct cleartap_handoff_site *site, char *buf, size_t size);

/* The name of a probed function or syscall (enum cleartap_tls_func), "" when unknown. */
const char *tls_probe_function_name(uint32_t func);

#endif
