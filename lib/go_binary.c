/* SPDX-License-Identifier: Apache-2.0 */
#include "go_binary.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PCLNTAB_MAX   (256u << 20) /* Go's largest binaries (kubelet) hold ~40 MiB */
#define BUILDINFO_MAX (1u << 20)

static Elf_Scn *section_named(Elf *elf, const char *name, GElf_Shdr *ret_shdr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, ret_shdr))
			continue;
		n = elf_strptr(elf, shstrndx, ret_shdr->sh_name);
		if (n && strcmp(n, name) == 0)
			return ret_shdr->sh_type == SHT_NOBITS ? NULL : scn;
	}
	return NULL;
}

/* The section's bytes, whole, when it is no larger than max. */
static const uint8_t *section_bytes(Elf *elf, const char *name, size_t max, size_t *ret_size,
				    GElf_Shdr *ret_shdr)
{
	Elf_Scn *scn = section_named(elf, name, ret_shdr);
	Elf_Data *data;

	if (!scn || ret_shdr->sh_size > max)
		return NULL;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || data->d_size != ret_shdr->sh_size)
		return NULL;
	*ret_size = data->d_size;
	return data->d_buf;
}

static uint64_t load_le(const uint8_t *p, size_t width)
{
	uint64_t v = 0;

	for (size_t i = width; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* The bytes at a virtual address of a loaded segment, copied out; false when not in the file. */
static bool read_vaddr(Elf *elf, uint64_t vaddr, void *buf, size_t len)
{
	size_t n_phdr;
	GElf_Phdr phdr;

	if (elf_getphdrnum(elf, &n_phdr))
		return false;
	for (size_t i = 0; i < n_phdr; i++) {
		Elf_Data *data;
		uint64_t off;

		if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_LOAD ||
		    vaddr < phdr.p_vaddr || vaddr - phdr.p_vaddr >= phdr.p_filesz ||
		    len > phdr.p_filesz - (vaddr - phdr.p_vaddr))
			continue;
		off = phdr.p_offset + (vaddr - phdr.p_vaddr);
		data = elf_getdata_rawchunk(elf, (int64_t)off, len, ELF_T_BYTE);
		if (!data || !data->d_buf)
			return false;
		memcpy(buf, data->d_buf, len);
		return true;
	}
	return false;
}

/* "go1.19.8", "go1.22rc1", "devel go1.23-abcdef": the minor number after "go1." */
static int parse_version(const char *text, size_t len, struct go_version *ret)
{
	const char *go = NULL;
	unsigned minor = 0;
	size_t i;

	if (len == 0 || len >= sizeof(ret->text))
		return -EBADMSG;
	memcpy(ret->text, text, len);
	ret->text[len] = '\0';
	if (strlen(ret->text) != len)
		return -EBADMSG;
	go = strstr(ret->text, "go1.");
	if (!go)
		return -EBADMSG;
	for (i = 4; go[i] >= '0' && go[i] <= '9' && i < 8; i++)
		minor = minor * 10 + (unsigned)(go[i] - '0');
	if (i == 4)
		return -EBADMSG;
	ret->minor = minor;
	return 0;
}

/*
 * .go.buildinfo: "\xff Go buildinf:", pointer size, flags. Since Go 1.18 (flags & 2) the version
 * follows at 32 as a varint-prefixed string; before, two pointers to Go strings
 * (runtime.buildVersion, runtime.modinfo).
 */
static int buildinfo_version(Elf *elf, struct go_version *ret)
{
	static const char magic[14] = "\xff Go buildinf:";
	GElf_Shdr shdr;
	size_t size;
	const uint8_t *b = section_bytes(elf, ".go.buildinfo", BUILDINFO_MAX, &size, &shdr);
	uint8_t ptr_size, flags, str[16];
	char text[sizeof(ret->text)];
	uint64_t len = 0, addr;

	if (!b)
		return -ENOENT;
	if (size < 32 || memcmp(b, magic, sizeof(magic)))
		return -EBADMSG;
	ptr_size = b[14];
	flags = b[15];
	if (flags & 1)
		return -EBADMSG; /* big-endian: not an x86-64 or arm64 Linux binary */
	if (flags & 2) {
		size_t i = 32;

		for (unsigned shift = 0; i < size && shift < 35; shift += 7) {
			len |= (uint64_t)(b[i] & 0x7f) << shift;
			if (!(b[i++] & 0x80))
				break;
		}
		if (len > size - i)
			return -EBADMSG;
		return parse_version((const char *)b + i, (size_t)len, ret);
	}
	if (ptr_size != 8)
		return -EBADMSG;
	addr = load_le(b + 16, 8);
	if (!read_vaddr(elf, addr, str, 16))
		return -EBADMSG;
	len = load_le(str + 8, 8);
	if (len == 0 || len >= sizeof(text) || !read_vaddr(elf, load_le(str, 8), text, len))
		return -EBADMSG;
	return parse_version(text, (size_t)len, ret);
}

int go_version_fd(int fd, struct go_version *ret_version)
{
	struct go_version v = {};
	Elf *elf;
	int r;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ELIBBAD;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOEXEC;
	r = elf_kind(elf) == ELF_K_ELF ? buildinfo_version(elf, &v) : -ENOEXEC;
	elf_end(elf);
	if (r == 0)
		*ret_version = v;
	return r;
}

struct pclntab {
	const uint8_t *b;
	size_t size;
	bool wide; /* Go 1.16/1.17: functab entries are two pointers, not two uint32 */
	uint64_t nfunc, text_start, funcnames, functab;
};

static bool in_table(const struct pclntab *t, uint64_t off, uint64_t len)
{
	return off <= t->size && len <= t->size - off;
}

static int pclntab_header(const uint8_t *b, size_t size, uint64_t text_section, struct pclntab *ret)
{
	uint32_t magic;
	struct pclntab t = {.b = b, .size = size};

	if (size < 72 || b[4] || b[5] || b[7] != 8)
		return -EBADMSG; /* pointer size 8: 64-bit binaries only */
	magic = (uint32_t)load_le(b, 4);
	t.nfunc = load_le(b + 8, 8);
	if (magic == 0xfffffff0 || magic == 0xfffffff1) { /* 1.18-1.19, 1.20+ */
		t.text_start = load_le(b + 24, 8);
		t.funcnames = load_le(b + 32, 8);
		t.functab = load_le(b + 64, 8);
	} else if (magic == 0xfffffffa) { /* 1.16, 1.17 */
		t.wide = true;
		t.funcnames = load_le(b + 24, 8);
		t.functab = load_le(b + 56, 8);
	} else {
		return -EBADMSG;
	}
	/* position-independent binaries: textStart is relocated at load time, 0 in the file */
	if (!t.wide && !t.text_start)
		t.text_start = text_section;
	if (t.nfunc == 0 || t.nfunc > size ||
	    !in_table(&t, t.functab, (t.nfunc + 1) * (t.wide ? 16 : 8)) || t.funcnames >= size)
		return -EBADMSG;
	*ret = t;
	return 0;
}

/* Entry address of function i (i == nfunc: the end of the last one) and its _func offset. */
static void functab_entry(const struct pclntab *t, uint64_t i, uint64_t *ret_entry,
			  uint64_t *ret_func)
{
	const uint8_t *e = t->b + t->functab + i * (t->wide ? 16 : 8);

	if (t->wide) {
		*ret_entry = load_le(e, 8);
		*ret_func = i < t->nfunc ? load_le(e + 8, 8) : 0;
	} else {
		*ret_entry = t->text_start + load_le(e, 4);
		*ret_func = i < t->nfunc ? load_le(e + 4, 4) : 0;
	}
}

/* The name of function i, or NULL when the table does not hold one there. */
static const char *function_name(const struct pclntab *t, uint64_t i)
{
	uint64_t entry, func, name_off;
	const char *name;

	functab_entry(t, i, &entry, &func);
	/* _func: entry (uintptr before 1.18, uint32 offset since), then int32 nameOff */
	func += t->functab;
	if (!in_table(t, func, (t->wide ? 8 : 4) + 4))
		return NULL;
	name_off = t->funcnames + (uint32_t)load_le(t->b + func + (t->wide ? 8 : 4), 4);
	if (name_off >= t->size)
		return NULL;
	name = (const char *)t->b + name_off;
	return memchr(name, '\0', t->size - name_off) ? name : NULL;
}

int go_pclntab_resolve(struct Elf *elf, const char *const *names, size_t n_names,
		       struct elf_function *functions)
{
	GElf_Shdr shdr, text;
	size_t size;
	const uint8_t *b = section_bytes(elf, ".gopclntab", PCLNTAB_MAX, &size, &shdr);
	struct pclntab t;
	int found = 0;

	if (!b)
		return 0;
	if (pclntab_header(b, size, section_named(elf, ".text", &text) ? text.sh_addr : 0, &t) < 0)
		return -EBADMSG;
	for (uint64_t i = 0; i < t.nfunc; i++) {
		const char *name = function_name(&t, i);

		if (!name)
			return -EBADMSG;
		for (size_t j = 0; j < n_names; j++) {
			uint64_t entry, next, unused, offset;

			if (functions[j].offset || strcmp(name, names[j]) != 0)
				continue;
			functab_entry(&t, i, &entry, &unused);
			functab_entry(&t, i + 1, &next, &unused);
			if (next <= entry || elf_code_offset(elf, entry, &offset) < 0)
				return -EBADMSG;
			functions[j] = (struct elf_function){offset, next - entry};
			found++;
		}
	}
	return found;
}
