/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Does an ELF file hold a USDT note (section .note.stapsdt)? For the core's
 * usdt: probes (doc/cli.md §3.2) and collectors that check a process before
 * attaching (ovs's --ovs-track, doc/collectors.md §8.5). Header-only for the
 * reason strbuf.h is: plugins do not link against the retisc binary. Users
 * link libelf (-lelf).
 */
#ifndef __RETISC_USDT_NOTE_H
#define __RETISC_USDT_NOTE_H

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/*
 * A stapsdt note's description: three addresses (probe, .stapsdt.base,
 * semaphore), 4 or 8 bytes each by ELF class, then "provider\0name\0args\0".
 */
static inline bool retisc_usdt__note_matches(const char *desc, size_t sz, size_t addr_sz,
					     const char *provider, const char *name)
{
	const char *prov = desc + 3 * addr_sz, *nm;
	size_t left;

	if (sz <= 3 * addr_sz)
		return false;
	left = sz - 3 * addr_sz;
	if (!memchr(prov, '\0', left))
		return false;
	nm = prov + strlen(prov) + 1;
	left -= (size_t)(nm - prov);
	return left && memchr(nm, '\0', left) && !strcmp(prov, provider) && !strcmp(nm, name);
}

/*
 * Does the ELF file at path hold the USDT note provider:name? 1, 0, or a
 * negative errno when the file cannot be read as ELF.
 */
static inline int retisc_usdt_has_note(const char *path, const char *provider, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx, addr_sz;
	int fd, ret = 0;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx)) {
		ret = -ENOEXEC;
		goto out;
	}
	addr_sz = gelf_getclass(elf) == ELFCLASS32 ? 4 : 8;
	while (!ret && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;
		const char *sname;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!sname || strcmp(sname, ".note.stapsdt"))
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
			const char *d = (const char *)data->d_buf;

			/* Owner "stapsdt", type 3 (NT_STAPSDT). */
			if (nh.n_type == 3 && nh.n_namesz == 8 && !memcmp(d + noff, "stapsdt", 8) &&
			    retisc_usdt__note_matches(d + doff, nh.n_descsz, addr_sz, provider,
						      name)) {
				ret = 1;
				break;
			}
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

#endif
