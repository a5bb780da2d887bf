/*
 * The bridge's cost per forwarded frame, in host instructions: 100,000
 * frames of 64..1514 bytes go back and forth between two ports of one
 * network, each delivered by a deliver() that copies it into a receive
 * buffer, as virtio-net copies into a guest's RX buffer. The same frames
 * are then copied with plain memcpy, without the bridge. The difference
 * is what the bridge adds to the copy a frame costs anyway. A third run
 * measures the worst case: a guest spraying fresh source addresses into
 * a full MAC table, so that every frame evicts the oldest entry.
 *
 * Two runs carry a checksum left unfinished (virtio 1.2 §5.1.6.2: the
 * sender's VIRTIO_NET_F_CSUM, csum_start/csum_offset of a TCP/IPv4
 * frame): run_csum to ports with receive(), as virtio-net NICs whose
 * guests took GUEST_CSUM, to which the bridge passes it on; run_finish
 * to ports with deliver() only, for which the bridge finishes it in
 * software (a copy and the RFC 1071 sum, once per frame).
 *
 *   gcc -std=c11 -O2 -I. tests/bench/bench_bridge.c vmm/net/bridge.c \
 *       vmm/net/inet_csum.c lib/fmt.c -o bench_bridge
 *   valgrind --tool=callgrind --toggle-collect='run_*' ./bench_bridge
 *   callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep run_
 *
 * Each run_* function is counted inclusively: divide by its frames
 * (FRAMES, or BRIDGE_FDB_SIZE + SPRAYED). The program prints the frame
 * and byte totals, so the runs can be seen to do the same work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/net/bridge.h"

#define FRAMES     100000
#define SPRAYED    10000            /* frames with fresh sources */
#define MIN_LEN    64
#define MAX_LEN    ETH_FRAME_MAX
#define LEN_STEP   37               /* walks 64..1514 in an uneven order */
#define TYPE_IPV4  0x0800
#define CSUM_START (ETH_HLEN + 20)  /* TCP after an IPv4 header, no options */
#define CSUM_OFF   16               /* the TCP header's checksum field */
#define BENCH_HZ   1000000000ULL    /* a 1 GHz clock, as a TSC would give */

static u8 frames[2][BRIDGE_FRAME_MAX];   /* A -> B and B -> A */
static u8 rx_buf[BRIDGE_FRAME_MAX];
static u64 rx_bytes;
static struct bridge br;

static bool deliver(void *ctx, const u8 *frame, u32 len)
{
	(void)ctx;
	memcpy(rx_buf, frame, len);
	rx_bytes += len;
	return true;
}

/* As virtio-net's receive with GUEST_CSUM: the frame as it is, the
   checksum request passed on (here: kept) for the guest to finish. */
static enum bridge_rx receive(void *ctx, const u8 *frame, u32 len,
			      const struct bridge_csum *csum)
{
	static struct bridge_csum passed;

	(void)ctx;
	memcpy(rx_buf, frame, len);
	if (csum)
		passed = *csum;
	__asm__ volatile("" : : "r"(&passed) : "memory");  /* keep it */
	rx_bytes += len;
	return BRIDGE_RX_OK;
}

static const struct bridge_port_ops nic_ops = { .deliver = deliver };
static const struct bridge_port_ops csum_ops = {
	.deliver = deliver, .receive = receive,
};
static const struct bridge_csum tcp_csum = { CSUM_START, CSUM_OFF };

static u32 frame_len(u32 i)
{
	return MIN_LEN + (i * LEN_STEP) % (MAX_LEN - MIN_LEN + 1);
}

/* Two stations, 52:54:00:00:00:01 and :02, each sending to the other. */
static void make_frames(void)
{
	static const u8 station[2][ETH_ALEN] = {
		{ 0x52, 0x54, 0, 0, 0, 1 }, { 0x52, 0x54, 0, 0, 0, 2 },
	};

	for (int f = 0; f < 2; f++) {
		u8 *p = frames[f];

		memset(p, 0x5a, BRIDGE_FRAME_MAX);
		memcpy(p, station[1 - f], ETH_ALEN);
		memcpy(p + ETH_ALEN, station[f], ETH_ALEN);
		p[12] = TYPE_IPV4 >> 8;
		p[13] = TYPE_IPV4 & 0xff;
	}
}

__attribute__((noinline)) static u64 run_bridge(int a, int b)
{
	u64 delivered = 0;

	for (u32 i = 0; i < FRAMES; i++) {
		int from = i & 1 ? b : a;

		delivered += (u64)bridge_send(&br, from, frames[i & 1],
					      frame_len(i), i);
	}
	return delivered;
}

/* The frames of run_bridge with their checksum left unfinished. */
__attribute__((noinline)) static u64 send_csum(int a, int b)
{
	u64 delivered = 0;

	for (u32 i = 0; i < FRAMES; i++) {
		int from = i & 1 ? b : a;

		delivered += (u64)bridge_send_csum(&br, from, frames[i & 1],
						   frame_len(i), &tcp_csum, i);
	}
	return delivered;
}

/* To receive() ports: the checksum request is passed on. (noipa: gcc
   would fold the two identical wrappers into one, and callgrind would
   count both runs as one.) */
__attribute__((noinline, noipa)) static u64 run_csum(int a, int b)
{
	return send_csum(a, b);
}

/* To deliver() ports: the bridge finishes each checksum itself. */
__attribute__((noinline, noipa)) static u64 run_finish(int a, int b)
{
	return send_csum(a, b);
}

__attribute__((noinline)) static u64 run_memcpy(void)
{
	u64 copied = 0;

	for (u32 i = 0; i < FRAMES; i++) {
		u32 len = frame_len(i);

		memcpy(rx_buf, frames[i & 1], len);
		__asm__ volatile("" : : "r"(rx_buf) : "memory");  /* keep it */
		copied += len;
	}
	return copied;
}

/* Fresh sources 06:00:00:HI:MID:LO from port a, to b's station: after
   the first BRIDGE_FDB_SIZE, each one evicts the oldest entry. */
__attribute__((noinline)) static u64 run_spray(int a)
{
	u64 delivered = 0;
	u8 *p = frames[0];

	for (u32 i = 0; i < BRIDGE_FDB_SIZE + SPRAYED; i++) {
		p[ETH_ALEN] = 0x06;
		p[ETH_ALEN + 3] = (u8)(i >> 16);
		p[ETH_ALEN + 4] = (u8)(i >> 8);
		p[ETH_ALEN + 5] = (u8)i;
		delivered += (u64)bridge_send(&br, a, p, MIN_LEN, FRAMES + i);
	}
	return delivered;
}

int main(void)
{
	struct bridge_port_config cfg = { .ops = &nic_ops };
	struct bridge_port_config csum_cfg = { .ops = &csum_ops };
	u64 delivered, copied, forwarded_bytes, sprayed, passed, finished;
	int net, a, b, net_csum, c, d;

	make_frames();
	if (bridge_init(&br, NULL, NULL, BENCH_HZ) ||
	    (net = bridge_net_add(&br, "bench")) < 0 ||
	    (net_csum = bridge_net_add(&br, "csum")) < 0)
		return EXIT_FAILURE;
	a = bridge_attach(&br, net, &cfg);
	b = bridge_attach(&br, net, &cfg);
	c = bridge_attach(&br, net_csum, &csum_cfg);
	d = bridge_attach(&br, net_csum, &csum_cfg);
	if (a < 0 || b < 0 || c < 0 || d < 0)
		return EXIT_FAILURE;
	delivered = run_bridge(a, b);
	forwarded_bytes = rx_bytes;
	copied = run_memcpy();
	passed = run_csum(c, d);
	finished = run_finish(a, b);
	sprayed = run_spray(a);
	printf("bridge: %llu frames delivered, %llu bytes\n",
	       (unsigned long long)delivered,
	       (unsigned long long)forwarded_bytes);
	printf("memcpy: %d frames copied, %llu bytes\n", FRAMES,
	       (unsigned long long)copied);
	printf("csum: %llu frames delivered, the checksum passed on\n",
	       (unsigned long long)passed);
	printf("finish: %llu frames delivered, %llu checksums finished\n",
	       (unsigned long long)finished,
	       (unsigned long long)(bridge_port_stats(&br, a)->csum_completed +
				    bridge_port_stats(&br, b)->csum_completed));
	printf("spray: %llu frames delivered, %llu stations evicted\n",
	       (unsigned long long)sprayed,
	       (unsigned long long)bridge_net_stats(&br, net)->evicted);
	return delivered == FRAMES && copied == forwarded_bytes &&
	       passed == FRAMES && finished == FRAMES ? 0 : EXIT_FAILURE;
}
