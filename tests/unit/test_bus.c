/*
 * vmm/dev/bus.c: device registration, lookup, unclaimed accesses, counters.
 */
#include <string.h>
#include "unit.h"
#include "vmm/dev/bus.h"

/* A device that records its last access and reads back a fixed value. */
struct rec {
	u64 off, val, reads, writes;
	unsigned size;
	u64 read_value;
};

static u64 rec_read(void *dev, u64 off, unsigned size)
{
	struct rec *r = dev;

	r->off = off;
	r->size = size;
	r->reads++;
	return r->read_value;
}

static void rec_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct rec *r = dev;

	r->off = off;
	r->size = size;
	r->val = val;
	r->writes++;
}

static struct bus bus;
static struct rec ra, rb;

static struct bus_device dev(const char *name, u64 base, u64 len, struct rec *r)
{
	return (struct bus_device){ name, base, len, rec_read, rec_write, r, 0 };
}

static void setup(void)
{
	memset(&bus, 0, sizeof(bus));
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	bus.name = "port";
	ra.read_value = 0x1122334455667788ULL;
	rb.read_value = 0xabcdULL;
	ck_assert_int_eq(bus_register(&bus, &(struct bus_device){
		"uart", 0x3f8, 8, rec_read, rec_write, &ra, 0 }), 0);
	ck_assert_int_eq(bus_register(&bus, &(struct bus_device){
		"fwcfg", 0x510, 2, rec_read, rec_write, &rb, 0 }), 0);
}

START_TEST(register_rejects_overlap)
{
	static const struct { u64 base, len; int ok; } cases[] = {
		{ 0x3f8, 8, -1 }, { 0x3fc, 8, -1 }, { 0x3f0, 9, -1 },
		{ 0x3ff, 1, -1 }, { 0x300, 0x200, -1 }, { 0x50f, 2, -1 },
		{ 0x511, 1, -1 }, { 0x3f0, 8, 0 }, { 0x400, 0x110, 0 },
		{ 0x512, 1, 0 }, { 0x1000, 0, -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bus_device d = dev("x", cases[i].base, cases[i].len, &ra);
		int nr = bus.nr;

		ck_assert_msg(bus_register(&bus, &d) == cases[i].ok,
			      "case %zu: [0x%llx, +%llu)", i,
			      (unsigned long long)cases[i].base,
			      (unsigned long long)cases[i].len);
		ck_assert_int_eq(bus.nr, nr + (cases[i].ok == 0));
	}
}
END_TEST

START_TEST(register_until_full)
{
	for (int i = bus.nr; i < BUS_MAX_DEVICES; i++) {
		struct bus_device d = dev("d", 0x1000 + 0x10 * (u64)i, 0x10, &ra);

		ck_assert_int_eq(bus_register(&bus, &d), 0);
	}
	struct bus_device d = dev("late", 0x9000, 1, &ra);

	ck_assert_int_eq(bus_register(&bus, &d), -1);
	ck_assert_int_eq(bus.nr, BUS_MAX_DEVICES);
	ck_assert_ptr_null(bus_find(&bus, 0x9000, 1));
}
END_TEST

START_TEST(find_respects_size_and_end)
{
	ck_assert_ptr_eq(bus_find(&bus, 0x3f8, 1), &bus.devs[0]);
	ck_assert_ptr_eq(bus_find(&bus, 0x3f8, 8), &bus.devs[0]);
	ck_assert_ptr_eq(bus_find(&bus, 0x3ff, 1), &bus.devs[0]);
	ck_assert_ptr_eq(bus_find(&bus, 0x3fe, 2), &bus.devs[0]);
	ck_assert_ptr_eq(bus_find(&bus, 0x3fc, 4), &bus.devs[0]);
	ck_assert_ptr_null(bus_find(&bus, 0x3ff, 2));      /* crosses the end */
	ck_assert_ptr_null(bus_find(&bus, 0x3fd, 4));
	ck_assert_ptr_null(bus_find(&bus, 0x3f9, 8));
	ck_assert_ptr_null(bus_find(&bus, 0x3f7, 1));      /* just before */
	ck_assert_ptr_null(bus_find(&bus, 0x3f7, 2));      /* starts before */
	ck_assert_ptr_null(bus_find(&bus, 0x400, 1));
	ck_assert_ptr_eq(bus_find(&bus, 0x511, 1), &bus.devs[1]);
	ck_assert_ptr_null(bus_find(&bus, 0x511, 2));
	ck_assert_ptr_null(bus_find(&bus, ~0ULL, 1));
	ck_assert_ptr_null(bus_find(&bus, ~0ULL - 0x100, 8));
	ck_assert_str_eq(bus_find(&bus, 0x510, 2)->name, "fwcfg");
}
END_TEST

START_TEST(unclaimed_reads_are_all_ones)
{
	ck_assert_uint_eq(bus_read(&bus, 0x80, 1), 0xff);
	ck_assert_uint_eq(bus_read(&bus, 0x80, 2), 0xffff);
	ck_assert_uint_eq(bus_read(&bus, 0x80, 4), 0xffffffffULL);
	ck_assert_uint_eq(bus_read(&bus, 0x80, 8), ~0ULL);
	ck_assert_uint_eq(bus_read(&bus, 0x3ff, 2), 0xffff);  /* crossing */
	ck_assert_uint_eq(bus.unclaimed_reads, 5);
	ck_assert_uint_eq(bus.unclaimed_writes, 0);
	ck_assert_uint_eq(ra.reads + rb.reads, 0);
	bus_write(&bus, 0x80, 1, 0x12);
	bus_write(&bus, 0x50f, 2, 0x1234);                      /* crossing */
	ck_assert_uint_eq(bus.unclaimed_writes, 2);
	ck_assert_uint_eq(rb.writes, 0);
	ck_assert_uint_eq(bus.devs[0].accesses + bus.devs[1].accesses, 0);
}
END_TEST

START_TEST(claimed_accesses_reach_device)
{
	ck_assert_uint_eq(bus_read(&bus, 0x3fd, 1), 0x88);    /* masked */
	ck_assert_uint_eq(ra.off, 5);
	ck_assert_uint_eq(ra.size, 1);
	ck_assert_uint_eq(bus_read(&bus, 0x3f8, 2), 0x7788);
	ck_assert_uint_eq(bus_read(&bus, 0x3f8, 4), 0x55667788);
	ck_assert_uint_eq(bus_read(&bus, 0x3f8, 8), 0x1122334455667788ULL);
	ck_assert_uint_eq(ra.off, 0);
	ck_assert_uint_eq(ra.size, 8);
	bus_write(&bus, 0x511, 1, 0xdeadbeef);
	ck_assert_uint_eq(rb.val, 0xef);                        /* masked */
	ck_assert_uint_eq(rb.off, 1);
	bus_write(&bus, 0x510, 2, 0xdeadbeef);
	ck_assert_uint_eq(rb.val, 0xbeef);
	ck_assert_uint_eq(rb.off, 0);
	ck_assert_uint_eq(rb.size, 2);
	ck_assert_uint_eq(bus.devs[0].accesses, 4);
	ck_assert_uint_eq(bus.devs[1].accesses, 2);
	ck_assert_uint_eq(bus.unclaimed_reads + bus.unclaimed_writes, 0);
}
END_TEST

START_TEST(missing_handlers_act_unclaimed)
{
	struct bus_device ro = { "rom", 0x1000, 0x100, rec_read, NULL, &ra, 0 };
	struct bus_device wo = { "sink", 0x2000, 0x100, NULL, rec_write, &rb, 0 };

	ck_assert_int_eq(bus_register(&bus, &ro), 0);
	ck_assert_int_eq(bus_register(&bus, &wo), 0);
	bus_write(&bus, 0x1010, 4, 1);
	ck_assert_uint_eq(bus.unclaimed_writes, 1);
	ck_assert_uint_eq(bus_read(&bus, 0x2010, 4), 0xffffffffULL);
	ck_assert_uint_eq(bus.unclaimed_reads, 1);
	ck_assert_uint_eq(bus_read(&bus, 0x1010, 2), 0x7788);
	bus_write(&bus, 0x2010, 2, 0x55aa);
	ck_assert_uint_eq(rb.val, 0x55aa);
	ck_assert_uint_eq(rb.off, 0x10);
	ck_assert_uint_eq(bus.devs[2].accesses, 1);
	ck_assert_uint_eq(bus.devs[3].accesses, 1);
}
END_TEST

Suite *bus_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("bus");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, register_rejects_overlap);
	tcase_add_test(tc, register_until_full);
	tcase_add_test(tc, find_respects_size_and_end);
	tcase_add_test(tc, unclaimed_reads_are_all_ones);
	tcase_add_test(tc, claimed_accesses_reach_device);
	tcase_add_test(tc, missing_handlers_act_unclaimed);
	suite_add_tcase(s, tc);
	return s;
}
