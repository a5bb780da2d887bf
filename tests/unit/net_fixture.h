/*
 * The virtio-net test fixture (test_virtio_net.c), shared with
 * test_virtio_net_ctrl.c: a device on the test driver's transport with
 * receiveq on the driver's rings (VD_*), transmitq at TX_* and controlq
 * at CTRL_*, a backend that records what it was sent, and a log.
 */
#ifndef UHV_TESTS_NET_FIXTURE_H
#define UHV_TESTS_NET_FIXTURE_H

#include <check.h>
#include "virtio_driver.h"
#include "vmm/virtio/virtio_net.h"

#define ALL        (~0ULL)
/* no EVENT_IDX, and one buffer a frame (no MRG_RXBUF) */
#define PLAIN      (ALL & ~BIT(VIRTIO_F_RING_EVENT_IDX) & \
		    ~BIT(VIRTIO_NET_F_MRG_RXBUF))
#define QSIZE      16
#define TX_DESC    0x8000ULL
#define TX_AVAIL   0x9000ULL
#define TX_USED    0xa000ULL
#define TX_HDRS    0x12000ULL       /* one 12-byte header per descriptor */
#define CTRL_DESC  0xb000ULL        /* controlq's rings */
#define CTRL_AVAIL 0xc000ULL
#define CTRL_USED  0xd000ULL
#define CTRL_DATA  0x14000ULL       /* a command, then its ack byte */
#define TX_DATA    0x40000ULL       /* 2 KiB per frame */
#define RX_DATA    VD_DATA          /* 2 KiB per receive buffer */
#define SLOT_BYTES 2048
#define RX_BUF     1526             /* §5.1.6.3.1 without MRG_RXBUF */
#define MAX_SENT   8
#define LOG_KEEP   160
#define ACK_AT     0x800            /* controlq: the ack byte, after the command */
#define NO_ACK     0xee             /* what the ack byte holds before */


/* The backend: a record of what the device sent. */
struct net_sent {
	unsigned n;
	u32 len[MAX_SENT];
	u8 frame[MAX_SENT][BRIDGE_FRAME_MAX];
	bool has_csum[MAX_SENT];
	struct bridge_csum csum[MAX_SENT];
	int ret;
};

extern const u8 mac[ETH_ALEN];
extern u8 *ram;
extern struct virtio_net net;
extern struct virtio_pci vp;
extern struct vdrv d;
extern u16 tx_avail_idx, ctrl_avail_idx;
extern struct net_sent sent;
extern char logged[LOG_KEEP];

u8 dev_status(void);
/* Negotiates want, sets up the three queues, DRIVER_OK; the status. */
u8 drive(u64 want);
/* A fresh device driven with want; start_ops: with the VM's ops. */
void start(u64 want);
void start_ops(u64 want, const struct virtio_pci_ops *ops);
/* The fixture's VM side keeps the last log line in logged. */
void vm_log(void *ctx, const char *msg);
void setup(void);
void teardown(void);
/* A frame of len bytes to the guest's own MAC, its bytes a pattern. */
void make_frame(u8 *f, u32 len, u8 seed);
/* Queues frame f (zero header) for transmit at descriptor first. */
void tx_post(u16 first, const u8 *f, u32 len, bool split);
u16 tx_used_idx(void);
void tx_used_elem(u16 i, u32 *id, u32 *len);
/* Posts a receive buffer of len bytes at descriptor i (one segment). */
void rx_post(u16 i, u32 len);
u64 cfg(u32 off, unsigned size);
/* Sends one control command; the ack byte the device wrote (NO_ACK: none). */
u8 net_ctrl(u8 cls, u8 op, const void *data, u32 len);

#endif
