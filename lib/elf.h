/*
 * ELF file structures (System V ABI, "ELF-64 Object File Format" and the
 * i386 ELF32 format), only the parts uhv reads: the file header and
 * program headers of executables.
 */
#ifndef UHV_LIB_ELF_H
#define UHV_LIB_ELF_H

#include "lib/types.h"

#define ELF_MAGIC      0x464c457fU   /* "\x7fELF" read as a little-endian u32 */
#define ELFCLASS32     1
#define ELFCLASS64     2
#define ELFDATA2LSB    1
#define ET_EXEC        2
#define EM_386         3
#define EM_X86_64      62
#define PT_LOAD        1
#define EI_CLASS       4
#define EI_DATA        5

struct elf32_ehdr {
	u8 e_ident[16];
	u16 e_type, e_machine;
	u32 e_version, e_entry, e_phoff, e_shoff, e_flags;
	u16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf32_phdr {
	u32 p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align;
};

struct elf64_ehdr {
	u8 e_ident[16];
	u16 e_type, e_machine;
	u32 e_version;
	u64 e_entry, e_phoff, e_shoff;
	u32 e_flags;
	u16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	u32 p_type, p_flags;
	u64 p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

#endif
