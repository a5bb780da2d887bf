/*
 * The uhv.cfg parser. One line at a time: trim, skip comments, then either
 * a "[vm NAME]" header or "key = value". Every key is listed once in
 * cfg_keys[], with the function that stores it, so uhv can print what it
 * understood and an unknown key is always a clear error.
 */
#include <stdarg.h>

#include "vmm/config.h"
#include "vmm/net/capture.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define LINE_MAX 400

struct parser {
	struct uhv_config *cfg;
	struct cfg_error *err;
	struct vm_config *vm;   /* current section, NULL for global */
	int line;
};

/* Records an error at the current line: the message from fmt and its
   arguments (printf-style). Returns -1, for `return fail(...)`. */
static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	p->err->line = p->line;
	va_start(ap, fmt);
	fmt_vsn(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trims blanks on both ends, in place. */
static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = 0;
	return s;
}

/* What parse_size made of a value: a size, no number at all, or a
   number too large for 64 bits (which is a size, out of any range). */
enum size_parse { SIZE_OK, SIZE_JUNK, SIZE_TOO_BIG };

/* Parses "16M", "512K", "1G", "4096" into *out (bytes). Junk (a sign,
   blanks, an unknown suffix) is SIZE_JUNK; digits that overflow u64,
   alone or with their suffix, are SIZE_TOO_BIG, so that a message can
   say "out of range" for them rather than "not a size". */
static enum size_parse parse_size(const char *s, u64 *out)
{
	u64 v = 0, mul = 1;
	bool big = false;

	*out = 0;
	if (*s < '0' || *s > '9')
		return SIZE_JUNK;
	for (; *s >= '0' && *s <= '9'; s++) {
		u64 digit = (u64)(*s - '0');

		if (v > (~0ULL - digit) / 10)
			big = true;
		v = v * 10 + digit;
	}
	switch (*s) {
	case 'K': case 'k': mul = KiB(1); s++; break;
	case 'M': case 'm': mul = MiB(1); s++; break;
	case 'G': case 'g': mul = GiB(1); s++; break;
	}
	if (*s)
		return SIZE_JUNK;
	if (big || v > ~0ULL / mul)
		return SIZE_TOO_BIG;
	*out = v * mul;
	return SIZE_OK;
}

u64 config_parse_size(const char *s)
{
	u64 v;

	return parse_size(s, &v) == SIZE_OK ? v : 0;
}

/* A size for messages: "3G" when it is whole GiB, else "NM" (callers
   pass whole MiB). buf needs SIZE_TEXT_MAX bytes. */
#define SIZE_TEXT_MAX 24

static const char *size_text(u64 bytes, char *buf)
{
	if (bytes && IS_ALIGNED(bytes, GiB(1)))
		fmt_sn(buf, SIZE_TEXT_MAX, "%lluG", (unsigned long long)(bytes >> 30));
	else
		fmt_sn(buf, SIZE_TEXT_MAX, "%lluM", (unsigned long long)(bytes >> 20));
	return buf;
}

static int key_image(struct parser *p, const char *v)
{
	if (!*v || strlen(v) >= CFG_PATH_MAX)
		return fail(p, "image: expected a file name of 1-%s characters",
			    "63");
	str_copy(p->vm->image, v, sizeof(p->vm->image));
	p->vm->has_image = true;
	p->vm->image_line = p->line;
	return 0;
}

static int key_initrd(struct parser *p, const char *v)
{
	if (!*v || strlen(v) >= CFG_PATH_MAX)
		return fail(p, "initrd: expected a file name of 1-%s characters",
			    "63");
	str_copy(p->vm->initrd, v, sizeof(p->vm->initrd));
	p->vm->initrd_line = p->line;
	return 0;
}

/* memory = SIZE: a size the user can mistype (not a size) or ask too
   much or too little of (out of range, with the range), or not in whole
   MiB (EPT maps the VM's RAM in 2 MiB and 4 KiB pages, but uhv hands it
   out by the MiB). */
static int key_memory(struct parser *p, const char *v)
{
	char lo[SIZE_TEXT_MAX], hi[SIZE_TEXT_MAX];
	u64 m;
	enum size_parse r = parse_size(v, &m);

	if (r == SIZE_JUNK)
		return fail(p, "memory: '%s' is not a size (e.g. 16M)", v);
	size_text(CFG_MEM_MIN, lo);
	size_text(CFG_MEM_MAX, hi);
	if (r == SIZE_TOO_BIG || m < CFG_MEM_MIN || m > CFG_MEM_MAX)
		return fail(p, "memory: '%s' is out of range: whole MiB from %s "
			    "to %s", v, lo, hi);
	if (!IS_ALIGNED(m, MiB(1)))
		return fail(p, "memory: '%s' must be whole MiB from %s to %s", v,
			    lo, hi);
	p->vm->memory = m;
	p->vm->memory_line = p->line;
	return 0;
}

static int key_cpus(struct parser *p, const char *v)
{
	u64 n = config_parse_size(v);

	if (n < 1 || n > CFG_MAX_CPUS)
		return fail(p, "cpus: '%s' must be 1 to 4", v);
	p->vm->cpus = (int)n;
	return 0;
}

/* One ",opt" of a disk line: "ro", "rw" or "serial=TEXT". */
static int disk_option(struct parser *p, struct disk_config *d, const char *o)
{
	if (!strcmp(o, "ro"))
		d->read_only = true;
	else if (!strcmp(o, "rw"))
		d->read_only = false;
	else if (!strncmp(o, "serial=", 7) && strlen(o + 7) < CFG_SERIAL_MAX)
		str_copy(d->serial, o + 7, sizeof(d->serial));
	else
		return fail(p, "disk: unknown option '%s' (ro, rw, serial=up to "
			    "20 characters)", o);
	return 0;
}

/* disk = FILE[,ro][,serial=TEXT]: the file, then options. */
static int key_disk(struct parser *p, const char *v)
{
	struct disk_config *d = &p->vm->disks[p->vm->nr_disks];
	char field[CFG_PATH_MAX + 8];
	size_t n;

	if (p->vm->nr_disks == CFG_MAX_DISKS)
		return fail(p, "disk: at most %s disks per VM", "2");
	*d = (struct disk_config){ .line = p->line };
	for (const char *f = v;; f += n + 1) {
		for (n = 0; f[n] && f[n] != ','; n++)
			;
		if (n >= sizeof(field) || (f == v && (n == 0 || n >= CFG_PATH_MAX)))
			return fail(p, "disk: bad image name or option in '%s'", v);
		memcpy(field, f, n);
		field[n] = 0;
		if (f == v)
			str_copy(d->image, field, sizeof(d->image));
		else if (disk_option(p, d, field))
			return -1;
		if (!f[n])
			break;
	}
	p->vm->nr_disks++;
	return 0;
}

/* "aa:bb:cc:dd:ee:ff" into mac; false on junk or a group address. */
static bool parse_mac(const char *s, u8 *mac)
{
	for (int i = 0; i < 6; i++, s += 3) {
		u8 b = 0;

		for (int k = 0; k < 2; k++) {
			char c = s[k];
			int d = c >= '0' && c <= '9' ? c - '0' :
				c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

			if (d < 0)
				return false;
			b = (u8)(b << 4 | d);
		}
		if (s[2] != (i == 5 ? 0 : ':'))
			return false;
		mac[i] = b;
	}
	return !(mac[0] & 1);     /* a NIC's own address is never multicast */
}

/* net = NETWORK[,mac=aa:bb:cc:dd:ee:ff] */
static int key_net(struct parser *p, const char *v)
{
	struct net_config *n = &p->vm->nets[p->vm->nr_nets];
	size_t len = 0;

	if (p->vm->nr_nets == CFG_MAX_NICS)
		return fail(p, "net: at most %s NICs per VM", "2");
	*n = (struct net_config){ .line = p->line };
	while (v[len] && v[len] != ',')
		len++;
	if (len == 0 || len >= CFG_NAME_MAX)
		return fail(p, "net: '%s' needs a network name of 1-15 characters", v);
	memcpy(n->network, v, len);
	n->network[len] = 0;
	if (!name_valid(n->network))
		return fail(p, "net: network name '%s' must be A-Z a-z 0-9 - _",
			    n->network);
	if (v[len]) {
		if (strncmp(v + len, ",mac=", 5) || !parse_mac(v + len + 5, n->mac))
			return fail(p, "net: '%s': expected ,mac=aa:bb:cc:dd:ee:ff "
				    "(a unicast address)", v);
		n->has_mac = true;
	}
	p->vm->nr_nets++;
	return 0;
}

/* A key that takes on or off; why: the error, with %s for the value. */
static int on_off(struct parser *p, const char *why, const char *v, bool *on)
{
	if (strcmp(v, "on") && strcmp(v, "off"))
		return fail(p, why, v);
	*on = !strcmp(v, "on");
	return 0;
}

/* agent = on | off: a virtio-console port for a guest agent (agent.h) */
static int key_agent(struct parser *p, const char *v)
{
	return on_off(p, "agent: '%s' must be on or off", v, &p->vm->agent);
}

static int key_cmdline(struct parser *p, const char *v)
{
	if (strlen(v) >= CFG_CMDLINE_MAX)
		return fail(p, "cmdline: longer than %s characters", "255");
	str_copy(p->vm->cmdline, v, sizeof(p->vm->cmdline));
	return 0;
}

static int key_timeslice(struct parser *p, const char *v)
{
	u64 t = config_parse_size(v);

	if (t < CFG_TIMESLICE_MIN || t > 0xffffffffULL)
		return fail(p, "timeslice: '%s' must be 10000..4294967295", v);
	p->cfg->timeslice = t;
	return 0;
}

static int key_stats(struct parser *p, const char *v)
{
	u64 t = config_parse_size(v);

	if ((t == 0 && strcmp(v, "0")) || t > 3600)
		return fail(p, "stats: '%s' must be 0 (off) to 3600 seconds", v);
	p->cfg->stats_seconds = t;
	return 0;
}

/* control = on | off: serve the management protocol on COM2 */
static int key_control(struct parser *p, const char *v)
{
	return on_off(p, "control: '%s' must be on or off", v, &p->cfg->control);
}

/* apicv = off: every guest access to its local APIC exits and is
   emulated, as on a CPU without APIC virtualization (for comparison). */
static int key_apicv(struct parser *p, const char *v)
{
	bool on = false;    /* set by on_off unless it fails */

	if (on_off(p, "apicv: '%s' must be on or off", v, &on))
		return -1;
	p->cfg->apicv_off = !on;
	return 0;
}

/* The 16550's I/O bases by their PC names, and the rates its 1.8432 MHz
   clock divides to exactly (divisor 115200 / baud). */
static const struct { const char *name; u16 port; } com_ports[] = {
	{ "com1", 0x3f8 }, { "com2", 0x2f8 }, { "com3", 0x3e8 }, { "com4", 0x2e8 },
};
static const u32 console_bauds[] = { 9600, 19200, 38400, 57600, 115200 };
#define CONSOLE_BAUD_DEFAULT 115200
#define IO_PORT_MAX 0xfff8       /* a UART's 8 registers fit below 64 Ki */

/* A port name (com1-com4) or a hex I/O base (0x...); 0 if neither. */
static u16 console_port(const char *v, size_t len)
{
	u64 n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(com_ports); i++)
		if (strlen(com_ports[i].name) == len &&
		    !strncmp(v, com_ports[i].name, len))
			return com_ports[i].port;
	if (len < 3 || len > 6 || strncmp(v, "0x", 2))
		return 0;
	for (size_t i = 2; i < len; i++) {
		char c = v[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return 0;
		n = n * 16 + (u64)d;
	}
	return n && n <= IO_PORT_MAX ? (u16)n : 0;
}

/* console = PORT[,BAUD]: where uhv's console is (machines whose BMC
   console is on COM2, say); without it, ACPI's SPCR table or COM1. */
static int key_console(struct parser *p, const char *v)
{
	size_t len = 0;
	u64 baud = CONSOLE_BAUD_DEFAULT;
	bool ok = false;

	while (v[len] && v[len] != ',')
		len++;
	if (!(p->cfg->console_port = console_port(v, len)))
		return fail(p, "console: '%s' must be com1-com4 or an I/O port "
			    "such as 0x2f8, then optionally ,BAUD", v);
	if (v[len]) {
		baud = config_parse_size(v + len + 1);
		for (size_t i = 0; i < ARRAY_SIZE(console_bauds); i++)
			ok |= baud == console_bauds[i];
		if (!ok)
			return fail(p, "console: the baud rate in '%s' must be 9600, "
				    "19200, 38400, 57600 or 115200", v);
	}
	p->cfg->console_baud = (u32)baud;
	p->cfg->console_line = p->line;
	return 0;
}

/* mitigations = on | off: off trusts every VM, as trusted = yes does one
   (no RSB filling, VERW, L1D flush or IBPB for it: arch/x86/spec.c). */
static int key_mitigations(struct parser *p, const char *v)
{
	bool on = false;    /* set by on_off unless it fails */

	if (on_off(p, "mitigations: '%s' must be on or off", v, &on))
		return -1;
	p->cfg->mitigations_off = !on;
	return 0;
}

/* trusted = yes | no: a VM whose code is trusted not to attack the
   others (nor to need protecting from them) runs without the
   speculation hygiene between VMs. */
static int key_trusted(struct parser *p, const char *v)
{
	if (strcmp(v, "yes") && strcmp(v, "no"))
		return fail(p, "trusted: '%s' must be yes or no", v);
	p->vm->trusted = !strcmp(v, "yes");
	return 0;
}

/* trace = off | on | console: the VM's exit trace from its start, in a
   ring (on), or in the ring and on the console (console) */
static int key_trace(struct parser *p, const char *v)
{
	static const char *const modes[] = {
		[CFG_TRACE_OFF] = "off", [CFG_TRACE_ON] = "on",
		[CFG_TRACE_CONSOLE] = "console",
	};

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(v, modes[i])) {
			p->vm->trace = (enum cfg_trace)i;
			return 0;
		}
	return fail(p, "trace: '%s' must be off, on or console", v);
}

/* images = DIR: every file in \uhv\DIR\ is loaded for `create` */
static int key_images(struct parser *p, const char *v)
{
	if (strlen(v) >= CFG_PATH_MAX - CFG_NAME_MAX)
		return fail(p, "images: folder name '%s' is too long", v);
	for (const char *c = v; *c; c++)
		if (*c == '\\' || *c == ':')
			return fail(p, "images: '%s': a folder under \\uhv\\, "
				    "with / between names", v);
	str_copy(p->cfg->images, v, sizeof(p->cfg->images));
	return 0;
}

/* reserve = SIZE: RAM held for VMs created at run time */
static int key_reserve(struct parser *p, const char *v)
{
	u64 r = config_parse_size(v);

	if ((r == 0 && strcmp(v, "0")) || r > CFG_MEM_MAX * CFG_MAX_VMS ||
	    r % MiB(2))
		return fail(p, "reserve: '%s' must be whole 2M steps up to 24G", v);
	p->cfg->reserve = r;
	p->cfg->reserve_line = p->line;
	return 0;
}

/* "a.b.c.d" into ip; false on junk. */
static bool parse_ipv4(const char *s, u8 *ip)
{
	for (int i = 0; i < 4; i++) {
		u32 v = 0;
		int digits = 0;

		for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
			v = v * 10 + (u32)(*s - '0');
		if (!digits || v > 255 || *s != (i == 3 ? 0 : '.'))
			return false;
		ip[i] = (u8)v;
		s += i < 3;
	}
	return true;
}

/* The NETWORK of a NETWORK:REST value into net (CFG_NAME_MAX bytes; its
   characters are checked by the caller); REST, or NULL if there is no
   ':' or the name is empty or too long. */
static const char *network_prefix(const char *v, char *net)
{
	size_t len = 0;

	while (v[len] && v[len] != ':')
		len++;
	if (!len || len >= CFG_NAME_MAX || !v[len])
		return NULL;
	memcpy(net, v, len);
	net[len] = 0;
	return v + len + 1;
}

/* host = NETWORK:IPV4 */
static int key_host(struct parser *p, const char *v)
{
	const char *ip = network_prefix(v, p->cfg->host_net);

	if (!ip || !name_valid(p->cfg->host_net) || !parse_ipv4(ip, p->cfg->host_ip))
		return fail(p, "host: '%s' must be NETWORK:a.b.c.d", v);
	return 0;
}

/* dhcp = FIRST-LAST: the addresses uhv's DHCP server leases on the
   host network (its /24, uhv's own address not among them). */
static int key_dhcp(struct parser *p, const char *v)
{
	char first[16];
	size_t len = 0;
	u8 last[4];
	u32 a, b;

	while (v[len] && v[len] != '-')
		len++;
	if (!v[len] || len >= sizeof(first))
		return fail(p, "dhcp: '%s' must be FIRST-LAST (a.b.c.d-a.b.c.e)", v);
	memcpy(first, v, len);
	first[len] = 0;
	if (!parse_ipv4(first, p->cfg->dhcp_first) || !parse_ipv4(v + len + 1, last))
		return fail(p, "dhcp: '%s' must be FIRST-LAST (a.b.c.d-a.b.c.e)", v);
	a = be32_get(p->cfg->dhcp_first);
	b = be32_get(last);
	if (b < a || b - a >= CFG_DHCP_MAX || (a >> 8) != (b >> 8))
		return fail(p, "dhcp: '%s' must hold 1-%d addresses of one /24", v,
			    CFG_DHCP_MAX);
	p->cfg->dhcp_count = b - a + 1;
	p->cfg->dhcp_line = p->line;
	return 0;
}

/* capture = NETWORK[,snaplen=N]: stream that network as pcap on COM3. */
static int key_capture(struct parser *p, const char *v)
{
	size_t len = 0;
	u64 snap = CAPTURE_SNAPLEN_DEFAULT;

	while (v[len] && v[len] != ',')
		len++;
	if (!len || len >= CFG_NAME_MAX)
		return fail(p, "capture: '%s' needs a network name of 1-15 "
			    "characters", v);
	memcpy(p->cfg->capture_net, v, len);
	p->cfg->capture_net[len] = 0;
	if (!name_valid(p->cfg->capture_net))
		return fail(p, "capture: network name '%s' must be A-Z a-z 0-9 - _",
			    p->cfg->capture_net);
	if (v[len]) {
		if (strncmp(v + len, ",snaplen=", 9))
			return fail(p, "capture: '%s': the only option is "
				    ",snaplen=N", v);
		snap = config_parse_size(v + len + 9);
		if (snap < CAPTURE_SNAPLEN_MIN || snap > CAPTURE_SNAPLEN_MAX)
			return fail(p, "capture: snaplen in '%s' must be 14 to "
				    "65535 bytes", v);
	}
	p->cfg->capture_snaplen = (u32)snap;
	p->cfg->capture_line = p->line;
	return 0;
}

/* A NIC's name as uhv lists them at boot: a driver, a dot, an index
   ("e1000.0", "virtio-net.1"). */
static bool nic_name_valid(const char *s)
{
	size_t n, dots = 0;

	for (n = 0; s[n]; n++) {
		if (n == CFG_NAME_MAX - 1 || !(name_char(s[n]) || s[n] == '.'))
			return false;
		dots += s[n] == '.';
	}
	return n > 0 && dots == 1;
}

/* uplink = NIC: one of uhv's own NICs, the bridged network's way out. */
static int key_uplink(struct parser *p, const char *v)
{
	if (!nic_name_valid(v))
		return fail(p, "uplink: '%s' must name one of uhv's NICs as it "
			    "lists them at boot (e1000.0, virtio-net.0, ...)", v);
	memcpy(p->cfg->uplink, v, strlen(v) + 1);
	p->cfg->uplink_line = p->line;
	return 0;
}

/* bridged = NETWORK: that network's switch gets the uplink as a port. */
static int key_bridged(struct parser *p, const char *v)
{
	if (!name_valid(v))
		return fail(p, "bridged: network name '%s' must be 1-15 of "
			    "A-Z a-z 0-9 - _", v);
	memcpy(p->cfg->bridged_net, v, strlen(v) + 1);
	p->cfg->bridged_line = p->line;
	return 0;
}

/* nat = NETWORK: its VMs reach the uplink's LAN behind uhv's address. */
static int key_nat(struct parser *p, const char *v)
{
	if (!name_valid(v))
		return fail(p, "nat: network name '%s' must be 1-15 of "
			    "A-Z a-z 0-9 - _", v);
	memcpy(p->cfg->nat_net, v, strlen(v) + 1);
	p->cfg->nat_line = p->line;
	return 0;
}

/* A prefix length 0-32 as a mask (192.168.1.5/24: 255.255.255.0). */
static bool parse_prefix(const char *s, u8 *mask)
{
	u32 n = 0, digits = 0;

	for (; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
		n = n * 10 + (u32)(*s - '0');
	if (!digits || *s || n > 32)
		return false;
	be32_put(mask, n ? ~0U << (32 - n) : 0);
	return true;
}

/* One part of outside = IP/N,gw=IP,dns=IP (the first is IP/N). */
static bool outside_part(struct uhv_config *c, char *part, bool first)
{
	char *slash = part;

	if (!first && !strncmp(part, "gw=", 3))
		return parse_ipv4(part + 3, c->outside_gw);
	if (!first && !strncmp(part, "dns=", 4))
		return parse_ipv4(part + 4, c->outside_dns);
	while (*slash && *slash != '/')
		slash++;
	if (!first || !*slash)
		return false;
	*slash = 0;
	return parse_ipv4(part, c->outside_ip) && parse_prefix(slash + 1,
							       c->outside_mask);
}

/* outside = dhcp | IP/N[,gw=IP][,dns=IP]: uhv's address on the uplink. */
static int key_outside(struct parser *p, const char *v)
{
	char buf[CFG_CMDLINE_MAX], *part = buf, *comma;
	bool first = true;

	p->cfg->outside_static = strcmp(v, "dhcp") != 0;
	p->cfg->outside_line = p->line;
	if (!p->cfg->outside_static)
		return 0;
	if (strlen(v) >= sizeof(buf))
		return fail(p, "outside: '%s' is too long", v);
	memcpy(buf, v, strlen(v) + 1);
	for (; part; part = comma, first = false) {
		for (comma = part; *comma && *comma != ','; comma++)
			;
		if (*comma)
			*comma++ = 0;       /* the next part follows */
		else
			comma = NULL;       /* this was the last */
		if (!outside_part(p->cfg, part, first))
			return fail(p, "outside: '%s' must be dhcp or "
				    "a.b.c.d/N[,gw=a.b.c.d][,dns=a.b.c.d]", v);
	}
	return 0;
}

/* A decimal port 1-65535 ending at end; false if not one. */
static bool parse_port(const char *s, const char *end, u16 *port)
{
	u32 v = 0;

	if (s == end || end - s > 5)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (u32)(*s - '0');
	}
	*port = (u16)v;
	return v >= 1 && v <= 65535;
}

/* forward = tcp|udp:OUTPORT:VM-IP:PORT (a NAT network's port forward). */
static int key_forward(struct parser *p, const char *v)
{
	struct uhv_config *c = p->cfg;
	struct forward_config *f = &c->forwards[c->nr_forwards];
	const char *a, *b, *d;
	char ip[16];

	if (c->nr_forwards == CFG_MAX_FORWARDS)
		return fail(p, "forward: at most %d port forwards", CFG_MAX_FORWARDS);
	f->proto = !strncmp(v, "tcp:", 4) ? CFG_PROTO_TCP
		 : !strncmp(v, "udp:", 4) ? CFG_PROTO_UDP : 0;
	a = v + 4;
	for (b = a; *b && *b != ':'; b++)
		;
	for (d = *b ? b + 1 : b; *d && *d != ':'; d++)
		;
	if (!f->proto || !*b || !*d || (size_t)(d - b - 1) >= sizeof(ip) ||
	    !parse_port(a, b, &f->out_port) ||
	    !parse_port(d + 1, d + 1 + strlen(d + 1), &f->in_port))
		return fail(p, "forward: '%s' must be tcp|udp:PORT:a.b.c.d:PORT", v);
	memcpy(ip, b + 1, (size_t)(d - b - 1));
	ip[d - b - 1] = 0;
	if (!parse_ipv4(ip, f->in_ip))
		return fail(p, "forward: '%s' must be tcp|udp:PORT:a.b.c.d:PORT", v);
	c->nr_forwards++;
	c->forward_line = p->line;
	return 0;
}

/* A decimal number of up to 9 digits from *s, which moves past it. */
static bool parse_u32(const char **s, u32 *v)
{
	u32 digits = 0;

	for (*v = 0; **s >= '0' && **s <= '9' && digits < 9; (*s)++, digits++)
		*v = *v * 10 + (u32)(**s - '0');
	return digits > 0;
}

/* flood = NETWORK:RATE[,BURST] | NETWORK:off: that network's NICs' flood
   limit (broadcast, multicast, unknown unicast frames a second). */
static int key_flood(struct parser *p, const char *v)
{
	struct uhv_config *c = p->cfg;
	struct flood_config *f = &c->floods[c->nr_floods];
	const char *at;

	if (c->nr_floods == CFG_MAX_FLOODS)
		return fail(p, "flood: at most %d networks", CFG_MAX_FLOODS);
	if (!(at = network_prefix(v, f->network)))
		return fail(p, "flood: '%s' must be NETWORK:RATE[,BURST] or "
			    "NETWORK:off", v);
	f->burst = CFG_FLOOD_BURST;
	if (!strcmp(at, "off"))
		f->rate = 0;
	else if (!parse_u32(&at, &f->rate) || !f->rate ||
		 (*at == ',' && (at++, !parse_u32(&at, &f->burst))) || *at ||
		 !f->burst || f->burst > CFG_FLOOD_BURST_MAX)
		return fail(p, "flood: '%s' must be NETWORK:RATE[,BURST] (rate "
			    "1 or more a second, burst 1-%d) or NETWORK:off", v,
			    CFG_FLOOD_BURST_MAX);
	if (!name_valid(f->network))
		return fail(p, "flood: network name '%s' must be 1-15 of "
			    "A-Z a-z 0-9 - _", f->network);
	c->nr_floods++;
	return 0;
}

void config_flood_limit(const struct uhv_config *c, const char *network,
		     u32 *rate, u32 *burst)
{
	*rate = CFG_FLOOD_RATE;
	*burst = CFG_FLOOD_BURST;
	for (int i = 0; i < c->nr_floods; i++)
		if (!strcmp(c->floods[i].network, network)) {
			*rate = c->floods[i].rate;
			*burst = c->floods[i].burst;
		}
}

/* metrics = PORT: Prometheus metrics over HTTP on uhv's uplink address. */
static int key_metrics(struct parser *p, const char *v)
{
	if (!parse_port(v, v + strlen(v), &p->cfg->metrics_port))
		return fail(p, "metrics: '%s' must be a TCP port 1-65535", v);
	p->cfg->metrics_line = p->line;
	return 0;
}

static int key_selftest(struct parser *p, const char *v)
{
	if (!strcmp(v, "none"))
		p->cfg->selftest = SELFTEST_NONE;
	else if (!strcmp(v, "exception"))
		p->cfg->selftest = SELFTEST_EXCEPTION;
	else if (!strcmp(v, "storage"))
		p->cfg->selftest = SELFTEST_STORAGE;
	else if (!strcmp(v, "storage-verify"))
		p->cfg->selftest = SELFTEST_STORAGE_VERIFY;
	else if (!strcmp(v, "nmi"))
		p->cfg->selftest = SELFTEST_NMI;
	else if (!strcmp(v, "net"))
		p->cfg->selftest = SELFTEST_NET;
	else
		return fail(p, "selftest: '%s' is not one of: none, exception, "
			    "storage, storage-verify, nmi, net", v);
	return 0;
}

struct cfg_key {
	const char *name;
	bool per_vm;            /* in a [vm] section, else global */
	int (*set)(struct parser *p, const char *value);
};

static const struct cfg_key cfg_keys[] = {
	{ "image", true, key_image },
	{ "initrd", true, key_initrd },
	{ "memory", true, key_memory },
	{ "cmdline", true, key_cmdline },
	{ "cpus", true, key_cpus },
	{ "disk", true, key_disk },
	{ "net", true, key_net },
	{ "agent", true, key_agent },
	{ "trusted", true, key_trusted },
	{ "trace", true, key_trace },
	{ "timeslice", false, key_timeslice },
	{ "selftest", false, key_selftest },
	{ "stats", false, key_stats },
	{ "host", false, key_host },
	{ "capture", false, key_capture },
	{ "dhcp", false, key_dhcp },
	{ "uplink", false, key_uplink },
	{ "bridged", false, key_bridged },
	{ "nat", false, key_nat },
	{ "outside", false, key_outside },
	{ "forward", false, key_forward },
	{ "flood", false, key_flood },
	{ "metrics", false, key_metrics },
	{ "control", false, key_control },
	{ "apicv", false, key_apicv },
	{ "mitigations", false, key_mitigations },
	{ "console", false, key_console },
	{ "images", false, key_images },
	{ "reserve", false, key_reserve },
};

static int parse_section(struct parser *p, char *s)
{
	size_t n = strlen(s);
	char *name;

	if (s[n - 1] != ']')
		return fail(p, "section header '%s' lacks its closing ']'", s);
	s[n - 1] = 0;
	if (strncmp(s + 1, "vm", 2) || !is_space(s[3]))
		return fail(p, "unknown section '%s]' (expected [vm NAME])", s);
	name = trim(s + 3);
	if (!name_valid(name))
		return fail(p, "VM name '%s' must be 1-15 characters of "
			    "A-Z a-z 0-9 - _", name);
	for (int i = 0; i < p->cfg->nr_vms; i++)
		if (!strcmp(p->cfg->vms[i].name, name))
			return fail(p, "VM name '%s' is used twice", name);
	if (p->cfg->nr_vms == CFG_MAX_VMS)
		return fail(p, "too many VMs (at most %s)", "8");
	p->vm = &p->cfg->vms[p->cfg->nr_vms++];
	str_copy(p->vm->name, name, sizeof(p->vm->name));
	p->vm->memory = CFG_MEM_DEFAULT;
	p->vm->cpus = 1;
	p->vm->line = p->line;
	return 0;
}

static int parse_assignment(struct parser *p, char *s)
{
	char *eq = s, *key, *value;

	while (*eq && *eq != '=')
		eq++;
	if (!*eq)
		return fail(p, "expected 'key = value' or '[vm NAME]', got '%s'", s);
	*eq = 0;
	key = trim(s);
	value = trim(eq + 1);
	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++) {
		if (strcmp(cfg_keys[i].name, key))
			continue;
		if (cfg_keys[i].per_vm != (p->vm != NULL))
			return fail(p, cfg_keys[i].per_vm ?
				    "key '%s' belongs in a [vm NAME] section" :
				    "key '%s' must come before the first [vm]", key);
		return cfg_keys[i].set(p, value);
	}
	return fail(p, "unknown key '%s'", key);
}

static int parse_line(struct parser *p, char *raw)
{
	char *s = raw, *hash;

	for (hash = s; *hash && *hash != '#'; hash++)
		;
	*hash = 0;
	s = trim(s);
	if (!*s)
		return 0;
	if (*s == '[')
		return parse_section(p, s);
	return parse_assignment(p, s);
}

/* Two VMs (or one, twice) writing the same image would corrupt it. */
static int check_disks(struct parser *p)
{
	const struct uhv_config *c = p->cfg;

	for (int i = 0; i < c->nr_vms; i++)
		for (int j = 0; j < c->vms[i].nr_disks; j++) {
			const struct disk_config *a = &c->vms[i].disks[j];

			for (int k = i; k < c->nr_vms; k++)
				for (int l = k == i ? j + 1 : 0; l < c->vms[k].nr_disks; l++) {
					const struct disk_config *b = &c->vms[k].disks[l];

					if (strcmp(a->image, b->image) ||
					    (a->read_only && b->read_only))
						continue;
					p->line = b->line;
					return fail(p, "disk '%s' is already given to "
						    "another VM or slot, and one of "
						    "them may write it", b->image);
				}
		}
	return 0;
}

/* A capture of a network nothing is on is most likely a typo; VMs made
   at run time (control = on) may still join it, so it stands then. */
static int check_capture(struct parser *p)
{
	const struct uhv_config *c = p->cfg;

	if (!c->capture_net[0] || c->control ||
	    !strcmp(c->capture_net, c->host_net))
		return 0;
	for (int i = 0; i < c->nr_vms; i++)
		for (int k = 0; k < c->vms[i].nr_nets; k++)
			if (!strcmp(c->vms[i].nets[k].network, c->capture_net))
				return 0;
	p->line = c->capture_line;
	return fail(p, "capture: no VM is on network '%s'", c->capture_net);
}

/* A DHCP pool serves uhv's host address: on its /24, without it. */
static int check_dhcp(struct parser *p)
{
	const struct uhv_config *c = p->cfg;
	u32 a = be32_get(c->dhcp_first), me = be32_get(c->host_ip);

	if (!c->dhcp_count)
		return 0;
	p->line = c->dhcp_line;
	if (!c->host_net[0])
		return fail(p, "dhcp: needs uhv's address on a network "
			    "(host = NETWORK:a.b.c.d)%s", "");
	if ((a >> 8) != (me >> 8) || (me >= a && me - a < c->dhcp_count))
		return fail(p, "dhcp: the pool must lie in the /24 of uhv's "
			    "address %u.%u.%u.%u, without it", c->host_ip[0],
			    c->host_ip[1], c->host_ip[2], c->host_ip[3]);
	return 0;
}

/* An uplink serves one network, bridged or NAT: neither is any use
   without it, nor it without one. */
static int check_uplink(struct parser *p)
{
	const struct uhv_config *c = p->cfg;

	if (c->bridged_net[0] && c->nat_net[0]) {
		p->line = c->nat_line;
		return fail(p, "nat: the uplink already serves bridged network "
			    "'%s'; it serves one network", c->bridged_net);
	}
	if ((c->bridged_net[0] || c->nat_net[0]) && !c->uplink[0]) {
		p->line = c->bridged_net[0] ? c->bridged_line : c->nat_line;
		return fail(p, "%s: network '%s' needs an uplink = NIC",
			    c->bridged_net[0] ? "bridged" : "nat",
			    c->bridged_net[0] ? c->bridged_net : c->nat_net);
	}
	if (c->uplink[0] && !c->bridged_net[0] && !c->nat_net[0]) {
		p->line = c->uplink_line;
		return fail(p, "uplink: no network uses %s (bridged = NETWORK "
			    "or nat = NETWORK)", c->uplink);
	}
	return 0;
}

/* A NAT network's gateway is uhv's own address on it (host = ), and its
   port forwards lead to addresses in that address's /24. */
static int check_nat(struct parser *p)
{
	const struct uhv_config *c = p->cfg;

	p->line = c->nat_line;
	if (c->nat_net[0] && strcmp(c->nat_net, c->host_net))
		return fail(p, "nat: network '%s' needs uhv's address on it, "
			    "its VMs' gateway (host = %s:a.b.c.d)", c->nat_net,
			    c->nat_net);
	p->line = c->outside_line;
	if (c->outside_line && !c->nat_net[0])
		return fail(p, "outside: needs a NAT network (nat = NETWORK)%s", "");
	if (c->outside_static && be32_get(c->outside_gw) &&
	    (be32_get(c->outside_gw) ^ be32_get(c->outside_ip)) &
	    be32_get(c->outside_mask))
		return fail(p, "outside: gateway %u.%u.%u.%u is not on the "
			    "uplink's subnet", c->outside_gw[0], c->outside_gw[1],
			    c->outside_gw[2], c->outside_gw[3]);
	p->line = c->metrics_line;
	if (c->metrics_port && !c->nat_net[0])
		return fail(p, "metrics: needs a NAT network (nat = NETWORK): it "
			    "is served on uhv's address there%s", "");
	p->line = c->forward_line;
	if (c->nr_forwards && !c->nat_net[0])
		return fail(p, "forward: needs a NAT network (nat = NETWORK)%s", "");
	for (int i = 0; i < c->nr_forwards; i++)
		if (be32_get(c->forwards[i].in_ip) >> 8 != be32_get(c->host_ip) >> 8)
			return fail(p, "forward: %u.%u.%u.%u is not in the /24 of "
				    "network %s", c->forwards[i].in_ip[0],
				    c->forwards[i].in_ip[1], c->forwards[i].in_ip[2],
				    c->forwards[i].in_ip[3], c->nat_net);
	return 0;
}

/* The console cannot share a port with the control channel (COM2) or
   the capture stream (COM3). */
static int check_console(struct parser *p)
{
	const struct uhv_config *c = p->cfg;

	p->line = c->console_line;
	if (c->control && c->console_port == 0x2f8)
		return fail(p, "console: COM2 carries the control channel "
			    "(control = on)%s", "");
	if (c->capture_net[0] && c->console_port == 0x3e8)
		return fail(p, "console: COM3 carries the capture stream "
			    "(capture = %s)", c->capture_net);
	return 0;
}

/* After the last line: every VM needs an image, and there must be a VM
   (unless the control channel may create them). */
static int check_complete(struct parser *p)
{
	p->line = 0;
	if (p->cfg->nr_vms == 0 && !p->cfg->control)
		return fail(p, "no [vm NAME] section: nothing to run (control = "
			    "on would let VMs be created at run time)%s", "");
	for (int i = 0; i < p->cfg->nr_vms; i++) {
		if (!p->cfg->vms[i].has_image) {
			p->line = p->cfg->vms[i].line;
			return fail(p, "VM '%s' has no image", p->cfg->vms[i].name);
		}
	}
	if (check_disks(p) || check_capture(p) || check_uplink(p) ||
	    check_nat(p) || check_dhcp(p))
		return -1;
	return check_console(p);
}

int config_parse(const char *text, size_t len, struct uhv_config *cfg,
		 struct cfg_error *err)
{
	struct parser p = { cfg, err, NULL, 0 };
	char line[LINE_MAX];
	size_t i = 0;

	memset(cfg, 0, sizeof(*cfg));
	memset(err, 0, sizeof(*err));
	cfg->timeslice = CFG_TIMESLICE_DEFAULT;
	while (i < len) {
		size_t n = 0;

		p.line++;
		for (; i < len && text[i] != '\n'; i++) {
			if (text[i] == 0)
				return fail(&p, "NUL byte in the file%s", "");
			if (n + 1 >= sizeof(line))
				return fail(&p, "line longer than %s characters", "399");
			line[n++] = text[i];
		}
		i++; /* the newline */
		line[n] = 0;
		if (parse_line(&p, line))
			return -1;
	}
	return check_complete(&p);
}

/* What to do about memory that does not fit: the machine needs more
   (tools/uhv-run gives an emulated one more with --mem MB). */
#define FIT_HINT "; give the machine more RAM (tools/uhv-run: --mem MB)"

int config_check_fit(const struct uhv_config *cfg, u64 avail,
		     struct cfg_error *err)
{
	u64 used = cfg->reserve;

	if (used > avail) {
		err->line = cfg->reserve_line;
		fmt_sn(err->msg, sizeof(err->msg), "reserve: %lluM does not fit: "
		       "%lluM free for guests" FIT_HINT,
		       (unsigned long long)(used >> 20),
		       (unsigned long long)(avail >> 20));
		return -1;
	}
	for (int i = 0; i < cfg->nr_vms; i++) {
		const struct vm_config *vm = &cfg->vms[i];

		used += vm->memory;
		if (used <= avail)
			continue;
		/* the memory line, or the [vm] line for the default size */
		err->line = vm->memory_line ? vm->memory_line : vm->line;
		fmt_sn(err->msg, sizeof(err->msg), "VM '%s': memory %lluM does "
		       "not fit: %lluM in all asked, %lluM free for guests"
		       FIT_HINT, vm->name,
		       (unsigned long long)(vm->memory >> 20),
		       (unsigned long long)(used >> 20),
		       (unsigned long long)(avail >> 20));
		return -1;
	}
	return 0;
}
