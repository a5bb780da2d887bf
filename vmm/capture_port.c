/*
 * Capture on COM3 (capture.h): the bridge's hook puts records in the
 * ring, the run loop's poller moves them into the UART. One instance:
 * uhv captures one network. Nothing here ever waits for the UART while
 * guests run; a ring that fills drops whole frames and counts them.
 */
#include "vmm/net/capture.h"
#include "vmm/vmm.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "lib/string.h"
#include "vmm/capture_port.h"

static struct capture_port {
	bool on;
	int net;                     /* the bridge network captured */
	char name[CFG_NAME_MAX];
	struct serial_port port;
	u64 fast, slow;              /* poll periods in TSC ticks */
	struct capture_ring ring;
} cap;   /* zero (off) until capture_port_init; in .bss, not in the
	   image: the ring is 256 KiB */

/*
 * Finds (or makes, for VMs that come later) the network, opens COM3 and
 * queues the pcap file header, which goes out first.
 */
void capture_port_init(struct uhv *h, const struct uhv_config *c)
{
	struct capture_clock clock = { h->boot_epoch, h->boot_tsc, h->tsc_hz };
	int net;

	if (!c->capture_net[0])
		return;
	net = bridge_net_find(&h->bridge, c->capture_net);
	if (net < 0)
		net = bridge_net_add(&h->bridge, c->capture_net);
	if (net < 0 || capture_ring_init(&cap.ring, c->capture_snaplen, &clock)) {
		printk("uhv: capture: cannot capture network %s\n", c->capture_net);
		return;
	}
	if (!serial_port_init(&cap.port, SERIAL_COM3)) {
		printk("uhv: capture: no UART at COM3 (0x%x): network %s is not "
		       "captured\n", SERIAL_COM3, c->capture_net);
		return;
	}
	cap.fast = MAX(h->tsc_hz / PCAP_USEC_PER_SEC * CAPTURE_FAST_POLL_US, 1ULL);
	cap.slow = MAX(h->tsc_hz / PCAP_USEC_PER_SEC * CAPTURE_SLOW_POLL_US, 1ULL);
	cap.net = net;
	str_copy(cap.name, c->capture_net, sizeof(cap.name));
	cap.on = true;
	printk("uhv: capture: network %s as pcap on COM3, snaplen %u, "
	       "%u KiB ring\n", cap.name, c->capture_snaplen,
	       CAPTURE_RING_BYTES / 1024);
}

/* The bridge calls this for every accepted frame of every network, with
   checksums finished (bridge.h); only ours is kept. */
void capture_port_frame(void *ctx, int network, const u8 *frame, u32 len, u64 now)
{
	(void)ctx;
	if (cap.on && network == cap.net)
		capture_ring_add(&cap.ring, frame, len, now);
}

/* Busy: back as soon as the FIFO can have emptied (16 bytes at 115200
   baud take 1.4 ms); idle: a new frame waits at most the slow period. */
u64 capture_port_poll(u64 now)
{
	if (!cap.on)
		return ~0ULL;
	serial_port_send(&cap.port, &cap.ring.q);
	return now + (capture_ring_used(&cap.ring) ? cap.fast : cap.slow);
}

void capture_port_flush(void)
{
	if (!cap.on)
		return;
	while (capture_ring_used(&cap.ring))
		serial_port_send(&cap.port, &cap.ring.q);
	serial_port_drain(&cap.port);
}

const struct capture_ring *capture_port_stats(const char **network)
{
	if (!cap.on)
		return NULL;
	*network = cap.name;
	return &cap.ring;
}
