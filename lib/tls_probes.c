/* SPDX-License-Identifier: Apache-2.0 */
#include "tls_probes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cleartap/events.h"
#include "cleartap/handoff.h"

#include "ct_macro.h"
#include "elf_symbols.h"
#include "uprobe_multi.h"

struct probed_function {
	const char *name;
	enum cleartap_tls_func func;
	bool required;
	bool has_return; /* data calls need their return value and buffer contents */
};

static const struct probed_function openssl_functions[] = {
    {"SSL_write", CLEARTAP_FN_SSL_WRITE, true, true},
    {"SSL_read", CLEARTAP_FN_SSL_READ, true, true},
    {"SSL_write_ex", CLEARTAP_FN_SSL_WRITE_EX, false, true}, /* OpenSSL >= 1.1.1 */
    {"SSL_read_ex", CLEARTAP_FN_SSL_READ_EX, false, true},   /* OpenSSL >= 1.1.1 */
    {"SSL_set_fd", CLEARTAP_FN_SSL_SET_FD, false, false},    /* fd hint */
    {"SSL_free", CLEARTAP_FN_SSL_FREE, false, false},	     /* session end */
};

static const struct probed_function gnutls_functions[] = {
    {"gnutls_record_send", CLEARTAP_FN_GNUTLS_SEND, true, true},
    {"gnutls_record_recv", CLEARTAP_FN_GNUTLS_RECV, true, true},
    {"gnutls_deinit", CLEARTAP_FN_GNUTLS_DEINIT, false, false}, /* session end */
};

static const struct {
	enum tls_library library;
	const char *name;
	const struct probed_function *functions;
	size_t n;
} libraries[] = {
    {TLS_LIB_OPENSSL, "openssl", openssl_functions, CT_ARRAY_SIZE(openssl_functions)},
    {TLS_LIB_GNUTLS, "gnutls", gnutls_functions, CT_ARRAY_SIZE(gnutls_functions)},
};

static void note_missing(struct tls_probe_plan *plan, const char *name)
{
	size_t used = strlen(plan->missing);

	snprintf(plan->missing + used, sizeof(plan->missing) - used, "%s%s", used ? "," : "", name);
}

static int plan_library(int fd, size_t k, struct tls_probe_plan *ret_plan)
{
	const struct probed_function *f = libraries[k].functions;
	const char *names[CT_TLS_PROBES_MAX];
	uint64_t offsets[CT_TLS_PROBES_MAX];
	struct tls_probe_plan plan = {.library = libraries[k].library,
				      .library_name = libraries[k].name};
	bool complete = true;
	int r;

	for (size_t i = 0; i < libraries[k].n; i++)
		names[i] = f[i].name;
	r = elf_resolve_functions_fd(fd, names, libraries[k].n, offsets);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	for (size_t i = 0; i < libraries[k].n; i++) {
		if (!offsets[i]) {
			note_missing(&plan, names[i]);
			complete &= !f[i].required;
			continue;
		}
		plan.entry_offsets[plan.n_entry] = offsets[i];
		plan.entry_cookies[plan.n_entry++] = f[i].func;
		if (f[i].has_return) {
			plan.return_offsets[plan.n_return] = offsets[i];
			plan.return_cookies[plan.n_return++] = f[i].func;
		}
	}
	*ret_plan = plan;
	return complete ? 0 : -ENOENT;
}

int tls_probe_plan(int fd, struct tls_probe_plan *ret_plan)
{
	int r = -ENOENT;

	_Static_assert(CT_ARRAY_SIZE(openssl_functions) <= CT_TLS_PROBES_MAX, "plan too small");
	_Static_assert(CT_ARRAY_SIZE(gnutls_functions) <= CT_TLS_PROBES_MAX, "plan too small");
	*ret_plan = (struct tls_probe_plan){}; /* defined even when nothing matches */
	for (size_t k = 0; k < CT_ARRAY_SIZE(libraries); k++) {
		r = plan_library(fd, k, ret_plan);
		if (r != -ENOENT)
			return r; /* planned, or not an ELF file */
	}
	return r;
}

int tls_probe_attach(int entry_prog_fd, int return_prog_fd, const char *path,
		     const struct tls_probe_plan *plan, int *ret_entry_link, int *ret_return_link)
{
	_cleanup_close_ int entry_link = -1;
	_cleanup_close_ int return_link = -1;
	int r;

	r = uprobe_multi_attach(entry_prog_fd, path, plan->entry_offsets, plan->entry_cookies,
				plan->n_entry, false, &entry_link);
	if (r < 0)
		return r;
	r = uprobe_multi_attach(return_prog_fd, path, plan->return_offsets, plan->return_cookies,
				plan->n_return, true, &return_link);
	if (r < 0)
		return r;
	*ret_entry_link = ct_take_fd(&entry_link);
	*ret_return_link = ct_take_fd(&return_link);
	return 0;
}

static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

void tls_probe_report(const struct tls_probe_plan *plan, uint32_t status, uint64_t dev,
		      uint64_t ino, const char *path, const char *detail,
		      struct cleartap_handoff_attachment *ret_report)
{
	memset(ret_report, 0, sizeof(*ret_report));
	ret_report->status = status;
	ret_report->library = plan->library == TLS_LIB_OPENSSL	? CLEARTAP_LIB_OPENSSL
			      : plan->library == TLS_LIB_GNUTLS ? CLEARTAP_LIB_GNUTLS
								: CLEARTAP_LIB_UNKNOWN;
	ret_report->n_functions = (uint32_t)plan->n_entry;
	ret_report->dev = dev;
	ret_report->ino = ino;
	copy_cut(ret_report->path, sizeof(ret_report->path), path);
	copy_cut(ret_report->detail, sizeof(ret_report->detail), detail);
}
