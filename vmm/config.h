/*
 * uhv.cfg: the configuration file on the ESP. Format (docs/interfaces.md):
 *
 *   # comment
 *   timeslice = 2000000        global keys come before the first section
 *   selftest = exception       (tests only: uhv faults on purpose)
 *   selftest = storage | storage-verify   (uhv's disk drivers, no VMX needed)
 *   selftest = nmi             (NMIs to uhv itself; guests run as usual)
 *   stats = 5                  print exits/s by reason every 5 s
 *   host = lan:10.0.0.254      uhv answers ARP and ping there
 *   capture = lan,snaplen=256  network lan's frames as pcap on COM3
 *   dhcp = 10.0.0.10-10.0.0.20 uhv's DHCP server on the host network
 *   uplink = e1000.0           one of uhv's NICs (listed at boot) ...
 *   bridged = lan              ... as a port of lan's switch, or
 *   nat = lan                  ... as lan's way out, behind uhv's address
 *   outside = dhcp | 192.168.1.5/24,gw=192.168.1.1,dns=192.168.1.1
 *                              uhv's address on the uplink (nat; default dhcp)
 *   forward = tcp:2222:10.0.0.10:22   up to 8: an uplink port to a NATed VM
 *   metrics = 9100             GET /metrics on uhv's uplink address (nat)
 *   flood = lan:500,64 | lan:off   broadcasts a NIC on lan may send a second,
 *                              and the burst (default 1000,256)
 *   control = on               the management protocol on COM2
 *   apicv = off                emulate every local-APIC access (default on:
 *                              the CPU's APIC virtualization where it has it)
 *   console = com2,115200      uhv's console: com1-com4 or 0xPORT, baud
 *                              (default: ACPI's SPCR table, else COM1)
 *   mitigations = off          no speculation hygiene for any VM (arch/x86/
 *                              spec.c; default on, as the CPU needs)
 *   images = images            files in \uhv\images\ for `create`
 *   reserve = 64M              RAM for VMs created at run time
 *   [vm NAME]                  one section per VM
 *   image   = hello.elf        required: Multiboot ELF or Linux bzImage
 *   initrd  = initrd.gz        optional, for a Linux image
 *   memory  = 16M              optional (default 16M)
 *   cmdline = any text         optional
 *   cpus    = 2                optional (default 1)
 *   disk    = d.img,ro,serial=S   optional, up to 2: virtio-blk disks
 *   net     = lan[,mac=02:...]    optional, up to 2: virtio-net NICs
 *   agent   = on               optional: a virtio-console port for a guest agent
 *   trusted = yes              optional: no speculation hygiene for this VM
 *   trace   = on | console     optional: a ring of its recent VM exits (and
 *                              each one printed on the console, paced)
 *
 * The parser is pure C: the UEFI loader runs it before boot services end,
 * and the host unit tests run it on hostile input.
 */
#ifndef UHV_VMM_CONFIG_H
#define UHV_VMM_CONFIG_H

#include "lib/types.h"
#include "lib/name.h"

#define CFG_MAX_VMS 8
#define CFG_NAME_MAX UHV_NAME_MAX   /* including the NUL (lib/name.h) */
#define CFG_DHCP_MAX 64             /* DHCP pool addresses (dhcp_server.h) */
#define CFG_MAX_FORWARDS 8          /* port forwards (NAT_MAX_FORWARDS) */
#define CFG_MAX_FLOODS 8            /* flood = settings (one a network) */
/* A NIC's flood limit by default (bridge.h: broadcast, multicast and
   unknown unicast frames a second, and the burst saved up): a Linux boot's
   ARP, DHCP and neighbour discovery and a burst of a few hundred
   broadcasts pass; a guest broadcasting in a loop is held to this. */
#define CFG_FLOOD_RATE  1000
#define CFG_FLOOD_BURST 256
#define CFG_FLOOD_BURST_MAX 65535   /* BRIDGE_MAX_BURST */
#define CFG_PROTO_TCP 6             /* IANA protocol numbers, as nat.h's */
#define CFG_PROTO_UDP 17
#define CFG_PATH_MAX 64
#define CFG_CMDLINE_MAX 256
#define CFG_MAX_CPUS 4          /* vCPUs per VM (VM_MAX_VCPUS) */
#define CFG_MEM_DEFAULT MiB(16)
#define CFG_MEM_MIN MiB(2)
#define CFG_MEM_MAX GiB(3)   /* guest RAM must stay below the 4 GiB hole */
#define CFG_TIMESLICE_DEFAULT 2000000ULL
#define CFG_TIMESLICE_MIN 10000ULL

#define CFG_MAX_DISKS 2
#define CFG_SERIAL_MAX 21       /* virtio-blk GET_ID: 20 bytes + NUL */

/* A disk: an image file on the ESP, loaded into memory (volatile). */
struct disk_config {
	char image[CFG_PATH_MAX];
	char serial[CFG_SERIAL_MAX];
	bool read_only;
	int line;
};

#define CFG_MAX_NICS 2

/* A port forward of a NAT network (forward = tcp:2222:10.0.2.15:22). */
struct forward_config {
	u8 proto;                   /* CFG_PROTO_TCP or CFG_PROTO_UDP */
	u16 out_port, in_port;
	u8 in_ip[4];
};

/* A network's flood limit (flood = lan:500,64; rate 0: none). */
struct flood_config {
	char network[CFG_NAME_MAX];
	u32 rate, burst;
};

/* A NIC on a named network of uhv's bridge. */
struct net_config {
	char network[CFG_NAME_MAX];
	u8 mac[6];
	bool has_mac;           /* else uhv makes one up from the VM's number */
	int line;
};

/* trace = off | on | console: a VM's exit trace (vmm/trace/exit_trace.h),
   kept in a ring for the protocol's trace command, and with console also
   printed on uhv's console (paced: vmm/vm_trace.c). */
enum cfg_trace { CFG_TRACE_OFF, CFG_TRACE_ON, CFG_TRACE_CONSOLE };

struct vm_config {
	char name[CFG_NAME_MAX];
	char image[CFG_PATH_MAX];
	char cmdline[CFG_CMDLINE_MAX];
	char initrd[CFG_PATH_MAX];   /* "" if none (Linux guests only) */
	int initrd_line;
	u64 memory;
	int cpus;               /* vCPUs, 1..CFG_MAX_CPUS */
	struct disk_config disks[CFG_MAX_DISKS];
	int nr_disks;
	struct net_config nets[CFG_MAX_NICS];
	int nr_nets;
	bool agent;             /* a guest agent channel (virtio-console) */
	int line;               /* line of its [vm] header, for messages */
	int image_line;         /* line of its image key */
	int memory_line;        /* line of its memory key, 0: the default */
	bool has_image;
	bool trusted;           /* trusted = yes: no speculation hygiene */
	enum cfg_trace trace;   /* trace = on | console; default off */
};

enum cfg_selftest {
	SELFTEST_NONE,
	SELFTEST_EXCEPTION,     /* uhv faults on purpose: shows the panic dump */
	SELFTEST_STORAGE,       /* write+flush+verify test disks, power off */
	SELFTEST_STORAGE_VERIFY,/* verify what an earlier boot wrote */
	SELFTEST_NMI,           /* NMIs to uhv in VMX root and during guests */
	SELFTEST_NET,           /* frames to and from a peer on each NIC, power off */
};

struct uhv_config {
	u64 timeslice;          /* guest TSC ticks per time slice */
	enum cfg_selftest selftest;
	u64 stats_seconds;      /* print exit rates this often; 0: never */
	char host_net[CFG_NAME_MAX];   /* uhv's own address: network ... */
	u8 host_ip[4];                 /* ... and IPv4 address ("" if none) */
	char capture_net[CFG_NAME_MAX];  /* network streamed on COM3, or "" */
	u8 dhcp_first[4];              /* uhv's DHCP pool on the host network */
	u32 dhcp_count;                /* ... of this many addresses; 0: none */
	int dhcp_line;
	char uplink[CFG_NAME_MAX];     /* uhv's NIC to the LAN ("e1000.0"), or "" */
	int uplink_line;
	char bridged_net[CFG_NAME_MAX];  /* network with the uplink as a port */
	int bridged_line;
	char nat_net[CFG_NAME_MAX];    /* network routed and translated to the
					  uplink (nat = NETWORK), or "" */
	int nat_line;
	bool outside_static;           /* outside = IP/N,...; else DHCP */
	int outside_line;
	u8 outside_ip[4], outside_mask[4], outside_gw[4], outside_dns[4];
	struct flood_config floods[CFG_MAX_FLOODS];
	int nr_floods;
	struct forward_config forwards[CFG_MAX_FORWARDS];
	int nr_forwards;
	int forward_line;
	u16 metrics_port;              /* GET /metrics there (nat); 0: off */
	int metrics_line;
	u32 capture_snaplen;           /* bytes kept of each frame */
	int capture_line;
	bool control;           /* serve docs/protocol.md on COM2 */
	bool apicv_off;         /* apicv = off: no APIC virtualization */
	bool mitigations_off;   /* mitigations = off: every VM trusted */
	u16 console_port;       /* console = PORT: its I/O base, 0: not set */
	u32 console_baud;       /* its baud rate */
	int console_line;
	char images[CFG_PATH_MAX];     /* folder of images for create, or "" */
	u64 reserve;            /* bytes of RAM for VMs created at run time */
	int reserve_line;       /* line of the reserve key, 0: none */
	int nr_vms;
	struct vm_config vms[CFG_MAX_VMS];
};

struct cfg_error {
	int line;               /* 0: about the file as a whole */
	char msg[160];
};

/*
 * Parses len bytes of text (need not be NUL-terminated). Returns 0 and fills
 * cfg, or -1 and fills err with the line and a message naming the problem.
 */
int config_parse(const char *text, size_t len, struct uhv_config *cfg,
		 struct cfg_error *err);

/*
 * Checks that the VMs' memory fits in avail bytes (what the machine has
 * free for guests). Returns 0, or -1 with err naming the first VM that
 * does not fit, at its memory line (its [vm] line if it has the default
 * size), and saying that the machine needs more RAM.
 */
int config_check_fit(const struct uhv_config *cfg, u64 avail,
		     struct cfg_error *err);

/* The flood limit of network's NICs (its flood = line, else the default
   CFG_FLOOD_RATE, CFG_FLOOD_BURST); rate 0: none. */
void config_flood_limit(const struct uhv_config *cfg, const char *network,
			u32 *rate, u32 *burst);

/* Parses "16M", "512K", "1G", "4096": bytes, or 0 on junk or overflow. */
u64 config_parse_size(const char *s);

#endif
