/*
 * What a person sees when a VM cannot start (issue 13, "a newcomer's
 * first hour"): the loader's message reaches the console whole, a disk
 * the machine lacks is named with the disks it has, and the console
 * focus goes to a VM that runs, not to one that failed to load.
 *
 * vmm/focus.c runs here against a struct uhv built by hand; its three
 * outside calls (printk, serial_getc, stats_print) are stubbed below.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "vmm/vmm.h"
#include "vmm/linux.h"
#include "drivers/blkdev.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "lib/fmt.h"
#include "vmm/focus.h"
#include "vmm/stats.h"

/* ---- the stop reason of a VM whose image does not load ---- */

#define HDR_BYTES   0x400        /* the setup header lies below 1 KiB */
#define BIG_MSG     1024         /* room for any message, uncut */
#define CODE_BYTES  0x1000       /* bzimage_header's protected-mode code */
#define FILE_BYTES  (5 * 512 + CODE_BYTES)   /* 4 setup sectors + boot */
#define IMAGE_63    "a-63-character-image-name-that-is-as-long-as-uhv.cfg-allows.elf"

/* Little-endian stores into a header (memcpy: no alignment assumed). */
static void put(u8 *k, unsigned off, u64 v, size_t len)
{
	memcpy(k + off, &v, len);
}

/* A 2.15 relocatable 64-bit bzImage header (boot.rst offsets), the
   fields test_linux.c's synthetic image has; the file is 4 setup
   sectors and code of code_bytes. */
static void bzimage_header(u8 *k, u32 code_bytes)
{
	memset(k, 0, HDR_BYTES);
	k[0x1f1] = 4;                                 /* setup_sects */
	put(k, 0x1f4, code_bytes / 16, 4);        /* syssize */
	k[0x200] = 0xeb;                              /* jmp rel8 ... */
	k[0x201] = 0x6a;                              /* ... to 0x26c */
	memcpy(k + 0x202, "HdrS", 4);
	put(k, 0x206, 0x020f, 2);                 /* version 2.15 */
	k[0x211] = 0x01;                              /* LOADED_HIGH */
	put(k, 0x22c, 0x7fffffff, 4);             /* initrd_addr_max */
	put(k, 0x230, 0x200000, 4);               /* kernel_alignment */
	k[0x234] = 1;                                 /* relocatable */
	put(k, 0x236, 0x3, 2);                    /* XLF_KERNEL_64 */
	put(k, 0x238, 2047, 4);                   /* cmdline_size */
	put(k, 0x258, 0x1000000, 8);              /* pref_address */
	put(k, 0x260, 0x800000, 4);               /* init_size */
}

/*
 * Loads the header k as a file of file_size bytes (more than the buffer
 * holds: each case fails on the header's numbers before the loader reads
 * further, and ASan would catch it reading on) into RAM of ram_size
 * bytes (likewise never written: a refused load writes nothing). The
 * message must be whole in VM_LOAD_ERR_MAX bytes, and whole again in a
 * VM's stop reason after VM_BAD_IMAGE_FMT with a 63-character name.
 */
static void expect_whole(const u8 *k, u64 file_size, u64 initrd_size,
			 u64 ram_size, const char *has)
{
	static u8 ram[HDR_BYTES];
	struct gmem m = { ram, ram_size };
	struct linux_params p = { .kernel = k, .kernel_size = file_size,
				  .initrd = ram, .initrd_size = initrd_size };
	struct linux_entry e;
	char err[VM_LOAD_ERR_MAX], whole[BIG_MSG], why[VM_WHY_MAX];
	char full_why[2 * BIG_MSG];

	ck_assert_int_eq(linux_load(&m, &p, &e, whole, sizeof(whole)), -1);
	ck_assert_int_eq(linux_load(&m, &p, &e, err, sizeof(err)), -1);
	ck_assert_msg(strstr(whole, has), "'%s' lacks '%s'", whole, has);
	ck_assert_msg(!strcmp(err, whole), "cut to %zu bytes: '%s'",
		      sizeof(err), err);
	ck_assert_uint_eq(sizeof(why), sizeof(((struct vm *)0)->why));
	ck_assert_uint_eq(strlen(IMAGE_63), CFG_PATH_MAX - 1);
	fmt_sn(why, sizeof(why), VM_BAD_IMAGE_FMT, IMAGE_63, err);
	snprintf(full_why, sizeof(full_why), "bad image '%s': %s", IMAGE_63,
		 whole);
	ck_assert_str_eq(why, full_why);
}

/* The case: Debian's 8 MiB vmlinuz cut short. Its message
   ended "... nee" in a VM's 128-byte stop reason. */
START_TEST(truncated_vmlinuz_message_whole)
{
	static u8 k[HDR_BYTES];
	char why[sizeof(((struct vm *)0)->why)], msg[BIG_MSG];
	struct gmem m = { k, MiB(256) };
	struct linux_params p = { .kernel = k, .kernel_size = MiB(4) };
	struct linux_entry e;

	bzimage_header(k, 8212480);
	k[0x1f1] = 34;                        /* Debian 12's setup_sects */
	ck_assert_int_eq(linux_load(&m, &p, &e, msg, VM_LOAD_ERR_MAX), -1);
	ck_assert_str_eq(msg, "bzImage truncated: 4194304 bytes, but its setup "
			 "(17920 bytes) and protected-mode code (8212480 "
			 "bytes) need 8230400");
	fmt_sn(why, sizeof(why), VM_BAD_IMAGE_FMT, "vmlinuz", msg);
	ck_assert_str_eq(why, "bad image 'vmlinuz': bzImage truncated: 4194304 "
			 "bytes, but its setup (17920 bytes) and protected-mode "
			 "code (8212480 bytes) need 8230400");
}
END_TEST

/* Every long message with the largest numbers its fields allow (files
   on FAT32 are under 4 GiB; syssize and setup_sects are the header's). */
START_TEST(longest_load_messages_whole)
{
	static u8 k[HDR_BYTES];

	bzimage_header(k, CODE_BYTES);
	k[0x1f1] = 0xff;
	put(k, 0x1f4, 0xffffffff, 4);     /* 64 GiB of code */
	expect_whole(k, 0xffffffff, 0, GiB(3), "bzImage truncated: 4294967295 "
		     "bytes, but its setup (131072 bytes) and protected-mode "
		     "code (68719476720 bytes) need 68719607792");
	bzimage_header(k, CODE_BYTES);
	put(k, 0x258, 0xffe00000, 8);     /* high, and a huge init_size */
	put(k, 0x260, 0xffffffff, 4);
	expect_whole(k, FILE_BYTES, 0, GiB(3), "ends above the 4 GiB uhv maps");
	bzimage_header(k, CODE_BYTES);
	put(k, 0x258, 0x80000000, 8);
	put(k, 0x260, 0x7fe00000, 4);
	expect_whole(k, FILE_BYTES, 0, GiB(3) - MiB(1), "VM RAM too small: the "
		     "kernel needs at least 4094M");
	bzimage_header(k, CODE_BYTES);
	put(k, 0x22c, 0xffffffff, 4);     /* initrd_addr_max: 4 GiB */
	expect_whole(k, FILE_BYTES, 0xffffffff, GiB(3), "initrd of 4294967295 bytes "
		     "does not fit between");
	expect_whole(k, FILE_BYTES, 0xfe000000, GiB(3) - MiB(1), "VM RAM too small "
		     "for the initrd (4261412864 bytes)");
}
END_TEST

/* ---- the host disks a config can name ---- */

START_TEST(host_disk_names)
{
	struct blkdev d[BLKDEV_MAX] = { { .name = "ata0.0" }, { .name = "ahci.p1" } };
	char buf[BLKDEV_NAMES_MAX], small[10];

	blkdev_names(d, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "none");
	blkdev_names(d, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ata0.0");
	blkdev_names(d, 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ata0.0, ahci.p1");
	blkdev_names(d, 2, small, sizeof(small));     /* cut, terminated */
	ck_assert_str_eq(small, "ata0.0, a");
	for (int i = 0; i < BLKDEV_MAX; i++)          /* the longest names */
		snprintf(d[i].name, sizeof(d[i].name), "ahci%d.p%08d", i, i);
	blkdev_names(d, BLKDEV_MAX, buf, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), BLKDEV_MAX * (sizeof(d[0].name) + 1) - 2);
	ck_assert_ptr_nonnull(strstr(buf, ", ahci7.p00000007"));
}
END_TEST

/* ---- the console focus (focus.c) ---- */

#define KEY_CTRL_A 0x01
#define PRINTED_MAX 4096

static char printed[PRINTED_MAX];
static const char *keys;          /* what serial_getc returns, in turn */
static int stats_calls;

void printk(const char *fmt, ...)
{
	size_t n = strlen(printed);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(printed + n, sizeof(printed) - n, fmt, ap);
	va_end(ap);
}

int serial_getc(void)
{
	return keys && *keys ? (u8)*keys++ : -1;
}

void stats_print(struct uhv *h, bool all)
{
	(void)h;
	(void)all;
	stats_calls++;
}

static void no_emit(void *ctx, const char *line, unsigned len)
{
	(void)ctx;
	(void)line;
	(void)len;
}

static void no_irq(void *ctx, bool level)
{
	(void)ctx;
	(void)level;
}

/* n VMs, all built; those in stopped[] failed to load (VM_ERROR). */
static struct uhv *make_uhv(int n, const char *stopped)
{
	static const char *const names[] = { "p1", "p2", "p3", "p4" };
	struct uhv *h = calloc(1, sizeof(*h));

	ck_assert_ptr_nonnull(h);
	h->nr_vms = n;
	for (int i = 0; i < n; i++) {
		struct vm *vm = &h->vms[i];

		vm->name = names[i];
		vm->built = true;
		vm->result = strchr(stopped, '1' + i) ? VM_ERROR : VM_RUNNING;
		uart_init(&vm->uart, no_emit, no_irq, vm);
	}
	printed[0] = 0;
	return h;
}

/* Types s at uhv's console, as focus_poll reads it. */
static void type(struct uhv *h, const char *s)
{
	keys = s;
	while (focus_poll(h))
		;
}

/* The first VM failed to load: the focus starts on the second. */
START_TEST(focus_skips_a_vm_that_failed_to_load)
{
	struct uhv *h = make_uhv(3, "1");

	focus_init(h);
	ck_assert_int_eq(h->focus.vm, 1);
	ck_assert_str_eq(focus_name(h), "p2");
	type(h, "x");
	ck_assert_uint_eq(h->vms[1].uart.rx_count, 1);
	ck_assert_uint_eq(h->vms[0].uart.rx_count, 0);
	free(h);
}
END_TEST

/* Ctrl-A n goes round the running VMs only; Ctrl-A 1 to the stopped
   one leaves the focus where it is, and says so. */
START_TEST(focus_next_skips_stopped_vms)
{
	struct uhv *h = make_uhv(4, "13");

	focus_init(h);
	ck_assert_int_eq(h->focus.vm, 1);
	type(h, "\x01n");
	ck_assert_int_eq(h->focus.vm, 3);
	type(h, "\x01n");
	ck_assert_int_eq(h->focus.vm, 1);
	ck_assert_ptr_nonnull(strstr(printed, "console focus: p4\n"));
	printed[0] = 0;
	type(h, "\x01" "1");
	ck_assert_int_eq(h->focus.vm, 1);
	ck_assert_ptr_nonnull(strstr(printed, "VM p1 is stopped; focus stays on p2"));
	type(h, "\x01s");
	ck_assert_int_eq(stats_calls, 1);
	free(h);
}
END_TEST

/* No VM runs: the focus is "none", and keys go nowhere. */
START_TEST(focus_when_no_vm_runs)
{
	struct uhv *h = make_uhv(2, "12");

	focus_init(h);
	ck_assert_str_eq(focus_name(h), "none");
	type(h, "x\x01n");
	ck_assert_ptr_nonnull(strstr(printed, "no VM is running"));
	ck_assert_uint_eq(h->vms[0].uart.rx_count + h->vms[1].uart.rx_count, 0);
	free(h);
	h = make_uhv(0, "");
	focus_init(h);
	ck_assert_str_eq(focus_name(h), "none");
	free(h);
}
END_TEST

Suite *vm_load_suite(void)
{
	Suite *s = suite_create("vm_load");
	TCase *tc = tcase_create("vm_load");

	tcase_add_test(tc, truncated_vmlinuz_message_whole);
	tcase_add_test(tc, longest_load_messages_whole);
	tcase_add_test(tc, host_disk_names);
	tcase_add_test(tc, focus_skips_a_vm_that_failed_to_load);
	tcase_add_test(tc, focus_next_skips_stopped_vms);
	tcase_add_test(tc, focus_when_no_vm_runs);
	suite_add_tcase(s, tc);
	return s;
}
