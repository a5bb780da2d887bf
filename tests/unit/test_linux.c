/*
 * vmm/linux.c: a synthetic bzImage (header fields set here, the rest a
 * byte pattern) is loaded into 64 MiB of guest RAM and the zero page, GDT
 * and page tables are checked with offsets from boot.rst and zero-page.rst
 * written out here, independently of linux.c; then it is corrupted in
 * every way the loader checks, from exact-size buffers so ASan sees any
 * overread. UHV_TEST_VMLINUZ may name a real bzImage to load as well.
 */
#define _DEFAULT_SOURCE   /* mmap flags, rand_r under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "unit.h"
#include "vmm/linux.h"

#define RAM_SIZE    MiB(64)
#define SETUP_SECTS 4
#define SETUP_SIZE  ((SETUP_SECTS + 1) * 512)
#define PM_SIZE     0x1000
#define IMG_SIZE    (SETUP_SIZE + PM_SIZE)
#define PREF        0x1000000ULL
#define INIT_SIZE   0x800000ULL          /* kernel ends at 24 MiB */
#define HDR_END     0x26c                /* as in 6.x kernels: jump 0xeb 0x6a */
#define ZP          0x7000               /* zero page */
#define JUNK        0xaa                 /* RAM before loading */

static u8 *ram;
static struct gmem mem;
static u8 img[IMG_SIZE];
static char err[256];
static struct linux_entry entry;
static struct linux_params prm;

static void put16(u8 *p, u64 off, u16 v) { memcpy(p + off, &v, 2); }
static void put32(u8 *p, u64 off, u32 v) { memcpy(p + off, &v, 4); }
static void put64(u8 *p, u64 off, u64 v) { memcpy(p + off, &v, 8); }
static u32 rd32(u64 gpa) { u32 v; memcpy(&v, ram + gpa, 4); return v; }
static u64 rd64(u64 gpa) { u64 v; memcpy(&v, ram + gpa, 8); return v; }
static void poke(u64 off, size_t len, u64 v) { memcpy(img + off, &v, len); }

/* A 2.15 relocatable 64-bit bzImage: 4 setup sectors, 4 KiB of code. */
static void build(void)
{
	for (int i = 0; i < IMG_SIZE; i++)
		img[i] = (u8)(i * 13 + i / 251 + 5); /* no period of 2^k */
	img[0x1f1] = SETUP_SECTS;
	put32(img, 0x1f4, PM_SIZE / 16);          /* syssize */
	put16(img, 0x1fe, 0xaa55);                /* boot_flag */
	img[0x200] = 0xeb;                        /* jmp rel8 */
	img[0x201] = HDR_END - 0x202;
	memcpy(img + 0x202, "HdrS", 4);
	put16(img, 0x206, 0x020f);                /* version 2.15 */
	img[0x210] = 0;                           /* type_of_loader */
	img[0x211] = 0x01 | 0x80;                 /* LOADED_HIGH, CAN_USE_HEAP */
	put32(img, 0x22c, 0x7fffffff);            /* initrd_addr_max */
	put32(img, 0x230, 0x200000);              /* kernel_alignment */
	img[0x234] = 1;                           /* relocatable_kernel */
	img[0x235] = 21;                          /* min_alignment */
	put16(img, 0x236, 0x3);                   /* XLF_KERNEL_64 | ABOVE_4G */
	put32(img, 0x238, 2047);                  /* cmdline_size */
	put64(img, 0x258, PREF);                  /* pref_address */
	put32(img, 0x260, INIT_SIZE);             /* init_size */
	/* ramdisk_*, cmd_line_ptr, code32_start, setup_data keep the pattern:
	   the loader must overwrite them. */
}

static void setup(void)
{
	ram = malloc(RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	memset(ram, JUNK, RAM_SIZE);
	mem = (struct gmem){ ram, RAM_SIZE };
	build();
	memset(err, 0, sizeof(err));
	memset(&entry, 0xee, sizeof(entry));
	prm = (struct linux_params){ .cmdline = "console=ttyS0 x=1" };
}

static void teardown(void)
{
	free(ram);
}

/* Loads the first n bytes of k from a buffer of exactly that size. */
static int load_img(const u8 *k, size_t n)
{
	u8 *copy = malloc(n ? n : 1);
	int r;

	memcpy(copy, k, n);
	prm.kernel = copy;
	prm.kernel_size = n;
	r = linux_load(&mem, &prm, &entry, err, sizeof(err));
	free(copy);
	prm.kernel = NULL;
	return r;
}

static int load_n(size_t n) { return load_img(img, n); }
static int load(void) { return load_n(IMG_SIZE); }

static bool ram_untouched(void)
{
	static u8 junk[4096];

	memset(junk, JUNK, sizeof(junk));
	for (u64 a = 0; a < mem.size; a += sizeof(junk))
		if (memcmp(ram + a, junk, MIN(sizeof(junk), mem.size - a)))
			return false;
	return true;
}

/* A refused load leaves *out and every byte of guest RAM alone. */
#define expect_reject(substr) do {                                          \
	memset(&entry, 0xee, sizeof(entry));                                  \
	memset(ram, JUNK, mem.size);                                          \
	ck_assert_int_eq(load(), -1);                                         \
	ck_assert_msg(strstr(err, substr), "error '%s' lacks '%s'", err, substr); \
	ck_assert_uint_eq(entry.rip, 0xeeeeeeeeeeeeeeeeULL);                  \
	ck_assert_msg(ram_untouched(), "RAM written by a refused load");      \
} while (0)

/* The zero page linux_load should write, built from the documents. */
static void expected_zero_page(u8 *zp, const u8 *k, u64 load_addr, u64 rd,
			       u64 rd_size, u64 rsdp)
{
	static const u64 e820[3][3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 }, { 0x100000, 0, 1 },
	};

	memset(zp, 0, 4096);
	memcpy(zp + 0x1f1, k + 0x1f1, 0x202 + k[0x201] - 0x1f1);
	zp[0x210] = 0xff;                         /* type_of_loader: undefined */
	zp[0x211] &= (u8)~0x80;                   /* no heap */
	put32(zp, 0x214, (u32)load_addr);         /* code32_start */
	put32(zp, 0x218, (u32)rd);                /* ramdisk_image */
	put32(zp, 0x21c, (u32)rd_size);           /* ramdisk_size */
	put32(zp, 0x0c0, (u32)(rd >> 32));        /* ext_ramdisk_image */
	put32(zp, 0x0c4, (u32)(rd_size >> 32));   /* ext_ramdisk_size */
	put32(zp, 0x228, 0x20000);                /* cmd_line_ptr */
	put64(zp, 0x250, 0);                      /* setup_data */
	put64(zp, 0x070, rsdp);                   /* acpi_rsdp_addr */
	zp[0x1e8] = 3;                            /* e820_entries */
	for (int i = 0; i < 3; i++) {             /* addr, size, type */
		put64(zp, 0x2d0 + 20 * i, e820[i][0]);
		put64(zp, 0x2d0 + 20 * i + 8, i < 2 ? e820[i][1] : mem.size - MiB(1));
		put32(zp, 0x2d0 + 20 * i + 16, (u32)e820[i][2]);
	}
}

static void check_zero_page(const u8 *k, u64 load_addr, u64 rd,
			    u64 rd_size, u64 rsdp)
{
	u8 want[4096];

	expected_zero_page(want, k, load_addr, rd, rd_size, rsdp);
	for (int i = 0; i < 4096; i++)
		ck_assert_msg(ram[ZP + i] == want[i], "zero page byte 0x%x is "
			      "0x%02x, want 0x%02x", i, ram[ZP + i], want[i]);
}

START_TEST(good_image_loads)
{
	prm.acpi_rsdp = 0xe0000;
	ck_assert_int_eq(load(), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(entry.rip, PREF + 0x200);    /* startup_64 */
	ck_assert(entry.rsi == ZP && entry.cr3 == 0x9000);
	ck_assert(entry.gdt_base == 0x500 && entry.gdt_limit == 31);
	ck_assert(entry.cs_sel == 0x10 && entry.ds_sel == 0x18);
	ck_assert_mem_eq(ram + PREF, img + SETUP_SIZE, PM_SIZE);
	ck_assert_uint_eq(ram[PREF + PM_SIZE], JUNK);  /* only the code */
	ck_assert_uint_eq(ram[PREF - 1], JUNK);
	ck_assert_str_eq((char *)ram + 0x20000, "console=ttyS0 x=1");
	ck_assert_uint_eq(ram[0x1f1], JUNK);           /* setup code not loaded */
	check_zero_page(img, PREF, 0, 0, 0xe0000);     /* all of it, and: */
	ck_assert_uint_eq(ram[ZP + 0x210], 0xff);      /* type_of_loader */
	ck_assert_uint_eq(ram[ZP + 0x211], 0x01);      /* loadflags: no heap */
	ck_assert_uint_eq(rd32(ZP + 0x260), INIT_SIZE); /* header copied */
	ck_assert_uint_eq(ram[ZP + 0x1ef], 0);         /* sentinel: not */
	ck_assert_uint_eq(rd64(ZP + 0x70), 0xe0000);   /* acpi_rsdp_addr */
	put16(img, 0x206, 0x020e);                     /* 2.14 still has it */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(rd64(ZP + 0x70), 0xe0000);
	put16(img, 0x206, 0x020d);                     /* 2.13 does not */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(rd64(ZP + 0x70), 0);
}
END_TEST

START_TEST(setup_header_layout)
{
	img[0x201] = 0x66;                         /* header ends at 0x268 */
	ck_assert_int_eq(load(), 0);
	ck_assert_mem_eq(ram + ZP + 0x264, img + 0x264, 4); /* handover_offset */
	ck_assert_uint_eq(rd32(ZP + 0x268), 0);    /* kernel_info_offset: no */
	img[0x201] = 0x7f;                         /* the longest: 0x281 */
	ck_assert_int_eq(load(), 0);
	ck_assert_mem_eq(ram + ZP + 0x26c, img + 0x26c, 0x281 - 0x26c);
	ck_assert_uint_eq(ram[ZP + 0x281], 0);
	img[0x1f1] = 0;                            /* setup_sects 0 means 4 */
	ck_assert_int_eq(load(), 0);
	ck_assert_mem_eq(ram + PREF, img + SETUP_SIZE, PM_SIZE);
	img[0x1f1] = 2;                            /* code starts at 0x600 */
	ck_assert_int_eq(load(), 0);
	ck_assert_mem_eq(ram + PREF, img + 0x600, PM_SIZE);
}
END_TEST

/* One field set to a bad value (after build()), and the refusal expected. */
static const struct bad_field {
	u16 off, len;
	u64 val;
	const char *msg;
} bad_fields[] = {
	{ 0x202, 4, 0x54726448, "not a Linux bzImage: no 'HdrS' at 0x202" },
	{ 0x206, 2, 0x020b, "Linux boot protocol 2.11 is too old: uhv needs 2.12" },
	{ 0x206, 2, 0x0201, "Linux boot protocol 2.01 is too old" },
	{ 0x206, 2, 0x0300, "Linux boot protocol 3.00 is newer than uhv knows" },
	{ 0x236, 2, 0x2, "no 64-bit entry point: xloadflags 0x2 lack XLF_KERNEL_64" },
	{ 0x211, 1, 0x80, "not a bzImage: loadflags 0x80 lack LOADED_HIGH" },
	{ 0x1f4, 4, 0, "protected-mode code (0 bytes, syssize) ends before its "
	  "64-bit entry at +0x200" },
	{ 0x1f4, 4, 0x20, "protected-mode code (512 bytes, syssize) ends before" },
	{ 0x1f1, 1, 5, "truncated: 6656 bytes, but its setup (3072 bytes) and "
	  "protected-mode code (4096 bytes) need 7168" },
	{ 0x200, 1, 0xe9, "bad setup header length (jump 0xe9 0x6a at 0x200)" },
	{ 0x201, 1, 0x65, "bad setup header length" },   /* ends before 0x268 */
	{ 0x201, 1, 0x80, "bad setup header length" },   /* jumps backwards */
	{ 0x201, 1, 0xff, "bad setup header length" },
	{ 0x258, 8, GiB(4), "kernel wants to load at 0x100000000, above the 4 GiB" },
	{ 0x258, 8, ~0ULL, "kernel wants to load at 0xffffffffffffffff, above" },
	{ 0x230, 4, 0x300000, "kernel_alignment 0x300000 is not a power of two" },
	{ 0x230, 4, 0, "kernel_alignment 0x0 is not a power of two" },
	{ 0x230, 4, 0x80000000, "the kernel needs at least 2056M" }, /* at 2G */
	{ 0x260, 4, 0xffffffff, "kernel at 0x1000000 (+0xffffffff bytes) ends "
	  "above the 4 GiB uhv maps" },
	{ 0x238, 4, 16, "command line of 17 bytes is too long: this kernel "
	  "takes at most 16" },
};

START_TEST(header_rejections)
{
	for (size_t i = 0; i < sizeof(bad_fields) / sizeof(bad_fields[0]); i++) {
		build();
		poke(bad_fields[i].off, bad_fields[i].len, bad_fields[i].val);
		expect_reject(bad_fields[i].msg);
	}
	build();
	put32(img, 0x238, 17);                     /* cmdline_size: just fits */
	ck_assert_int_eq(load(), 0);
	put32(img, 0x1f4, 0x21);                   /* code reaches past +0x200 */
	ck_assert_int_eq(load(), 0);
	put16(img, 0x206, 0x020c);                 /* 2.12: oldest accepted */
	ck_assert_int_eq(load(), 0);
}
END_TEST

START_TEST(cmdline_limits)
{
	char *line = malloc(0x10001);

	prm.cmdline = NULL;
	ck_assert_int_eq(load(), 0);
	ck_assert_str_eq((char *)ram + 0x20000, "");
	ck_assert_uint_eq(rd32(ZP + 0x228), 0x20000);
	memset(line, 'x', 0x10000);
	line[2999] = 0;
	prm.cmdline = line;
	expect_reject("command line of 2999 bytes is too long: this kernel "
		      "takes at most 2047");
	put32(img, 0x238, 0xffffffff);             /* then uhv's 64K area caps */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(strlen((char *)ram + 0x20000), 2999);
	line[2999] = 'x';
	line[0x10000] = 0;
	expect_reject("command line of 65536 bytes is too long: this kernel "
		      "takes at most 65535");
	line[0xffff] = 0;
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(strlen((char *)ram + 0x20000), 0xffff);
	free(line);
}
END_TEST

START_TEST(initrd_placement)
{
	u8 *rd = malloc(MiB(41));

	for (size_t i = 0; i < MiB(41); i++)
		rd[i] = (u8)(i * 7 + i / 253);
	prm.initrd = rd;
	prm.initrd_size = 5000;                    /* top of RAM, page-aligned */
	ck_assert_int_eq(load(), 0);
	check_zero_page(img, PREF, RAM_SIZE - 0x2000, 5000, 0);
	ck_assert_mem_eq(ram + RAM_SIZE - 0x2000, rd, 5000);
	put32(img, 0x22c, MiB(48) - 1);            /* initrd_addr_max */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(rd32(ZP + 0x218), MiB(48) - 0x2000);
	put32(img, 0x22c, MiB(48) + 0x1fff);       /* ends exactly there */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(rd32(ZP + 0x218), MiB(48));
	prm.initrd_size = MiB(24) + 0x2000;        /* just above the kernel */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(rd32(ZP + 0x218), MiB(24));
	ck_assert_mem_eq(ram + MiB(24), rd, MiB(24) + 0x2000);
	prm.initrd_size = MiB(24) + 0x2001;
	expect_reject("initrd of 25174017 bytes does not fit between the kernel's "
		      "end (0x1800000) and its highest initrd address 0x3001fff");
	build();
	prm.initrd_size = MiB(40);                 /* 24M + 40M = all of RAM */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(rd32(ZP + 0x218), MiB(24));
	prm.initrd_size = MiB(40) + 1;
	expect_reject("VM RAM too small for the initrd (41943041 bytes): kernel "
		      "and initrd need at least 65M, the VM has 64M");
	prm.initrd_size = 0;                       /* empty: no initrd */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(rd32(ZP + 0x218) | rd32(ZP + 0x21c), 0);
	free(rd);
}
END_TEST

#define PDE_2M_ADDR 0x000fffffffe00000ULL   /* bits 51:21 */

/* Walks the guest's page tables as the CPU would (SDM Vol. 3A §4.5). */
static u64 walk(u64 va)
{
	u64 e = rd64(entry.cr3 + ((va >> 39) & 511) * 8);

	ck_assert_msg((e & 3) == 3, "PML4E for 0x%llx: 0x%llx",
		      (unsigned long long)va, (unsigned long long)e);
	e = rd64((e & 0xffffffffff000ULL) + ((va >> 30) & 511) * 8);
	ck_assert_msg((e & 3) == 3 && !(e & 0x80), "PDPTE 0x%llx",
		      (unsigned long long)e);
	e = rd64((e & 0xffffffffff000ULL) + ((va >> 21) & 511) * 8);
	ck_assert_msg((e & ~(PDE_2M_ADDR | 0x83)) == 0 && (e & 0x83) == 0x83,
		      "PDE for 0x%llx: 0x%llx (want P, RW, PS only)",
		      (unsigned long long)va, (unsigned long long)e);
	return (e & PDE_2M_ADDR) | (va & 0x1fffff);
}

/* Decodes one descriptor (SDM Vol. 3A §3.4.5) and checks it is flat. */
static void check_flat(u64 d, unsigned type, bool l, bool db)
{
	ck_assert_uint_eq(((d >> 16) & 0xffffff) | ((d >> 56) << 24), 0);
	ck_assert_uint_eq((d & 0xffff) | (((d >> 48) & 0xf) << 16), 0xfffff);
	ck_assert_uint_eq((d >> 55) & 1, 1);        /* G: 4 KiB units: 4 GiB */
	ck_assert_uint_eq((d >> 47) & 1, 1);        /* P */
	ck_assert_uint_eq((d >> 45) & 3, 0);        /* DPL 0 */
	ck_assert_uint_eq((d >> 44) & 1, 1);        /* S: code/data */
	ck_assert_uint_eq((d >> 40) & 0xf, type);
	ck_assert_uint_eq((d >> 53) & 1, l);
	ck_assert_uint_eq((d >> 54) & 1, db);
}

/* Page tables: identity map of 4 GiB; GDT: flat 64-bit code and data. */
START_TEST(page_tables_and_gdt)
{
	ck_assert_int_eq(load(), 0);
	for (u64 va = 0; va < GiB(4); va += MiB(2)) {
		ck_assert_uint_eq(walk(va), va);
		ck_assert_uint_eq(walk(va + 0x1234), va + 0x1234);
	}
	ck_assert_uint_eq(walk(GiB(4) - 1), GiB(4) - 1);
	for (int i = 1; i < 512; i++)
		ck_assert_uint_eq(rd64(entry.cr3 + 8 * i), 0);
	for (int i = 4; i < 512; i++)
		ck_assert_uint_eq(rd64(0xa000 + 8 * i), 0);
	ck_assert_uint_eq(rd64(0x500) | rd64(0x508), 0);
	check_flat(rd64(0x500 + entry.cs_sel), 0xb, true, false); /* exec/read */
	check_flat(rd64(0x500 + entry.ds_sel), 0x3, false, true); /* read/write */
	ck_assert_uint_eq(rd64(0x510), 0x00af9b000000ffffULL);
	ck_assert_uint_eq(rd64(0x518), 0x00cf93000000ffffULL);
}
END_TEST

START_TEST(truncated_images)
{
	for (size_t n = 0; n < IMG_SIZE; n++) {
		ck_assert_msg(load_n(n) == -1, "loaded with %zu bytes", n);
		if (n >= 0x206)
			ck_assert_msg(strstr(err, "truncated: "), "%zu: %s", n, err);
		else
			ck_assert_msg(strstr(err, "no 'HdrS'"), "%zu: %s", n, err);
		ck_assert_uint_eq(entry.rip, 0xeeeeeeeeeeeeeeeeULL);
	}
	ck_assert(ram_untouched());
	ck_assert_int_eq(load_n(IMG_SIZE), 0);
}
END_TEST

START_TEST(ram_too_small)
{
	static const u64 sizes[] = { MiB(24) - PAGE_SIZE, MiB(16), MiB(1), 0 };
	static const char *has[] = { "has 23M", "has 16M", "has 1M", "has 0M" };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		mem.size = sizes[i];
		expect_reject("VM RAM too small: the kernel needs at least 24M "
			      "(init_size 0x800000 at 0x1000000), the VM");
		ck_assert_ptr_nonnull(strstr(err, has[i]));
	}
	mem.size = MiB(24);                        /* exactly enough */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(rd64(ZP + 0x2d0 + 48), MiB(23));
}
END_TEST

START_TEST(load_address_rules)
{
	put64(img, 0x258, PREF + 0x80000);         /* misaligned preference */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(entry.rip, PREF + MiB(2) + 0x200);
	ck_assert_uint_eq(rd32(ZP + 0x214), PREF + MiB(2)); /* code32_start */
	img[0x234] = 0;                            /* not relocatable: as is */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(entry.rip, PREF + 0x80000 + 0x200);
	put64(img, 0x258, 0);                      /* no preference: 1 MiB */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(entry.rip, 0x100200);
	img[0x234] = 1;                            /* aligned up to 2 MiB */
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(entry.rip, 0x200200);
	put64(img, 0x258, 0x8000);
	img[0x234] = 0;
	expect_reject("non-relocatable kernel wants to load at 0x8000, below 1 MiB");
	build();
	put32(img, 0x260, 0);                      /* at least the code itself */
	ck_assert_int_eq(load(), 0);
}
END_TEST

/* RAM above 4 GiB: the initrd stays below 4 GiB and the e820 map covers
   all of RAM. The mapping is sparse: only touched pages are backed. */
START_TEST(ram_above_4g)
{
	u8 *big = mmap(NULL, GiB(6), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	static u8 rd[0x1800];
	u8 *small = ram;

	if (big == MAP_FAILED)
		UNIT_SKIP("ram_above_4g", "no 6 GiB mapping");
	ram = big;
	mem = (struct gmem){ big, GiB(6) };
	prm.initrd = rd;
	prm.initrd_size = sizeof(rd);
	ck_assert_int_eq(load(), 0);
	ck_assert_uint_eq(rd32(ZP + 0x218), GiB(2) - 0x2000);
	put32(img, 0x22c, 0xffffffff);             /* initrd_addr_max: 4G - 1 */
	ck_assert_int_eq(load(), 0);
	check_zero_page(img, PREF, GiB(4) - 0x2000, sizeof(rd), 0);
	ck_assert_uint_eq(walk(GiB(4) - 0x2000), GiB(4) - 0x2000);
	munmap(big, GiB(6));
	ram = small;                               /* for teardown */
}
END_TEST

/* What any successful load of a corrupted image must still satisfy. */
static void check_sane(void)
{
	ck_assert_uint_ge(entry.rip, 0x100200);
	ck_assert_uint_lt(entry.rip, RAM_SIZE);
	ck_assert_uint_eq(entry.rsi, ZP);
	ck_assert_uint_eq(rd32(ZP + 0x228), 0x20000);
	ck_assert_uint_le((u64)rd32(ZP + 0x218) + rd32(ZP + 0x21c), RAM_SIZE);
}

/* Every byte of the header area set to edge values: the loader either
   loads sanely or refuses with a message (ASan watches both). */
START_TEST(corrupted_headers)
{
	static const u8 vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
	u8 good[0x300];

	memcpy(good, img, sizeof(good));
	for (int off = 0x1e0; off < (int)sizeof(good); off++) {
		for (size_t v = 0; v <= sizeof(vals); v++) {
			memcpy(img, good, sizeof(good));
			img[off] = v < sizeof(vals) ? vals[v] : (u8)(good[off] + 1);
			err[0] = 0;
			if (load() == 0)
				check_sane();
			else
				ck_assert_msg(err[0], "no message, byte 0x%x", off);
		}
	}
}
END_TEST

/* Random values in the fields the loader reads, random lengths. */
START_TEST(random_headers)
{
	static const u16 fields[][2] = {   /* offset, length */
		{ 0x1f1, 1 }, { 0x1f4, 4 }, { 0x201, 1 }, { 0x206, 2 }, { 0x211, 1 },
		{ 0x22c, 4 }, { 0x230, 4 }, { 0x234, 1 }, { 0x236, 2 }, { 0x238, 4 },
		{ 0x258, 8 }, { 0x260, 4 } };
	static u8 rd[3000];
	unsigned seed = 12345;

	prm.initrd = rd;
	for (int it = 0; it < 4000; it++) {
		build();
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			if (rand_r(&seed) % 3 == 0)
				for (int b = 0; b < fields[f][1]; b++)
					img[fields[f][0] + b] = (u8)rand_r(&seed);
		prm.initrd_size = rand_r(&seed) % 2 ? sizeof(rd) : 0;
		err[0] = 0;
		if (load_n(rand_r(&seed) % 4 ? IMG_SIZE :
			   (size_t)rand_r(&seed) % IMG_SIZE) == 0)
			check_sane();
		else
			ck_assert_msg(err[0], "no message at iteration %d", it);
	}
}
END_TEST

static u8 *read_file(const char *path, size_t *size)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	u8 *buf = NULL;

	if (f && fseek(f, 0, SEEK_END) == 0 && ftell(f) > 0) {
		*size = (size_t)ftell(f);
		rewind(f);
		buf = malloc(*size);
		ck_assert_uint_eq(fread(buf, 1, *size, f), *size);
	}
	if (f)
		fclose(f);
	return buf;
}

/* A real distribution kernel (UHV_TEST_VMLINUZ), if the file is there. */
START_TEST(real_vmlinuz)
{
	size_t n = 0, setup, pm;
	u8 *k = read_file(getenv("UHV_TEST_VMLINUZ"), &n);
	static u8 rd[MiB(1)];

	if (!k)
		UNIT_SKIP("real_vmlinuz", "UHV_TEST_VMLINUZ unset or unreadable");
	ram = realloc(ram, MiB(128));
	memset(ram, JUNK, MiB(128));
	mem = (struct gmem){ ram, MiB(128) };
	setup = ((k[0x1f1] ? k[0x1f1] : 4) + 1) * 512;
	pm = (size_t)*(u32 *)(void *)(k + 0x1f4) * 16;
	prm = (struct linux_params){ .initrd = rd, .initrd_size = sizeof(rd),
		.cmdline = "console=ttyS0", .acpi_rsdp = 0xe0000 };
	ck_assert_int_eq(load_img(k, n), 0);
	ck_assert_uint_eq(entry.rip, *(u64 *)(void *)(k + 0x258) + 0x200);
	ck_assert_mem_eq(ram + entry.rip - 0x200, k + setup, pm);
	check_zero_page(k, entry.rip - 0x200, MiB(127), sizeof(rd), 0xe0000);
	ck_assert_str_eq((char *)ram + 0x20000, "console=ttyS0");
	ck_assert_mem_eq(ram + MiB(127), rd, sizeof(rd));
	mem.size = MiB(79);
	ck_assert_int_eq(load_img(k, n), -1);
	ck_assert_msg(strstr(err, "the kernel needs at least 80M"), "%s", err);
	mem.size = MiB(128);
	for (size_t cut = 0; cut < 8; cut++) {
		size_t lens[] = { 0, 0x205, 0x206, 0x400, setup - 1, setup,
				  setup + pm - 1, setup + pm / 2 };
		ck_assert_int_eq(load_img(k, lens[cut]), -1);
		ck_assert_msg(err[0], "no message at %zu", lens[cut]);
	}
	ck_assert_int_eq(load_img(k, setup + pm), 0);  /* without signature */
	free(k);
}
END_TEST

Suite *linux_suite(void)
{
	Suite *s = suite_create("linux");
	TCase *tc = tcase_create("linux");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, good_image_loads);
	tcase_add_test(tc, setup_header_layout);
	tcase_add_test(tc, header_rejections);
	tcase_add_test(tc, cmdline_limits);
	tcase_add_test(tc, initrd_placement);
	tcase_add_test(tc, page_tables_and_gdt);
	tcase_add_test(tc, truncated_images);
	tcase_add_test(tc, ram_too_small);
	tcase_add_test(tc, load_address_rules);
	tcase_add_test(tc, ram_above_4g);
	tcase_add_test(tc, corrupted_headers);
	tcase_add_test(tc, random_headers);
	tcase_add_test(tc, real_vmlinuz);
	suite_add_tcase(s, tc);
	return s;
}
