/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CT_TLS_PROBES_H
#define CT_TLS_PROBES_H

#include <stddef.h>
#include <stdint.h>

#define CT_TLS_PROBES_MAX 8

enum tls_library {
	TLS_LIB_OPENSSL = 1,
	TLS_LIB_GNUTLS = 2,
};

/* Where the TLS programs go in one library file: offsets and cookies for each of the two links. */
struct tls_probe_plan {
	enum tls_library library;
	const char *library_name; /* "openssl", "gnutls" */
	size_t n_entry;
	uint64_t entry_offsets[CT_TLS_PROBES_MAX];
	uint64_t entry_cookies[CT_TLS_PROBES_MAX];
	size_t n_return;
	uint64_t return_offsets[CT_TLS_PROBES_MAX];
	uint64_t return_cookies[CT_TLS_PROBES_MAX];
	char missing[128]; /* optional functions not found, comma separated, for the report */
};

/*
 * Plan the probes for an ELF file (fd not consumed) holding OpenSSL or GnuTLS. The data calls
 * of a library are required (SSL_read/SSL_write, gnutls_record_send/recv): -ENOENT without
 * them (ret_plan->missing names what a partly matching library lacks); -ENOEXEC if not ELF.
 */
int tls_probe_plan(int fd, struct tls_probe_plan *ret_plan);

/* Attach both programs to path according to plan. Returns 0 and two link fds, or -errno. */
int tls_probe_attach(int entry_prog_fd, int return_prog_fd, const char *path,
		     const struct tls_probe_plan *plan, int *ret_entry_link, int *ret_return_link);

struct cleartap_handoff_attachment;

/*
 * Fill the report collectors get about one library file (status is an enum
 * cleartap_attach_status). path and detail are cut to the fixed fields, on purpose.
 */
void tls_probe_report(const struct tls_probe_plan *plan, uint32_t status, uint64_t dev,
		      uint64_t ino, const char *path, const char *detail,
		      struct cleartap_handoff_attachment *ret_report);

#endif
