/*
 * Linux bzImage loader for the 64-bit boot protocol (boot.rst). A bzImage
 * is a boot sector and real-mode setup code (setup_sects + 1 sectors of
 * 512 bytes, the setup header at 0x1f1), followed by the protected-mode
 * code (syssize 16-byte paragraphs) whose 64-bit entry is at +0x200:
 *
 *   file:  | boot sector | setup code ... | protected-mode code | (sig.)
 *          0      0x1f1 hdr               setup_size            +pm_size
 *
 * Only the protected-mode code is loaded; the setup header is copied into
 * the zero page, which stands in for what the real-mode code would have
 * filled. Every offset and size taken from the image is checked against
 * the file and guest RAM before use, and everything is checked before the
 * first byte of guest RAM is written: a bad image stops only its own VM.
 *
 * The caller enters the kernel in 64-bit mode (SDM Vol. 3A, "Initializing
 * IA-32e Mode"): CR0.PE|PG, CR4.PAE, EFER.LME|LMA and the VM-entry control
 * "IA-32e mode guest"; CS = out->cs_sel as 64-bit code (L=1, D=0), DS = ES
 * = SS = out->ds_sel as flat read/write data, both matching the GDT built
 * here; GDTR, CR3, RIP and RSI from *out; RFLAGS.IF = 0 (boot.rst). The
 * kernel sets up its own stack, IDT and page tables from there.
 */
#include "vmm/linux.h"
#include "arch/x86/pgtable.h"
#include "lib/fmt.h"

/* Setup header fields (boot.rst, "The Real-Mode Kernel Header"): offsets
   in the image and, identically, in the zero page. */
#define HDR_START            0x1f1  /* first byte copied to the zero page */
#define HDR_SETUP_SECTS      0x1f1  /* u8: setup sectors; 0 means 4 */
#define HDR_SYSSIZE          0x1f4  /* u32: protected-mode code, paragraphs */
#define HDR_JUMP             0x200  /* u8 0xeb, s8 offset: the header's end */
#define HDR_MAGIC            0x202  /* u32 "HdrS" */
#define HDR_VERSION          0x206  /* u16 (major << 8) | minor */
#define HDR_TYPE_OF_LOADER   0x210  /* u8 */
#define HDR_LOADFLAGS        0x211  /* u8 */
#define HDR_CODE32_START     0x214  /* u32 */
#define HDR_RAMDISK_IMAGE    0x218  /* u32 */
#define HDR_RAMDISK_SIZE     0x21c  /* u32 */
#define HDR_CMD_LINE_PTR     0x228  /* u32 */
#define HDR_INITRD_ADDR_MAX  0x22c  /* u32: highest byte an initrd may use */
#define HDR_KERNEL_ALIGNMENT 0x230  /* u32 */
#define HDR_RELOCATABLE      0x234  /* u8 */
#define HDR_XLOADFLAGS       0x236  /* u16, 2.12+ */
#define HDR_CMDLINE_SIZE     0x238  /* u32: longest line, without its NUL */
#define HDR_SETUP_DATA       0x250  /* u64: list of struct setup_data */
#define HDR_PREF_ADDRESS     0x258  /* u64, 2.10+ */
#define HDR_INIT_SIZE        0x260  /* u32, 2.10+ */
#define HDR_MIN_END          0x268  /* end of handover_offset (2.11): every
				       2.12+ header reaches this far */
#define HDR_MAX_END          (HDR_MAGIC + INT8_MAX) /* the jump's reach:
				       boot.rst's 144-byte limit */

#define HDR_JUMP_OPCODE      0xeb   /* jmp rel8 */
#define HDR_MAGIC_VALUE      0x53726448U /* "HdrS" little endian */
#define SECTOR_SIZE          512
#define SETUP_SECTS_DEFAULT  4
#define PARAGRAPH_SIZE       16
#define LOADFLAG_LOADED_HIGH BIT(0)
#define LOADFLAG_CAN_USE_HEAP BIT(7)
#define XLF_KERNEL_64        BIT(0)
#define LOADER_TYPE_UNDEFINED 0xff  /* no assigned boot loader id */
#define PROTOCOL_ACPI_RSDP   0x020e /* 2.14+ may read acpi_rsdp_addr (0x070
				       was padding before: harmless to set) */
#define PROTOCOL_MAJOR_SHIFT 8
#define PROTOCOL_MINOR_MASK  0xff

/* The zero page's own fields (zero-page.rst). */
#define ZERO_PAGE_SIZE       PAGE_SIZE
#define ZP_ACPI_RSDP_ADDR    0x070  /* u64 */
#define ZP_EXT_RAMDISK_IMAGE 0x0c0  /* u32: ramdisk_image bits 63:32 */
#define ZP_EXT_RAMDISK_SIZE  0x0c4  /* u32 */
#define ZP_EXT_CMD_LINE_PTR  0x0c8  /* u32 */
#define ZP_E820_ENTRIES      0x1e8  /* u8 */
#define ZP_E820_TABLE        0x2d0  /* struct boot_e820_entry[128] */
#define E820_ENTRY_SIZE      20     /* u64 addr, u64 size, u32 type */
#define E820_RAM             1
#define E820_RESERVED        2

/* Flat code/data descriptors (SDM Vol. 3A §3.4.5): base 0, limit 0xfffff
   in 4 KiB units. Accessed is preset so the CPU never writes the GDT. */
#define DESC_ACCESSED        BIT(0)
#define DESC_RW              BIT(1)  /* code: readable; data: writable */
#define DESC_CODE            BIT(3)
#define DESC_S               BIT(4)  /* code or data, not system */
#define DESC_P               BIT(7)
#define DESC_FLAG_L          BIT(1)  /* 64-bit code */
#define DESC_FLAG_DB         BIT(2)
#define DESC_FLAG_G          BIT(3)
#define DESC_ACCESS_SHIFT    40
#define DESC_FLAGS_SHIFT     52
#define DESC_FLAT_LIMIT      (0xffffULL | (0xfULL << 48)) /* limit 19:0 */

/* The low structures must not overlap, and must stay below the EBDA. */
_Static_assert(LINUX_GDT_GPA + LINUX_GDT_ENTRIES * sizeof(u64) <=
	       LINUX_ZERO_PAGE_GPA, "GDT overlaps the zero page");
_Static_assert(LINUX_ZERO_PAGE_GPA + ZERO_PAGE_SIZE <= LINUX_PML4_GPA &&
	       LINUX_PML4_GPA + PAGE_SIZE <= LINUX_PDPT_GPA &&
	       LINUX_PDPT_GPA + PAGE_SIZE <= LINUX_PD_GPA,
	       "zero page and page tables overlap");
_Static_assert(LINUX_PD_GPA + LINUX_NR_PDS * PAGE_SIZE <= LINUX_CMDLINE_GPA,
	       "page directories overlap the command line");
_Static_assert(LINUX_CMDLINE_GPA + LINUX_CMDLINE_AREA <= LINUX_LOW_RAM_END,
	       "command line reaches the EBDA");

/* Where things go, settled before anything is written. */
struct plan {
	u64 setup_size;     /* file bytes before the protected-mode code */
	u64 pm_size;        /* protected-mode code bytes (syssize * 16) */
	u64 hdr_end;        /* end of the setup header (exclusive) */
	u64 load;           /* guest-physical address of the protected-mode code */
	u64 kernel_end;     /* load + what the kernel needs there */
	u64 initrd;         /* guest-physical address of the initrd, 0: none */
	u64 cmdline_len;    /* without the NUL */
	u16 version;
};

static int fail(char *err, size_t n, const char *why, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t n, const char *why, ...)
{
	va_list ap;

	va_start(ap, why);
	fmt_vsn(err, n, why, ap);
	va_end(ap);
	return -1;
}

/* Little-endian reads and writes; callers have checked the bounds. */
static u64 get(const u8 *p, u64 off, size_t len)
{
	u64 v = 0;

	memcpy(&v, p + off, len);
	return v;
}

static void put(u8 *p, u64 off, u64 v, size_t len)
{
	memcpy(p + off, &v, len);
}

/* Sizes in messages: what is needed rounds up, what the VM has down. */
static unsigned long long mib_up(u64 bytes)
{
	return ALIGN_UP(bytes, MiB(1)) >> 20;
}

static unsigned long long mib_down(u64 bytes)
{
	return bytes >> 20;
}

bool linux_is_bzimage(const u8 *img, u64 size)
{
	return img && size >= HDR_MAGIC + sizeof(u32) &&
	       get(img, HDR_MAGIC, sizeof(u32)) == HDR_MAGIC_VALUE;
}

/* The file must hold the setup code and syssize paragraphs after it. */
static int check_sizes(const struct linux_params *p, struct plan *pl,
		       char *err, size_t n)
{
	u64 sects = p->kernel[HDR_SETUP_SECTS];

	if (sects == 0)
		sects = SETUP_SECTS_DEFAULT;
	pl->setup_size = (sects + 1) * SECTOR_SIZE;
	pl->pm_size = get(p->kernel, HDR_SYSSIZE, sizeof(u32)) * PARAGRAPH_SIZE;
	if (pl->pm_size <= LINUX_ENTRY64_OFFSET)
		return fail(err, n, "bzImage's protected-mode code (%llu bytes, "
			    "syssize) ends before its 64-bit entry at +0x%llx",
			    (unsigned long long)pl->pm_size,
			    LINUX_ENTRY64_OFFSET);
	if (p->kernel_size < pl->setup_size + pl->pm_size)
		return fail(err, n, "bzImage truncated: %llu bytes, but its "
			    "setup (%llu bytes) and protected-mode code (%llu "
			    "bytes) need %llu",
			    (unsigned long long)p->kernel_size,
			    (unsigned long long)pl->setup_size,
			    (unsigned long long)pl->pm_size,
			    (unsigned long long)(pl->setup_size + pl->pm_size));
	return 0;
}

/* Header checks; the header lies within the first 1 KiB, which
   check_sizes has found in the file (setup_size >= 2 sectors). */
static int check_header(const struct linux_params *p, struct plan *pl,
			char *err, size_t n)
{
	const u8 *k = p->kernel;
	u64 flags, xflags;

	if (!linux_is_bzimage(k, p->kernel_size))
		return fail(err, n, "not a Linux bzImage: no 'HdrS' at 0x%x",
			    HDR_MAGIC);
	if (check_sizes(p, pl, err, n))
		return -1;
	pl->version = (u16)get(k, HDR_VERSION, sizeof(u16));
	if (pl->version < LINUX_MIN_PROTOCOL)
		return fail(err, n, "Linux boot protocol %u.%02u is too old: "
			    "uhv needs 2.12 or later (64-bit entry)",
			    (unsigned)(pl->version >> PROTOCOL_MAJOR_SHIFT),
			    (unsigned)(pl->version & PROTOCOL_MINOR_MASK));
	/* every 2.x is a superset of the last; a new major version would not
	   promise the layout this loader writes */
	if ((pl->version >> PROTOCOL_MAJOR_SHIFT) > LINUX_MAX_PROTOCOL_MAJOR)
		return fail(err, n, "Linux boot protocol %u.%02u is newer than uhv "
			    "knows (2.x)",
			    (unsigned)(pl->version >> PROTOCOL_MAJOR_SHIFT),
			    (unsigned)(pl->version & PROTOCOL_MINOR_MASK));
	flags = k[HDR_LOADFLAGS];
	xflags = get(k, HDR_XLOADFLAGS, sizeof(u16));
	if (!(flags & LOADFLAG_LOADED_HIGH))
		return fail(err, n, "not a bzImage: loadflags 0x%llx lack "
			    "LOADED_HIGH", (unsigned long long)flags);
	if (!(xflags & XLF_KERNEL_64))
		return fail(err, n, "kernel has no 64-bit entry point: "
			    "xloadflags 0x%llx lack XLF_KERNEL_64",
			    (unsigned long long)xflags);
	/* boot.rst: the header ends at 0x202 + the jump's offset (a rel8:
	   0x80 and up would jump backwards, and end above HDR_MAX_END). */
	pl->hdr_end = HDR_MAGIC + (u64)k[HDR_JUMP + 1];
	if (k[HDR_JUMP] != HDR_JUMP_OPCODE || pl->hdr_end < HDR_MIN_END ||
	    pl->hdr_end > HDR_MAX_END)
		return fail(err, n, "bad setup header length (jump 0x%02x "
			    "0x%02x at 0x%x)", k[HDR_JUMP], k[HDR_JUMP + 1],
			    HDR_JUMP);
	return 0;
}

/*
 * The load address: pref_address (boot.rst: "a relocating bootloader
 * should attempt to load at this address"), 1 MiB if it is 0, aligned up
 * to kernel_alignment for a relocatable kernel so that its runtime start
 * (align_up(load, kernel_alignment), boot.rst on init_size) is the load
 * address itself. The kernel then needs init_size bytes from there.
 */
static int place_kernel(const struct gmem *m, const struct linux_params *p,
			struct plan *pl, char *err, size_t n)
{
	const u8 *k = p->kernel;
	u64 pref = get(k, HDR_PREF_ADDRESS, sizeof(u64));
	u64 align = get(k, HDR_KERNEL_ALIGNMENT, sizeof(u32));
	u64 init = get(k, HDR_INIT_SIZE, sizeof(u32));

	pl->load = pref ? pref : LINUX_HIGH_RAM;
	if (pl->load >= LINUX_MAPPED_END)
		return fail(err, n, "kernel wants to load at 0x%llx, above the "
			    "4 GiB uhv maps", (unsigned long long)pl->load);
	if (k[HDR_RELOCATABLE]) {
		if (align == 0 || (align & (align - 1)))
			return fail(err, n, "kernel_alignment 0x%llx is not a "
				    "power of two", (unsigned long long)align);
		pl->load = ALIGN_UP(MAX(pl->load, LINUX_HIGH_RAM), align);
	} else if (pl->load < LINUX_HIGH_RAM) {
		return fail(err, n, "non-relocatable kernel wants to load at "
			    "0x%llx, below 1 MiB", (unsigned long long)pl->load);
	}
	pl->kernel_end = pl->load + MAX(init, pl->pm_size);
	if (pl->kernel_end > LINUX_MAPPED_END)
		return fail(err, n, "kernel at 0x%llx (+0x%llx bytes) ends above "
			    "the 4 GiB uhv maps", (unsigned long long)pl->load,
			    (unsigned long long)MAX(init, pl->pm_size));
	if (pl->kernel_end > m->size)
		return fail(err, n, "VM RAM too small: the kernel needs at least "
			    "%lluM (init_size 0x%llx at 0x%llx), the VM has %lluM",
			    mib_up(pl->kernel_end), (unsigned long long)init,
			    (unsigned long long)pl->load, mib_down(m->size));
	return 0;
}

/* The command line must fit the kernel's cmdline_size and uhv's area. */
static int check_cmdline(const struct linux_params *p, struct plan *pl,
			 char *err, size_t n)
{
	u64 max = get(p->kernel, HDR_CMDLINE_SIZE, sizeof(u32));

	max = MIN(max, LINUX_CMDLINE_AREA - 1);
	pl->cmdline_len = p->cmdline ? strlen(p->cmdline) : 0;
	if (pl->cmdline_len > max)
		return fail(err, n, "command line of %llu bytes is too long: "
			    "this kernel takes at most %llu",
			    (unsigned long long)pl->cmdline_len,
			    (unsigned long long)max);
	return 0;
}

/*
 * The initrd goes as high as it may: page-aligned, ending at or below
 * the lowest of RAM's end, 4 GiB and initrd_addr_max + 1 (the highest
 * byte the kernel can reach early), and above the kernel's init_size.
 */
static int place_initrd(const struct gmem *m, const struct linux_params *p,
			struct plan *pl, char *err, size_t n)
{
	u64 size = p->initrd_size;
	u64 max = get(p->kernel, HDR_INITRD_ADDR_MAX, sizeof(u32)) + 1;
	u64 top = MIN(MIN(m->size, LINUX_MAPPED_END), max);
	u64 need = ALIGN_UP(pl->kernel_end, PAGE_SIZE) + ALIGN_UP(size, PAGE_SIZE);

	pl->initrd = 0;
	if (!p->initrd || size == 0)
		return 0;
	if (size <= top && ALIGN_DOWN(top - size, PAGE_SIZE) >= pl->kernel_end) {
		pl->initrd = ALIGN_DOWN(top - size, PAGE_SIZE);
		return 0;
	}
	if (need <= MIN(LINUX_MAPPED_END, max))
		return fail(err, n, "VM RAM too small for the initrd (%llu "
			    "bytes): kernel and initrd need at least %lluM, the "
			    "VM has %lluM", (unsigned long long)size,
			    mib_up(need), mib_down(m->size));
	return fail(err, n, "initrd of %llu bytes does not fit between the "
		    "kernel's end (0x%llx) and its highest initrd address "
		    "0x%llx", (unsigned long long)size,
		    (unsigned long long)pl->kernel_end,
		    (unsigned long long)(MIN(LINUX_MAPPED_END, max) - 1));
}

/* [0, 0x9fc00) RAM, [0x9fc00, 1 MiB) EBDA/BIOS/ACPI, [1 MiB, end) RAM. */
static void write_e820(u8 *zp, u64 ram_size)
{
	const u64 map[][3] = {
		{ 0, LINUX_LOW_RAM_END, E820_RAM },
		{ LINUX_LOW_RAM_END, LINUX_HIGH_RAM - LINUX_LOW_RAM_END,
		  E820_RESERVED },
		{ LINUX_HIGH_RAM, ram_size - LINUX_HIGH_RAM, E820_RAM },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		u64 e = ZP_E820_TABLE + i * E820_ENTRY_SIZE;

		put(zp, e, map[i][0], sizeof(u64));
		put(zp, e + sizeof(u64), map[i][1], sizeof(u64));
		put(zp, e + 2 * sizeof(u64), map[i][2], sizeof(u32));
	}
	zp[ZP_E820_ENTRIES] = (u8)ARRAY_SIZE(map);
}

/*
 * The zero page: zeroed, the setup header copied from the image as the
 * 64-bit protocol says, then the fields a boot loader writes. The sentinel
 * at 0x1ef stays 0: uhv copies the header only, from 0x1f1.
 */
static void write_zero_page(u8 *zp, const struct gmem *m,
			    const struct linux_params *p, const struct plan *pl)
{
	u64 rd_size = pl->initrd ? p->initrd_size : 0;

	memset(zp, 0, ZERO_PAGE_SIZE);
	memcpy(zp + HDR_START, p->kernel + HDR_START, pl->hdr_end - HDR_START);
	zp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	/* No heap: the real-mode setup code, its only user, does not run. */
	zp[HDR_LOADFLAGS] &= (u8)~LOADFLAG_CAN_USE_HEAP;
	put(zp, HDR_CODE32_START, pl->load, sizeof(u32));
	put(zp, HDR_CMD_LINE_PTR, LINUX_CMDLINE_GPA, sizeof(u32));
	put(zp, ZP_EXT_CMD_LINE_PTR, LINUX_CMDLINE_GPA >> 32, sizeof(u32));
	put(zp, HDR_RAMDISK_IMAGE, pl->initrd, sizeof(u32));
	put(zp, ZP_EXT_RAMDISK_IMAGE, pl->initrd >> 32, sizeof(u32));
	put(zp, HDR_RAMDISK_SIZE, rd_size, sizeof(u32));
	put(zp, ZP_EXT_RAMDISK_SIZE, rd_size >> 32, sizeof(u32));
	put(zp, HDR_SETUP_DATA, 0, sizeof(u64));
	if (pl->version >= PROTOCOL_ACPI_RSDP)
		put(zp, ZP_ACPI_RSDP_ADDR, p->acpi_rsdp, sizeof(u64));
	write_e820(zp, m->size);
}

static u64 seg_desc(u64 access, u64 flags)
{
	return (access << DESC_ACCESS_SHIFT) | (flags << DESC_FLAGS_SHIFT) |
	       DESC_FLAT_LIMIT;
}

/* GDT: two null entries, then __BOOT_CS (0x10) and __BOOT_DS (0x18). */
static void write_gdt(u64 *gdt)
{
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[LINUX_BOOT_CS / sizeof(u64)] =
		seg_desc(DESC_P | DESC_S | DESC_CODE | DESC_RW | DESC_ACCESSED,
			 DESC_FLAG_G | DESC_FLAG_L);
	gdt[LINUX_BOOT_DS / sizeof(u64)] =
		seg_desc(DESC_P | DESC_S | DESC_RW | DESC_ACCESSED,
			 DESC_FLAG_G | DESC_FLAG_DB);
}

/* Identity map of [0, 4 GiB) with 2 MiB pages: PML4[0] -> PDPT[0..3] ->
   one page directory per GiB (SDM Vol. 3A §4.5). */
static void write_page_tables(u64 *pml4, u64 *pdpt, u64 *pd)
{
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = LINUX_PDPT_GPA | PTE_P | PTE_RW;
	for (u64 i = 0; i < LINUX_NR_PDS; i++)
		pdpt[i] = (LINUX_PD_GPA + i * PAGE_SIZE) | PTE_P | PTE_RW;
	for (u64 i = 0; i < LINUX_NR_PDS * PT_ENTRIES; i++)
		pd[i] = i * PT_SIZE_2M | PTE_P | PTE_RW | PT_LARGE;
}

/* Host pointers to every low structure; NULL if RAM lacks one. */
struct low_area {
	u8 *zero_page;
	u64 *gdt, *pml4, *pdpt, *pd;
	char *cmdline;
};

static bool map_low_area(const struct gmem *m, struct low_area *a)
{
	a->zero_page = gmem_ptr(m, LINUX_ZERO_PAGE_GPA, ZERO_PAGE_SIZE);
	a->gdt = gmem_ptr(m, LINUX_GDT_GPA, LINUX_GDT_ENTRIES * sizeof(u64));
	a->pml4 = gmem_ptr(m, LINUX_PML4_GPA, PAGE_SIZE);
	a->pdpt = gmem_ptr(m, LINUX_PDPT_GPA, PAGE_SIZE);
	a->pd = gmem_ptr(m, LINUX_PD_GPA, LINUX_NR_PDS * PAGE_SIZE);
	a->cmdline = gmem_ptr(m, LINUX_CMDLINE_GPA, LINUX_CMDLINE_AREA);
	return a->zero_page && a->gdt && a->pml4 && a->pdpt && a->pd &&
	       a->cmdline;
}

/* Settles the plan; nothing is written until all of it has passed. */
static int plan_load(const struct gmem *m, const struct linux_params *p,
		     struct plan *pl, char *err, size_t n)
{
	if (check_header(p, pl, err, n) || place_kernel(m, p, pl, err, n) ||
	    check_cmdline(p, pl, err, n) || place_initrd(m, p, pl, err, n))
		return -1;
	if (!gmem_ok(m, pl->load, pl->pm_size) ||
	    (pl->initrd && !gmem_ok(m, pl->initrd, p->initrd_size)))
		return fail(err, n, "internal error: kernel or initrd outside "
			    "RAM");
	return 0;
}

int linux_load(const struct gmem *m, const struct linux_params *p,
	       struct linux_entry *out, char *err, size_t n)
{
	struct plan pl = { 0 };
	struct low_area a;

	if (plan_load(m, p, &pl, err, n))
		return -1;
	if (!map_low_area(m, &a))
		return fail(err, n, "VM RAM too small for the boot structures "
			    "below 1 MiB");
	memcpy(m->base + pl.load, p->kernel + pl.setup_size, pl.pm_size);
	if (pl.initrd)
		memcpy(m->base + pl.initrd, p->initrd, p->initrd_size);
	memcpy(a.cmdline, p->cmdline ? p->cmdline : "", pl.cmdline_len);
	a.cmdline[pl.cmdline_len] = '\0';
	write_zero_page(a.zero_page, m, p, &pl);
	write_gdt(a.gdt);
	write_page_tables(a.pml4, a.pdpt, a.pd);
	*out = (struct linux_entry){
		.rip = pl.load + LINUX_ENTRY64_OFFSET,
		.rsi = LINUX_ZERO_PAGE_GPA,
		.cr3 = LINUX_PML4_GPA,
		.gdt_base = LINUX_GDT_GPA,
		.gdt_limit = LINUX_GDT_ENTRIES * sizeof(u64) - 1,
		.cs_sel = LINUX_BOOT_CS,
		.ds_sel = LINUX_BOOT_DS,
	};
	return 0;
}
