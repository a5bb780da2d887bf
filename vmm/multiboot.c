/*
 * Multiboot v1 loader. Every offset and size taken from the image is
 * checked against the image and against guest RAM before use: an image
 * is untrusted input, and a bad one must stop only its own VM.
 */
#include "vmm/multiboot.h"
#include "lib/elf.h"
#include "lib/fmt.h"

/* The Multiboot header (spec §3.1.1), 4-byte aligned in the first 8 KiB. */
struct mb_header {
	u32 magic, flags, checksum;
};

#define MB_FLAG_PAGE_ALIGN  (1U << 0)
#define MB_FLAG_MEMORY_INFO (1U << 1)
#define MB_FLAG_VIDEO_MODE  (1U << 2)
#define MB_FLAG_AOUT_KLUDGE (1U << 16)
#define MB_FLAGS_KNOWN (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | \
			MB_FLAG_VIDEO_MODE | MB_FLAG_AOUT_KLUDGE)
#define MB_FLAGS_REQUIRED_MASK 0xffffU  /* low 16 bits: must understand */

/* The Multiboot information structure (spec §3.3), up to the fields uhv fills. */
struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	u32 drives_length, drives_addr, config_table, boot_loader_name;
};

#define MBI_MEMORY  (1U << 0)
#define MBI_CMDLINE (1U << 2)
#define MBI_MMAP    (1U << 6)
#define MBI_LOADER  (1U << 9)

struct mb_mmap_entry {
	u32 size;
	u64 base, len;
	u32 type;
} __attribute__((packed));

#define MB_MMAP_AVAILABLE 1
#define MB_MMAP_RESERVED  2

static int bad(char *err, size_t n, const char *why, u64 a, u64 b)
{
	fmt_sn(err, n, why, (unsigned long long)a, (unsigned long long)b);
	return -1;
}

static const struct mb_header *find_header(const u8 *img, u64 size)
{
	for (u64 off = 0; off + sizeof(struct mb_header) <= MIN(size,
	     MULTIBOOT_SEARCH_BYTES); off += 4) {
		const struct mb_header *h = (const void *)(img + off);

		if (h->magic == MULTIBOOT_HEADER_MAGIC &&
		    h->magic + h->flags + h->checksum == 0)
			return h;
	}
	return NULL;
}

static int check_elf(const struct elf32_ehdr *eh, u64 size, char *err, size_t n)
{
	if (size < sizeof(*eh) || *(const u32 *)eh->e_ident != ELF_MAGIC)
		return bad(err, n, "not an ELF file", 0, 0);
	if (eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_machine != EM_386 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_type != ET_EXEC)
		return bad(err, n, "not a 32-bit x86 ELF executable", 0, 0);
	if (eh->e_phentsize != sizeof(struct elf32_phdr) || eh->e_phnum == 0 ||
	    (u64)eh->e_phoff + (u64)eh->e_phnum * sizeof(struct elf32_phdr) > size)
		return bad(err, n, "ELF program headers lie outside the file", 0, 0);
	return 0;
}

/* Copies one PT_LOAD segment, after checking it against file and RAM. */
static int load_segment(const struct gmem *m, const u8 *img, u64 size,
			const struct elf32_phdr *ph, char *err, size_t n)
{
	u64 pa = ph->p_paddr, memsz = ph->p_memsz, filesz = ph->p_filesz;

	if (filesz > memsz || (u64)ph->p_offset + filesz > size)
		return bad(err, n, "segment at 0x%llx: file data outside the file "
			   "(%llu bytes)", pa, filesz);
	if (!gmem_ok(m, pa, memsz))
		return bad(err, n, "segment at 0x%llx (+%llu bytes) does not fit "
			   "in the VM's RAM", pa, memsz);
	memcpy(m->base + pa, img + ph->p_offset, filesz);
	memset(m->base + pa + filesz, 0, memsz - filesz);
	return 0;
}

/* Program header i, copied out (ELF does not promise aligned program
   headers); true if it is a loadable segment with memory. */
static bool load_phdr(const u8 *img, const struct elf32_ehdr *eh, int i,
		      struct elf32_phdr *ph)
{
	memcpy(ph, img + eh->e_phoff + (u64)i * sizeof(*ph), sizeof(*ph));
	return ph->p_type == PT_LOAD && ph->p_memsz != 0;
}

/* The end of the last-ending loadable segment that shares a byte with
   [a, a + len), or 0 if none does (a = 0, len = ~0: the image's end).
   The segments were checked to lie in RAM, so nothing wraps. */
static u64 segments_end(const u8 *img, const struct elf32_ehdr *eh, u64 a,
			u64 len)
{
	struct elf32_phdr ph;
	u64 end = 0;

	for (int i = 0; i < eh->e_phnum; i++) {
		if (!load_phdr(img, eh, i, &ph))
			continue;
		u64 s = ph.p_paddr, e = s + ph.p_memsz;

		if (s < a + len && a < e)
			end = MAX(end, e);
	}
	return end;
}

/* The lowest page-aligned base from `from` up whose MB_AREA_SIZE bytes
   lie below limit and in no segment, or 0. Each step moves past a
   segment, at least a page up, so the loop ends. */
static u64 first_gap(const u8 *img, const struct elf32_ehdr *eh, u64 from,
		     u64 limit)
{
	for (u64 a = from; a + MB_AREA_SIZE <= limit;) {
		u64 end = segments_end(img, eh, a, MB_AREA_SIZE);

		if (!end)
			return a;
		a = ALIGN_UP(end, PAGE_SIZE);
	}
	return 0;
}

/* Where the information area goes: the first free place of the three
   multiboot.h lists, or 0 if the image leaves none. */
static u64 choose_area(const struct gmem *m, const u8 *img,
		       const struct elf32_ehdr *eh)
{
	u64 low = first_gap(img, eh, MB_AREA_PREFERRED, MB_AREA_PREFERRED +
			    MB_AREA_SIZE);
	u64 top = segments_end(img, eh, 0, ~0ULL);

	if (!low)
		low = first_gap(img, eh, MB_LOW_AREA_MIN, MB_LOW_RAM_END);
	if (low)
		return low;
	return first_gap(img, eh, MAX(ALIGN_UP(top, PAGE_SIZE), MB_HIGH_RAM),
			 m->size);
}

/* Writes the info, command line and a three-entry memory map in the
   area at base. */
static void write_info(const struct gmem *m, u64 base, const char *cmdline)
{
	const char *name = "uhv";
	struct mb_mmap_entry map[3] = {
		{ 20, 0, MB_LOW_RAM_END, MB_MMAP_AVAILABLE },
		{ 20, MB_LOW_RAM_END, MB_HIGH_RAM - MB_LOW_RAM_END, MB_MMAP_RESERVED },
		{ 20, MB_HIGH_RAM, m->size - MB_HIGH_RAM, MB_MMAP_AVAILABLE },
	};
	struct mb_info info = {
		.flags = MBI_MEMORY | MBI_CMDLINE | MBI_MMAP | MBI_LOADER,
		.mem_lower = (u32)(MB_LOW_RAM_END / 1024),
		.mem_upper = (u32)((m->size - MB_HIGH_RAM) / 1024),
		.cmdline = (u32)(base + MB_CMDLINE_OFF),
		.mmap_length = sizeof(map),
		.mmap_addr = (u32)(base + MB_MMAP_OFF),
		.boot_loader_name = (u32)(base + MB_LOADER_NAME_OFF),
	};

	gmem_write(m, base + MB_INFO_OFF, &info, sizeof(info));
	u64 room = MB_MMAP_OFF - MB_CMDLINE_OFF;
	u64 len = MIN(strlen(cmdline), room - 1);

	gmem_write(m, base + MB_CMDLINE_OFF, cmdline, len);
	gmem_write(m, base + MB_CMDLINE_OFF + len, "", 1);   /* always terminated */
	gmem_write(m, base + MB_MMAP_OFF, map, sizeof(map));
	gmem_write(m, base + MB_LOADER_NAME_OFF, name, strlen(name) + 1);
}

int multiboot_load(const struct gmem *m, const u8 *img, u64 size,
		   const char *cmdline, struct mb_entry *out, char *err,
		   size_t n)
{
	const struct elf32_ehdr *eh = (const void *)img;
	const struct mb_header *h = find_header(img, size);
	struct elf32_phdr ph;
	int loaded = 0;
	u64 area;

	if (!h)
		return bad(err, n, "no Multiboot header in the first %llu bytes",
			   MULTIBOOT_SEARCH_BYTES, 0);
	if ((h->flags & MB_FLAGS_REQUIRED_MASK) & ~MB_FLAGS_KNOWN)
		return bad(err, n, "Multiboot header asks for unknown features "
			   "(flags 0x%llx)", h->flags, 0);
	if (h->flags & MB_FLAG_AOUT_KLUDGE)
		return bad(err, n, "a.out-kludge images are not supported", 0, 0);
	if (check_elf(eh, size, err, n))
		return -1;
	if (m->size < MB_HIGH_RAM * 2)
		return bad(err, n, "VM RAM too small (%llu bytes)", m->size, 0);
	for (int i = 0; i < eh->e_phnum; i++) {
		if (!load_phdr(img, eh, i, &ph))
			continue;
		if (load_segment(m, img, size, &ph, err, n))
			return -1;
		loaded++;
	}
	if (!loaded)
		return bad(err, n, "no loadable segment", 0, 0);
	if (eh->e_entry >= m->size)
		return bad(err, n, "entry point 0x%llx lies outside RAM", eh->e_entry, 0);
	area = choose_area(m, img, eh);
	if (!area)
		return bad(err, n, "no room for the Multiboot info (%llu bytes) "
			   "outside the image's segments", MB_AREA_SIZE, 0);
	write_info(m, area, cmdline);
	*out = (struct mb_entry){ eh->e_entry, MULTIBOOT_BOOTLOADER_MAGIC,
				  (u32)(area + MB_INFO_OFF) };
	return 0;
}
