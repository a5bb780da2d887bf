/*
 * vmm/config.c: the uhv.cfg parser (format in docs/interfaces.md).
 * Good files, then every error path with its line number and message.
 */
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "vmm/config.h"

static struct uhv_config cfg;
static struct cfg_error err;

static int parse(const char *text)
{
	return config_parse(text, strlen(text), &cfg, &err);
}

/* Expects text to be rejected at line with a message containing each of
   the NULL-terminated substrings. */
#define expect_error(text, ln, ...) do {                                    \
	const char *subs_[] = { __VA_ARGS__, NULL };                         \
	ck_assert_int_eq(parse(text), -1);                                   \
	ck_assert_int_eq(err.line, (ln));                                    \
	for (int k_ = 0; subs_[k_]; k_++)                                    \
		ck_assert_msg(strstr(err.msg, subs_[k_]),                    \
			      "message '%s' lacks '%s'", err.msg, subs_[k_]); \
} while (0)

START_TEST(good_full_file)
{
	const char *t =
		"# uhv demo\n"
		"timeslice = 500000   # ticks\n"
		"\n"
		"[vm hello]\n"
		"image = hello.elf\n"
		"\t memory\t=\t32M \r\n"
		"cmdline = quiet foo=1 bar\n"
		"[vm  Other_vm-2 ]   \n"
		"image=sub/dir/x.elf";  /* last line without a newline */

	ck_assert_int_eq(parse(t), 0);
	ck_assert_uint_eq(cfg.timeslice, 500000);
	ck_assert_int_eq(cfg.nr_vms, 2);
	ck_assert_str_eq(cfg.vms[0].name, "hello");
	ck_assert_str_eq(cfg.vms[0].image, "hello.elf");
	ck_assert_str_eq(cfg.vms[0].cmdline, "quiet foo=1 bar");
	ck_assert_uint_eq(cfg.vms[0].memory, 32ULL << 20);
	ck_assert_int_eq(cfg.vms[0].line, 4);
	ck_assert(cfg.vms[0].has_image);
	ck_assert_str_eq(cfg.vms[1].name, "Other_vm-2");
	ck_assert_str_eq(cfg.vms[1].image, "sub/dir/x.elf");
	ck_assert_str_eq(cfg.vms[1].cmdline, "");
	ck_assert_uint_eq(cfg.vms[1].memory, CFG_MEM_DEFAULT);
	ck_assert_int_eq(cfg.vms[1].line, 8);
}
END_TEST

/* Every self-test name, and the list a wrong one is told. */
START_TEST(selftest_values)
{
	static const struct { const char *v; enum cfg_selftest t; } ok[] = {
		{ "none", SELFTEST_NONE }, { "exception", SELFTEST_EXCEPTION },
		{ "storage", SELFTEST_STORAGE },
		{ "storage-verify", SELFTEST_STORAGE_VERIFY },
		{ "nmi", SELFTEST_NMI }, { "net", SELFTEST_NET },
	};
	char t[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(t, sizeof(t), "selftest = %s\n[vm a]\nimage = a.elf\n", ok[i].v);
		ck_assert_int_eq(parse(t), 0);
		ck_assert_int_eq(cfg.selftest, ok[i].t);
	}
	expect_error("selftest = nic\n", 1, "'nic'", "storage-verify, nmi, net");
}
END_TEST

/* uplink = NIC and bridged = NETWORK: together or not at all. */
START_TEST(uplink_and_bridged)
{
	ck_assert_int_eq(parse("uplink = e1000.0\nbridged = lan\n"
			       "[vm a]\nimage = a.elf\nnet = lan\n"), 0);
	ck_assert_str_eq(cfg.uplink, "e1000.0");
	ck_assert_str_eq(cfg.bridged_net, "lan");
	ck_assert_int_eq(parse("uplink = virtio-net.1\nbridged = x\n"
			       "[vm a]\nimage = a.elf\n"), 0);
	ck_assert_str_eq(cfg.uplink, "virtio-net.1");
	expect_error("uplink = e1000\n", 1, "uplink: 'e1000'", "e1000.0");
	expect_error("uplink = e1000.0.1\n", 1, "uplink:");
	expect_error("uplink = e 1000.0\n", 1, "uplink:");
	expect_error("bridged = l@n\n", 1, "bridged: network name 'l@n'");
	expect_error("\n\nuplink = e1000.0\n[vm a]\nimage = a.elf\n", 3,
		     "no network uses e1000.0");
	expect_error("bridged = lan\n[vm a]\nimage = a.elf\n", 1,
		     "bridged: network 'lan' needs an uplink = NIC");
}
END_TEST

/* nat = NETWORK with uhv's address on it; outside = and forward =. */
START_TEST(nat_network)
{
	static const char base[] = "uplink = e1000.0\nnat = lan\nhost = lan:10.0.2.1\n";
	char text[512];

	ck_assert_int_eq(parse("uplink = e1000.0\nnat = lan\nhost = lan:10.0.2.1\n"
			       "[vm a]\nimage = a.elf\nnet = lan\n"), 0);
	ck_assert_str_eq(cfg.nat_net, "lan");
	ck_assert(!cfg.outside_static);             /* DHCP by default */
	ck_assert_int_eq(parse("uplink = e1000.0\nnat = lan\nhost = lan:10.0.2.1\n"
			       "outside = 192.168.7.5/24,gw=192.168.7.1,dns=9.9.9.9\n"
			       "forward = tcp:2222:10.0.2.15:22\n"
			       "forward = udp:5353:10.0.2.16:53\n"
			       "[vm a]\nimage = a.elf\n"), 0);
	ck_assert(cfg.outside_static);
	ck_assert_mem_eq(cfg.outside_ip, "\xc0\xa8\x07\x05", 4);
	ck_assert_mem_eq(cfg.outside_mask, "\xff\xff\xff\x00", 4);
	ck_assert_mem_eq(cfg.outside_gw, "\xc0\xa8\x07\x01", 4);
	ck_assert_mem_eq(cfg.outside_dns, "\x09\x09\x09\x09", 4);
	ck_assert_int_eq(cfg.nr_forwards, 2);
	ck_assert_uint_eq(cfg.forwards[0].proto, CFG_PROTO_TCP);
	ck_assert_uint_eq(cfg.forwards[0].out_port, 2222);
	ck_assert_uint_eq(cfg.forwards[0].in_port, 22);
	ck_assert_mem_eq(cfg.forwards[1].in_ip, "\x0a\x00\x02\x10", 4);
	ck_assert_uint_eq(cfg.forwards[1].proto, CFG_PROTO_UDP);
	snprintf(text, sizeof(text), "%soutside = 10.1.1.1/33\n", base);
	expect_error(text, 4, "outside: '10.1.1.1/33'");
	snprintf(text, sizeof(text), "%soutside = 10.1.1.1\n", base);
	expect_error(text, 4, "must be dhcp or");
	snprintf(text, sizeof(text), "%soutside = 10.1.1.1/24,gw=10.1.2.1\n[vm a]\nimage = a.elf\n", base);
	expect_error(text, 4, "gateway 10.1.2.1 is not on the uplink's subnet");
	snprintf(text, sizeof(text), "%sforward = sctp:1:10.0.2.5:1\n", base);
	expect_error(text, 4, "forward: 'sctp:1:10.0.2.5:1' must be");
	snprintf(text, sizeof(text), "%sforward = tcp:0:10.0.2.5:1\n", base);
	expect_error(text, 4, "must be tcp|udp:PORT:a.b.c.d:PORT");
	snprintf(text, sizeof(text), "%sforward = tcp:22:10.0.2.5:65536\n", base);
	expect_error(text, 4, "must be tcp|udp:PORT");
	snprintf(text, sizeof(text), "%sforward = tcp:22:10.0.3.5:22\n[vm a]\nimage = a.elf\n", base);
	expect_error(text, 4, "10.0.3.5 is not in the /24 of network lan");
	expect_error("uplink = e1000.0\nnat = lan\n[vm a]\nimage = a.elf\n", 2,
		     "nat: network 'lan' needs uhv's address on it");
	expect_error("uplink = e1000.0\nnat = lan\nbridged = lan\nhost = lan:10.0.2.1\n"
		     "[vm a]\nimage = a.elf\n", 2, "serves one network");
	expect_error("nat = lan\nhost = lan:10.0.2.1\n[vm a]\nimage = a.elf\n", 1,
		     "nat: network 'lan' needs an uplink = NIC");
	expect_error("forward = tcp:1:10.0.2.5:1\n[vm a]\nimage = a.elf\n", 1,
		     "forward: needs a NAT network");
	expect_error("outside = dhcp\n[vm a]\nimage = a.elf\n", 1,
		     "outside: needs a NAT network");
	expect_error("metrics = 9100\n[vm a]\nimage = a.elf\n", 1,
		     "metrics: needs a NAT network");
	snprintf(text, sizeof(text), "%smetrics = 0\n", base);
	expect_error(text, 4, "metrics: '0' must be a TCP port");
	snprintf(text, sizeof(text), "%smetrics = 9100\n[vm a]\nimage = a.elf\n", base);
	ck_assert_int_eq(parse(text), 0);
	ck_assert_uint_eq(cfg.metrics_port, 9100);
}
END_TEST

/* flood = NETWORK:RATE[,BURST] | NETWORK:off, else the default. */
START_TEST(flood_limits)
{
	u32 rate, burst;

	ck_assert_int_eq(parse("flood = lan:100,16\nflood = calm:off\n"
			       "flood = x:5000\n[vm a]\nimage = a.elf\n"), 0);
	config_flood_limit(&cfg, "lan", &rate, &burst);
	ck_assert_uint_eq(rate, 100);
	ck_assert_uint_eq(burst, 16);
	config_flood_limit(&cfg, "calm", &rate, &burst);
	ck_assert_uint_eq(rate, 0);
	config_flood_limit(&cfg, "x", &rate, &burst);
	ck_assert_uint_eq(rate, 5000);
	ck_assert_uint_eq(burst, CFG_FLOOD_BURST);
	config_flood_limit(&cfg, "other", &rate, &burst);
	ck_assert_uint_eq(rate, CFG_FLOOD_RATE);
	ck_assert_uint_eq(burst, CFG_FLOOD_BURST);
	expect_error("flood = lan\n", 1, "flood: 'lan' must be NETWORK:RATE");
	expect_error("flood = lan:0\n", 1, "rate 1 or more");
	expect_error("flood = lan:10,0\n", 1, "burst 1-65535");
	expect_error("flood = lan:10,70000\n", 1, "burst 1-65535");
	expect_error("flood = lan:10x\n", 1, "flood: 'lan:10x'");
	expect_error("flood = l@n:10\n", 1, "network name 'l@n'");
}
END_TEST
END_TEST

/* dhcp = FIRST-LAST: a pool in the /24 of uhv's host address. */
START_TEST(dhcp_pool)
{
	ck_assert_int_eq(parse("host = lan:10.0.0.254\ndhcp = 10.0.0.10-10.0.0.19\n"
			       "[vm a]\nimage = a.elf\nnet = lan\n"), 0);
	ck_assert_uint_eq(cfg.dhcp_count, 10);
	ck_assert_mem_eq(cfg.dhcp_first, "\x0a\x00\x00\x0a", 4);
	expect_error("dhcp = 10.0.0.10\n", 1, "FIRST-LAST");
	expect_error("dhcp = 10.0.0.10-10.0.0.9\n", 1, "1-64 addresses");
	expect_error("dhcp = 10.0.0.1-10.0.0.65\n", 1, "1-64 addresses");
	expect_error("dhcp = 10.0.0.250-10.0.1.2\n", 1, "of one /24");
	expect_error("dhcp = 10.0.0.10-10.0.0.19\n[vm a]\nimage = a.elf\n", 1,
		     "host = NETWORK");
	expect_error("host = lan:10.0.1.254\ndhcp = 10.0.0.10-10.0.0.19\n"
		     "[vm a]\nimage = a.elf\n", 2, "/24 of uhv's address 10.0.1.254");
	expect_error("host = lan:10.0.0.12\ndhcp = 10.0.0.10-10.0.0.19\n"
		     "[vm a]\nimage = a.elf\n", 2, "without it");
}
END_TEST

START_TEST(good_defaults_and_limits)
{
	char t[1024];
	char name15[] = "abcdefghijklmno";                  /* 15 chars */
	char img63[64];

	memset(img63, 'i', 63);
	img63[63] = 0;
	snprintf(t, sizeof(t), "[vm %s]\nimage = %s\nmemory = 3G\n"
		 "[vm b]\nimage = b\nmemory = 2048K\n[vm c]\nimage = c\n"
		 "memory=2m\n", name15, img63);
	ck_assert_int_eq(parse(t), 0);
	ck_assert_uint_eq(cfg.timeslice, CFG_TIMESLICE_DEFAULT);
	ck_assert_str_eq(cfg.vms[0].name, name15);
	ck_assert_str_eq(cfg.vms[0].image, img63);
	ck_assert_uint_eq(cfg.vms[0].memory, 3ULL << 30);
	ck_assert_uint_eq(cfg.vms[1].memory, 2ULL << 20);
	ck_assert_uint_eq(cfg.vms[2].memory, 2ULL << 20);
	/* eight VMs are allowed; timeslice bounds are inclusive */
	ck_assert_int_eq(parse("timeslice = 10000\n[vm a]\nimage=a\n[vm b]\n"
			       "image=b\n[vm c]\nimage=c\n[vm d]\nimage=d\n"
			       "[vm e]\nimage=e\n[vm f]\nimage=f\n[vm g]\n"
			       "image=g\n[vm h]\nimage=h\n"), 0);
	ck_assert_int_eq(cfg.nr_vms, 8);
	ck_assert_uint_eq(cfg.timeslice, 10000);
	ck_assert_int_eq(parse("timeslice = 4294967295\n[vm a]\nimage=a\n"), 0);
	ck_assert_uint_eq(cfg.timeslice, 4294967295ULL);
	ck_assert_int_eq(parse("timeslice = 10k\n[vm a]\nimage=a\n"), 0);
	ck_assert_uint_eq(cfg.timeslice, 10240);
}
END_TEST

START_TEST(good_cmdline_limits)
{
	char t[600];
	int n;

	n = snprintf(t, sizeof(t), "[vm a]\nimage=a\ncmdline = ");
	memset(t + n, 'c', 255);
	strcpy(t + n + 255, "\n");
	ck_assert_int_eq(parse(t), 0);
	ck_assert_uint_eq(strlen(cfg.vms[0].cmdline), 255);
	/* an empty value is fine for cmdline; '#' ends the value */
	ck_assert_int_eq(parse("[vm a]\nimage=a\ncmdline =\n"), 0);
	ck_assert_str_eq(cfg.vms[0].cmdline, "");
	ck_assert_int_eq(parse("[vm a]\nimage=a.elf#x\ncmdline = a # b\n"), 0);
	ck_assert_str_eq(cfg.vms[0].image, "a.elf");
	ck_assert_str_eq(cfg.vms[0].cmdline, "a");
	strcpy(t + n + 255, "c\n");                         /* 256 characters */
	expect_error(t, 3, "cmdline", "255");
}
END_TEST

START_TEST(err_unknown_key)
{
	expect_error("timeslice = 2000000\nfrobnicate = 1\n", 2,
		     "unknown key 'frobnicate'");
	expect_error("[vm a]\nimage=a\n\n  Image = b\n", 4, "unknown key 'Image'");
	expect_error("[vm a]\n = b\n", 2, "unknown key ''");
	expect_error("[vm a]\nimage a.elf\n", 2, "expected 'key = value'",
		     "image a.elf");
}
END_TEST

START_TEST(err_key_in_wrong_place)
{
	expect_error("# c\nimage = a.elf\n[vm a]\n", 2, "key 'image'",
		     "belongs in a [vm NAME] section");
	expect_error("memory = 16M\n", 1, "key 'memory'", "[vm NAME]");
	expect_error("[vm a]\nimage=a\ntimeslice = 20000\n", 3,
		     "key 'timeslice'", "before the first [vm]");
}
END_TEST

START_TEST(err_missing_image)
{
	expect_error("[vm a]\nimage=a\n\n[vm second]\nmemory=4M\n[vm c]\n"
		     "image=c\n", 4, "VM 'second' has no image");
	expect_error("[vm a]\nimage=\n", 2, "image", "1-63");
}
END_TEST

START_TEST(err_image_too_long)
{
	char t[200];
	int n = snprintf(t, sizeof(t), "[vm a]\nimage = ");

	memset(t + n, 'i', 64);
	strcpy(t + n + 64, "\n");
	expect_error(t, 2, "image", "1-63");
}
END_TEST

START_TEST(err_duplicate_name)
{
	expect_error("[vm dup]\nimage=a\n[vm b]\nimage=b\n[vm dup]\nimage=c\n",
		     5, "VM name 'dup' is used twice");
	/* names are case sensitive */
	ck_assert_int_eq(parse("[vm a]\nimage=a\n[vm A]\nimage=b\n"), 0);
}
END_TEST

START_TEST(err_bad_name)
{
	expect_error("[vm a.b]\nimage=a\n", 1, "VM name 'a.b'", "1-15");
	expect_error("\n[vm a b]\n", 2, "VM name 'a b'");
	expect_error("[vm abcdefghijklmnop]\n", 1, "'abcdefghijklmnop'", "1-15");
	expect_error("[vm  ]\n", 1, "VM name ''");
	expect_error("[vm \xc3\xa9t\xc3\xa9]\n", 1, "VM name");
}
END_TEST

START_TEST(err_too_many_vms)
{
	char t[400];
	int n = 0;

	for (int i = 0; i < 9; i++)
		n += snprintf(t + n, sizeof(t) - n, "[vm v%d]\nimage = x\n", i);
	expect_error(t, 17, "too many VMs", "8");
}
END_TEST

START_TEST(err_bad_memory)
{
	static const char *const bad_size[] = {
		"", "M", "16MB", "16 M", "-1", "0x10M", "abc", "1T", "16X",
	};
	/* sizes, but too small or too large (0 and values past 64 bits
	   included): "out of range", with the range */
	static const char *const bad_range[] = {
		"0", "0M", "1M", "1536K", "3073M", "4G", "2097151",
		"99999999999G", "99999999999999999999", "17179869184G",
		"18446744073709551615",
	};
	char t[200];

	for (size_t i = 0; i < sizeof(bad_size) / sizeof(bad_size[0]); i++) {
		snprintf(t, sizeof(t), "[vm a]\nimage=a\nmemory = %s\n",
			 bad_size[i]);
		expect_error(t, 3, "memory: '", "' is not a size (e.g. 16M)");
	}
	for (size_t i = 0; i < sizeof(bad_range) / sizeof(bad_range[0]); i++) {
		snprintf(t, sizeof(t), "[vm a]\nimage=a\nmemory = %s\n",
			 bad_range[i]);
		expect_error(t, 3, "memory", bad_range[i], "is out of range",
			     "from 2M to 3G");
	}
	/* in range, but not whole MiB */
	expect_error("[vm a]\nimage=a\nmemory = 2049K\n", 3,
		     "memory: '2049K' must be whole MiB from 2M to 3G");
	expect_error("[vm a]\nimage=a\nmemory = 1048577\n", 3, "whole MiB");
	expect_error("[vm a]\nimage=a\nmemory = 16MB\n", 3, "'16MB'",
		     "not a size");
}
END_TEST

START_TEST(err_bad_timeslice)
{
	expect_error("timeslice = 9999\n[vm a]\nimage=a\n", 1, "timeslice",
		     "'9999'", "10000..4294967295");
	expect_error("timeslice = 4294967296\n", 1, "timeslice");
	expect_error("timeslice = 4G\n", 1, "timeslice");
	expect_error("\n\ntimeslice = fast\n", 3, "timeslice", "'fast'");
	expect_error("timeslice =\n", 1, "timeslice");
}
END_TEST

START_TEST(err_sections)
{
	expect_error("[vm a\nimage=a\n", 1, "lacks its closing ']'");
	expect_error("[vm a] x\n", 1, "closing ']'");
	expect_error("[\n", 1, "closing ']'");
	expect_error("[vm a]\nimage=a\n[uhv]\n", 3, "unknown section '[uhv]'");
	expect_error("[vmx a]\n", 1, "unknown section '[vmx a]'");
	expect_error("[vm]\n", 1, "unknown section '[vm]'");
	expect_error("[]\n", 1, "unknown section");
}
END_TEST

START_TEST(err_line_too_long)
{
	char t[1000];
	int n = snprintf(t, sizeof(t), "[vm a]\nimage=a\ncmdline=");

	/* 399 characters on line 3 is the most a line may have */
	memset(t + n, 'x', 399 - 8);
	strcpy(t + n + 399 - 8, "\n");
	expect_error(t, 3, "cmdline");          /* too long a cmdline, not line */
	t[n + 399 - 8] = 'x';
	strcpy(t + n + 400 - 8, "\n");
	expect_error(t, 3, "line longer than 399 characters");
	/* a long comment line is still a long line */
	memset(t, '#', 500);
	strcpy(t + 500, "\n[vm a]\nimage=a\n");
	expect_error(t, 1, "line longer than 399");
}
END_TEST

START_TEST(err_nul_byte)
{
	static const char t[] = "[vm a]\nimage=a\ncmdline=x\0y\n";

	ck_assert_int_eq(config_parse(t, sizeof(t) - 1, &cfg, &err), -1);
	ck_assert_int_eq(err.line, 3);
	ck_assert_ptr_nonnull(strstr(err.msg, "NUL byte"));
	/* len bounds the text: the same bytes up to the NUL parse fine */
	ck_assert_int_eq(config_parse(t, 24, &cfg, &err), 0);
	ck_assert_str_eq(cfg.vms[0].cmdline, "x");
}
END_TEST

START_TEST(err_no_vm)
{
	expect_error("", 0, "no [vm NAME] section");
	expect_error("# nothing\n\n   \ntimeslice = 20000\n", 0, "nothing to run");
}
END_TEST

/* agent = on | off, per VM, off by default; nothing else, nowhere else. */
START_TEST(agent_key)
{
	ck_assert_int_eq(parse("[vm a]\nimage=a\nagent = on\n[vm b]\nimage=b\n"
			       "[vm c]\nimage=c\nagent=on\nagent=off\n"), 0);
	ck_assert(cfg.vms[0].agent);
	ck_assert(!cfg.vms[1].agent);
	ck_assert(!cfg.vms[2].agent);            /* the last one counts */
	expect_error("[vm a]\nimage=a\nagent=yes\n", 3, "agent: 'yes' must be "
		     "on or off");
	expect_error("[vm a]\nimage=a\nagent=\n", 3, "must be on or off");
	expect_error("agent=on\n[vm a]\nimage=a\n", 1, "key 'agent' belongs "
		     "in a [vm NAME] section");
}
END_TEST

/* cpus, disk and net keys: good values, and each refusal. */
START_TEST(devices_keys)
{
	ck_assert_int_eq(parse("[vm a]\nimage=a\ncpus=4\ndisk=d.img,ro,serial=S1\n"
			       "disk=e.img\nnet=lan\nnet=dmz,mac=02:00:00:aa:bb:CC\n"), 0);
	ck_assert_int_eq(cfg.vms[0].cpus, 4);
	ck_assert_int_eq(cfg.vms[0].nr_disks, 2);
	ck_assert_str_eq(cfg.vms[0].disks[0].image, "d.img");
	ck_assert(cfg.vms[0].disks[0].read_only);
	ck_assert_str_eq(cfg.vms[0].disks[0].serial, "S1");
	ck_assert(!cfg.vms[0].disks[1].read_only);
	ck_assert_int_eq(cfg.vms[0].nr_nets, 2);
	ck_assert_str_eq(cfg.vms[0].nets[0].network, "lan");
	ck_assert(!cfg.vms[0].nets[0].has_mac);
	ck_assert(cfg.vms[0].nets[1].has_mac);
	ck_assert_uint_eq(cfg.vms[0].nets[1].mac[5], 0xcc);
	expect_error("[vm a]\nimage=a\ncpus=5\n", 3, "cpus", "1 to 4");
	expect_error("[vm a]\nimage=a\ndisk=d.img,fast\n", 3, "unknown option 'fast'");
	expect_error("[vm a]\nimage=a\ndisk=a\ndisk=b\ndisk=c\n", 5, "at most");
	expect_error("[vm a]\nimage=a\nnet=lan,mac=01:00:5e:00:00:01\n", 3,
		     "unicast");                             /* multicast MAC */
	expect_error("[vm a]\nimage=a\nnet=lan,mac=02:00:00\n", 3, "mac=");
	expect_error("[vm a]\nimage=a\nnet=l@n\n", 3, "network name");
	/* one writable image in two VMs would be corrupted */
	expect_error("[vm a]\nimage=a\ndisk=d.img\n[vm b]\nimage=b\ndisk=d.img,ro\n",
		     6, "disk 'd.img'");
	ck_assert_int_eq(parse("[vm a]\nimage=a\ndisk=d.img,ro\n[vm b]\nimage=b\n"
			       "disk=d.img,ro\n"), 0);      /* read-only twice is fine */
}
END_TEST

/* capture = NETWORK[,snaplen=N]: the default snap length, the limits, and
   a network nothing is on (refused unless VMs may come at run time). */
START_TEST(capture_key)
{
	ck_assert_int_eq(parse("[vm a]\nimage=a\n"), 0);
	ck_assert_str_eq(cfg.capture_net, "");            /* off by default */
	ck_assert_int_eq(parse("capture = lan\n[vm a]\nimage=a\nnet=lan\n"), 0);
	ck_assert_str_eq(cfg.capture_net, "lan");
	ck_assert_uint_eq(cfg.capture_snaplen, 256);
	ck_assert_int_eq(parse("capture=lan,snaplen=1514\n[vm a]\nimage=a\n"
			       "net=dmz\nnet=lan\n"), 0);
	ck_assert_uint_eq(cfg.capture_snaplen, 1514);
	ck_assert_int_eq(parse("capture=lan,snaplen=14\n[vm a]\nimage=a\nnet=lan\n"), 0);
	ck_assert_int_eq(parse("capture=lan,snaplen=65535\n[vm a]\nimage=a\n"
			       "net=lan\n"), 0);
	/* uhv's own address makes the network exist too */
	ck_assert_int_eq(parse("host=lan:10.0.0.254\ncapture=lan\n[vm a]\nimage=a\n"), 0);
	expect_error("capture=lan,snaplen=13\n[vm a]\nimage=a\nnet=lan\n", 1,
		     "snaplen", "14 to 65535");
	expect_error("capture=lan,snaplen=65536\n[vm a]\nimage=a\nnet=lan\n", 1,
		     "snaplen");
	expect_error("capture=lan,snaplen=\n[vm a]\nimage=a\nnet=lan\n", 1,
		     "snaplen");
	expect_error("capture=lan,snap=64\n[vm a]\nimage=a\nnet=lan\n", 1,
		     "only option");
	expect_error("capture=\n[vm a]\nimage=a\n", 1, "network name");
	expect_error("capture=,snaplen=64\n[vm a]\nimage=a\n", 1, "network name");
	expect_error("capture=l@n\n[vm a]\nimage=a\n", 1, "A-Z a-z");
	expect_error("capture=a_network_name_too_long\n[vm a]\nimage=a\n", 1,
		     "1-15");
	expect_error("[vm a]\nimage=a\ncapture=lan\n", 3, "before the first [vm]");
	expect_error("# c\ncapture=lan\n[vm a]\nimage=a\nnet=dmz\n", 2,
		     "no VM is on network 'lan'");
}
END_TEST

/* apicv: on by default; off only when asked; nothing else accepted. */
START_TEST(apicv_key)
{
	ck_assert_int_eq(parse("[vm a]\nimage=a\n"), 0);
	ck_assert(!cfg.apicv_off);
	ck_assert_int_eq(parse("apicv = off\n[vm a]\nimage=a\n"), 0);
	ck_assert(cfg.apicv_off);
	ck_assert_int_eq(parse("apicv = on\n[vm a]\nimage=a\n"), 0);
	ck_assert(!cfg.apicv_off);
	expect_error("apicv = 1\n[vm a]\nimage=a\n", 1, "apicv: '1' must be on or off");
	expect_error("[vm a]\nimage=a\napicv = off\n", 3, "apicv");
}
END_TEST

/* trace = off | on | console, per VM, off by default; the last one
   counts; nothing else, nowhere else. */
START_TEST(trace_key)
{
	ck_assert_int_eq(parse("[vm a]\nimage=a\ntrace = on\n[vm b]\nimage=b\n"
			       "[vm c]\nimage=c\ntrace=console\n"
			       "[vm d]\nimage=d\ntrace=console\ntrace = off\n"), 0);
	ck_assert_int_eq(cfg.vms[0].trace, CFG_TRACE_ON);
	ck_assert_int_eq(cfg.vms[1].trace, CFG_TRACE_OFF);
	ck_assert_int_eq(cfg.vms[2].trace, CFG_TRACE_CONSOLE);
	ck_assert_int_eq(cfg.vms[3].trace, CFG_TRACE_OFF);
	expect_error("[vm a]\nimage=a\ntrace = yes\n", 3,
		     "trace: 'yes' must be off, on or console");
	expect_error("[vm a]\nimage=a\ntrace=\n", 3, "must be off, on or console");
	expect_error("[vm a]\nimage=a\ntrace = On\n", 3, "trace: 'On'");
	expect_error("trace = on\n[vm a]\nimage=a\n", 1, "key 'trace' belongs "
		     "in a [vm NAME] section");
}
END_TEST

/* Speculation hygiene: on for every VM unless mitigations = off (all)
   or trusted = yes (that VM); each key in its own place. */
START_TEST(mitigation_keys)
{
	ck_assert_int_eq(parse("[vm a]\nimage=a\n[vm b]\nimage=b\ntrusted = yes\n"), 0);
	ck_assert(!cfg.mitigations_off);
	ck_assert(!cfg.vms[0].trusted);
	ck_assert(cfg.vms[1].trusted);
	ck_assert_int_eq(parse("mitigations = off\n[vm a]\nimage=a\n"), 0);
	ck_assert(cfg.mitigations_off);
	ck_assert(!cfg.vms[0].trusted);     /* applied by uhv, per slot */
	expect_error("mitigations = maybe\n[vm a]\nimage=a\n", 1,
		     "mitigations: 'maybe' must be on or off");
	expect_error("[vm a]\nimage=a\ntrusted = on\n", 3,
		     "trusted: 'on' must be yes or no");
	expect_error("trusted = yes\n[vm a]\nimage=a\n", 1, "trusted");
	expect_error("[vm a]\nimage=a\nmitigations = off\n", 3, "mitigations");
}
END_TEST

/* console = PORT[,BAUD]: com1-com4 or a hex port, a 16550 rate; not on
   the control channel's COM2 nor the capture's COM3. */
START_TEST(console_key)
{
	ck_assert_int_eq(parse("[vm a]\nimage=a\n"), 0);
	ck_assert_uint_eq(cfg.console_port, 0);        /* SPCR or COM1 */
	ck_assert_int_eq(parse("console = com2\n[vm a]\nimage=a\n"), 0);
	ck_assert_uint_eq(cfg.console_port, 0x2f8);
	ck_assert_uint_eq(cfg.console_baud, 115200);
	ck_assert_int_eq(parse("console = 0x3e8,57600\n[vm a]\nimage=a\n"), 0);
	ck_assert_uint_eq(cfg.console_port, 0x3e8);
	ck_assert_uint_eq(cfg.console_baud, 57600);
	expect_error("console = com5\n[vm a]\nimage=a\n", 1,
		     "console: 'com5' must be com1-com4 or an I/O port");
	expect_error("console = 0xzz\n[vm a]\nimage=a\n", 1, "must be com1-com4");
	expect_error("console = com1,12345\n[vm a]\nimage=a\n", 1,
		     "must be 9600, 19200, 38400, 57600 or 115200");
	expect_error("control = on\nconsole = com2\n", 2,
		     "COM2 carries the control channel");
	expect_error("console = com3\ncapture = lan\n[vm a]\nimage=a\nnet=lan\n", 1,
		     "COM3 carries the capture stream");
}
END_TEST

/* The keys of the control channel: control, images, reserve. */
START_TEST(control_keys)
{
	ck_assert_int_eq(parse("[vm a]\nimage=a\n"), 0);
	ck_assert(!cfg.control);
	ck_assert_str_eq(cfg.images, "");
	ck_assert_uint_eq(cfg.reserve, 0);
	ck_assert_int_eq(parse("control = on\nimages = imgs/x\nreserve = 64M\n"
			       "[vm a]\nimage=a\n"), 0);
	ck_assert(cfg.control);
	ck_assert_str_eq(cfg.images, "imgs/x");
	ck_assert_uint_eq(cfg.reserve, MiB(64));
	ck_assert_int_eq(parse("control = off\nreserve = 0\n[vm a]\nimage=a\n"), 0);
	ck_assert(!cfg.control);
	/* with a control channel, VMs may all come at run time */
	ck_assert_int_eq(parse("control = on\nreserve = 32M\n"), 0);
	ck_assert_int_eq(cfg.nr_vms, 0);
	expect_error("reserve = 32M\n", 0, "control = on");
	expect_error("control = yes\n[vm a]\nimage=a\n", 1, "on or off");
	expect_error("reserve = 3M\n[vm a]\nimage=a\n", 1, "2M steps");
	expect_error("reserve = lots\n[vm a]\nimage=a\n", 1, "2M steps");
	expect_error("reserve = 26G\n[vm a]\nimage=a\n", 1, "24G");
	expect_error("images = a\\b\n[vm a]\nimage=a\n", 1, "folder");
	expect_error("images = c:x\n[vm a]\nimage=a\n", 1, "folder");
	expect_error("images = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		     "[vm a]\nimage=a\n", 1, "too long");
	expect_error("[vm a]\nimage=a\ncontrol=on\n", 3, "before the first [vm]");
}
END_TEST

/* The RAM asked for, reserve included, must fit. */
START_TEST(reserve_must_fit)
{
	struct cfg_error e;

	ck_assert_int_eq(parse("reserve = 64M\n[vm a]\nimage=a\nmemory=16M\n"), 0);
	ck_assert_int_eq(config_check_fit(&cfg, MiB(80), &e), 0);
	ck_assert_int_eq(config_check_fit(&cfg, MiB(79), &e), -1);
	ck_assert_int_eq(config_check_fit(&cfg, MiB(63), &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "reserve"));
}
END_TEST

START_TEST(parse_size)
{
	ck_assert_uint_eq(config_parse_size("4096"), 4096);
	ck_assert_uint_eq(config_parse_size("512K"), 512 * 1024);
	ck_assert_uint_eq(config_parse_size("512k"), 512 * 1024);
	ck_assert_uint_eq(config_parse_size("16M"), 16ULL << 20);
	ck_assert_uint_eq(config_parse_size("1G"), 1ULL << 30);
	ck_assert_uint_eq(config_parse_size("17179869183G"), 17179869183ULL << 30);
	ck_assert_uint_eq(config_parse_size("18446744073709551609"),
			  18446744073709551609ULL);
	ck_assert_uint_eq(config_parse_size("0"), 0);
	ck_assert_uint_eq(config_parse_size(""), 0);
	ck_assert_uint_eq(config_parse_size("K"), 0);
	ck_assert_uint_eq(config_parse_size(" 1"), 0);
	ck_assert_uint_eq(config_parse_size("1 "), 0);
	ck_assert_uint_eq(config_parse_size("1KK"), 0);
	ck_assert_uint_eq(config_parse_size("1T"), 0);
	ck_assert_uint_eq(config_parse_size("18446744073709551616"), 0);
	ck_assert_uint_eq(config_parse_size("17179869184G"), 0);
	ck_assert_uint_eq(config_parse_size("18014398509481984K"), 0);
}
END_TEST

/* BUG (reported): the overflow check rejects the largest values that fit. */
START_TEST(parse_size_u64_max)
{
	ck_assert_uint_eq(config_parse_size("18446744073709551615"),
			  18446744073709551615ULL);
}
END_TEST

/* A VM that does not fit is reported at its memory line, and the
   message says how to give the machine more memory. */
START_TEST(check_fit)
{
	ck_assert_int_eq(parse("[vm a]\nimage=a\nmemory=16M\n\n[vm big]\n"
			       "image=b\nmemory=32M\n"), 0);
	ck_assert_int_eq(config_check_fit(&cfg, 48ULL << 20, &err), 0);
	ck_assert_int_eq(config_check_fit(&cfg, (48ULL << 20) - 1, &err), -1);
	ck_assert_int_eq(err.line, 7);
	ck_assert_str_eq(err.msg, "VM 'big': memory 32M does not fit: 48M in "
			 "all asked, 47M free for guests; give the machine "
			 "more RAM (tools/uhv-run: --mem MB)");
	ck_assert_int_eq(config_check_fit(&cfg, 10ULL << 20, &err), -1);
	ck_assert_int_eq(err.line, 3);
	ck_assert_ptr_nonnull(strstr(err.msg, "VM 'a': memory 16M"));
}
END_TEST

/* A VM with the default memory has no memory line: its [vm] line. */
START_TEST(check_fit_default_memory)
{
	ck_assert_int_eq(parse("# c\n[vm a]\nimage=a\n"), 0);
	ck_assert_int_eq(config_check_fit(&cfg, MiB(15), &err), -1);
	ck_assert_int_eq(err.line, 2);
	ck_assert_ptr_nonnull(strstr(err.msg, "VM 'a': memory 16M does not fit"));
	ck_assert_ptr_nonnull(strstr(err.msg, "--mem"));
}
END_TEST

/* The reserve that does not fit is reported at its line. */
START_TEST(check_fit_reserve_line)
{
	ck_assert_int_eq(parse("control = on\n\nreserve = 64M\n"), 0);
	ck_assert_int_eq(config_check_fit(&cfg, MiB(63), &err), -1);
	ck_assert_int_eq(err.line, 3);
	ck_assert_ptr_nonnull(strstr(err.msg, "reserve: 64M does not fit"));
	ck_assert_ptr_nonnull(strstr(err.msg, "--mem"));
}
END_TEST

/* The longest fit message (the largest reserve, 8 VMs of 3G with
   15-character names, the last one short by a byte) is whole: nothing
   cut from its end. */
START_TEST(check_fit_message_whole)
{
	char t[1024];
	int n = snprintf(t, sizeof(t), "reserve = 24G\n");
	u64 all = GiB(24) + GiB(3) * CFG_MAX_VMS;

	for (int i = 0; i < CFG_MAX_VMS; i++)
		n += snprintf(t + n, sizeof(t) - (size_t)n, "[vm abcdefghijklm%02d]"
			      "\nimage=a\nmemory=3G\n", i);
	ck_assert_int_eq(parse(t), 0);
	ck_assert_int_eq(config_check_fit(&cfg, all, &err), 0);
	ck_assert_int_eq(config_check_fit(&cfg, all - 1, &err), -1);
	ck_assert_int_eq(err.line, 3 * CFG_MAX_VMS + 1);
	ck_assert_uint_lt(strlen(err.msg), sizeof(err.msg) - 1);
	ck_assert_msg(strstr(err.msg, "(tools/uhv-run: --mem MB)"), "%s", err.msg);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, good_full_file);
	tcase_add_test(tc, selftest_values);
	tcase_add_test(tc, uplink_and_bridged);
	tcase_add_test(tc, dhcp_pool);
	tcase_add_test(tc, nat_network);
	tcase_add_test(tc, flood_limits);
	tcase_add_test(tc, good_defaults_and_limits);
	tcase_add_test(tc, good_cmdline_limits);
	tcase_add_test(tc, err_unknown_key);
	tcase_add_test(tc, err_key_in_wrong_place);
	tcase_add_test(tc, err_missing_image);
	tcase_add_test(tc, err_image_too_long);
	tcase_add_test(tc, err_duplicate_name);
	tcase_add_test(tc, err_bad_name);
	tcase_add_test(tc, err_too_many_vms);
	tcase_add_test(tc, err_bad_memory);
	tcase_add_test(tc, err_bad_timeslice);
	tcase_add_test(tc, err_sections);
	tcase_add_test(tc, err_line_too_long);
	tcase_add_test(tc, err_nul_byte);
	tcase_add_test(tc, err_no_vm);
	tcase_add_test(tc, devices_keys);
	tcase_add_test(tc, agent_key);
	tcase_add_test(tc, capture_key);
	tcase_add_test(tc, control_keys);
	tcase_add_test(tc, apicv_key);
	tcase_add_test(tc, mitigation_keys);
	tcase_add_test(tc, trace_key);
	tcase_add_test(tc, console_key);
	tcase_add_test(tc, reserve_must_fit);
	tcase_add_test(tc, parse_size);
	tcase_add_test(tc, parse_size_u64_max);
	tcase_add_test(tc, check_fit);
	tcase_add_test(tc, check_fit_default_memory);
	tcase_add_test(tc, check_fit_reserve_line);
	tcase_add_test(tc, check_fit_message_whole);
	suite_add_tcase(s, tc);
	return s;
}
