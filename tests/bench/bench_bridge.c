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
 *   gcc -std=c11 -O2 -I. tests/bench/bench_bridge.c vmm/bridge.c lib/fmt.c \
 *       -o bench_bridge
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
#include "vmm/bridge.h"

#define FRAMES     100000
#define SPRAYED    10000            /* frames with fresh sources */
#define MIN_LEN    64
#define MAX_LEN    ETH_FRAME_MAX
#define LEN_STEP   37               /* walks 64..1514 in an uneven order */
#define TYPE_IPV4  0x0800
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

static const struct bridge_port_ops nic_ops = { .deliver = deliver };

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
	u64 delivered, copied, forwarded_bytes, sprayed;
	int net, a, b;

	make_frames();
	if (bridge_init(&br, NULL, NULL, BENCH_HZ) ||
	    (net = bridge_net_add(&br, "bench")) < 0)
		return EXIT_FAILURE;
	a = bridge_attach(&br, net, &cfg);
	b = bridge_attach(&br, net, &cfg);
	if (a < 0 || b < 0)
		return EXIT_FAILURE;
	delivered = run_bridge(a, b);
	forwarded_bytes = rx_bytes;
	copied = run_memcpy();
	sprayed = run_spray(a);
	printf("bridge: %llu frames delivered, %llu bytes\n",
	       (unsigned long long)delivered,
	       (unsigned long long)forwarded_bytes);
	printf("memcpy: %d frames copied, %llu bytes\n", FRAMES,
	       (unsigned long long)copied);
	printf("spray: %llu frames delivered, %llu stations evicted\n",
	       (unsigned long long)sprayed,
	       (unsigned long long)bridge_net_stats(&br, net)->evicted);
	return delivered == FRAMES && copied == forwarded_bytes ? 0 :
	       EXIT_FAILURE;
}
