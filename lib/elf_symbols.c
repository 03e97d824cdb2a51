/* SPDX-License-Identifier: Apache-2.0 */
#include "elf_symbols.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <libelf.h>
#include <string.h>

#include "ct_macro.h"
#include "go_binary.h"

int elf_code_offset(struct Elf *elf, uint64_t vaddr, uint64_t *ret_offset)
{
	size_t n_phdr;

	if (elf_getphdrnum(elf, &n_phdr))
		return -ENOEXEC;
	for (size_t i = 0; i < n_phdr; i++) {
		GElf_Phdr phdr;

		if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_LOAD ||
		    !(phdr.p_flags & PF_X))
			continue;
		if (vaddr >= phdr.p_vaddr && vaddr < phdr.p_vaddr + phdr.p_memsz) {
			*ret_offset = vaddr - phdr.p_vaddr + phdr.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static bool name_matches(const char *symbol, const char *wanted)
{
	size_t len = strlen(wanted);

	return strncmp(symbol, wanted, len) == 0 && (symbol[len] == '\0' || symbol[len] == '@');
}

static int scan_symbols(Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr, const char *const *names,
			size_t n_names, struct elf_function *functions)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !shdr->sh_entsize)
		return 0;
	count = shdr->sh_size / shdr->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		name = elf_strptr(elf, shdr->sh_link, sym.st_name);
		if (!name)
			continue;
		for (size_t j = 0; j < n_names; j++) {
			uint64_t offset;

			if (functions[j].offset || !name_matches(name, names[j]))
				continue;
			if (elf_code_offset(elf, sym.st_value, &offset) == 0)
				functions[j] = (struct elf_function){offset, sym.st_size};
		}
	}
	return 0;
}

static size_t exec_ranges(Elf *elf, struct elf_exec_range *ranges)
{
	size_t n_phdr, n = 0;

	if (elf_getphdrnum(elf, &n_phdr))
		return 0;
	for (size_t i = 0; i < n_phdr && n < ELF_MAX_EXEC_RANGES; i++) {
		GElf_Phdr phdr;

		if (gelf_getphdr(elf, (int)i, &phdr) && phdr.p_type == PT_LOAD &&
		    (phdr.p_flags & PF_X))
			ranges[n++] = (struct elf_exec_range){phdr.p_offset, phdr.p_filesz};
	}
	return n;
}

int elf_resolve_functions_fd(int fd, const char *const *names, size_t n_names,
			     struct elf_function *ret_functions, struct elf_exec_range *ret_ranges,
			     size_t *ret_n_ranges)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	struct elf_function functions[64] = {};
	struct elf_exec_range ranges[ELF_MAX_EXEC_RANGES];
	size_t n_ranges;
	int found = 0;

	if (n_names > CT_ARRAY_SIZE(functions))
		return -E2BIG;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ELIBBAD;
	/* read, not mapped: a file truncated under us must not SIGBUS the reader */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOEXEC;
	if (elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return -ENOEXEC;
	}
	/* .dynsym first (exported entry points), .symtab for statically linked executables. */
	for (int pass = 0; pass < 2; pass++) {
		GElf_Word wanted = pass == 0 ? (GElf_Word)SHT_DYNSYM : (GElf_Word)SHT_SYMTAB;

		scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr shdr;

			if (gelf_getshdr(scn, &shdr) && shdr.sh_type == wanted)
				scan_symbols(elf, scn, &shdr, names, n_names, functions);
		}
	}
	/* Go's own table: the names a stripped Go binary keeps */
	for (size_t i = 0; i < n_names; i++)
		if (!functions[i].offset) {
			int r = go_pclntab_resolve(elf, names, n_names, functions);

			if (r < 0) {
				elf_end(elf);
				return r;
			}
			break;
		}
	n_ranges = exec_ranges(elf, ranges);
	elf_end(elf);
	for (size_t i = 0; i < n_names; i++) {
		ret_functions[i] = functions[i];
		found += functions[i].offset != 0;
	}
	if (ret_ranges) {
		memcpy(ret_ranges, ranges, n_ranges * sizeof(ranges[0]));
		*ret_n_ranges = n_ranges;
	}
	return found;
}
