/*
 * uhv's own network interfaces: NICs it drives itself (an uplink for
 * bridged and NAT networks). One small interface for every driver,
 * polled (uhv takes no interrupts): frames are whole Ethernet frames
 * without FCS, copied into and out of the driver's own ring buffers, so
 * callers' buffers may be anywhere.
 */
#ifndef UHV_DRIVERS_NETDEV_H
#define UHV_DRIVERS_NETDEV_H

#include "lib/types.h"

#define NETDEV_MAX       4
#define NETDEV_ALEN      6         /* octets in a MAC address */
#define NETDEV_FRAME_MIN 14        /* an Ethernet header */
#define NETDEV_FRAME_MAX 1514      /* without FCS and VLAN tag */

struct netdev_stats {
	u64 tx_frames, tx_bytes;   /* handed to the NIC */
	u64 tx_ring_full;          /* refused: no free transmit descriptor */
	u64 rx_frames, rx_bytes;   /* taken from the NIC */
	u64 rx_errors;             /* the NIC flagged them: dropped */
	u64 rx_too_long;           /* longer than the caller's buffer */
};

struct netdev {
	char name[16];             /* "e1000.0": driver and index */
	const char *model;         /* "82540EM" */
	u8 mac[NETDEV_ALEN];       /* from the NIC's EEPROM */
	/* The PHY reports a link. */
	bool (*link_up)(struct netdev *d);
	/* Queues frame (NETDEV_FRAME_MIN..NETDEV_FRAME_MAX bytes) to be
	   sent; false if the transmit ring is full or len is out of range.
	   Never blocks. */
	bool (*send)(struct netdev *d, const void *frame, u32 len);
	/* Copies the next received frame into buf (size bytes) and returns
	   its length, or 0 if none has come. A frame with errors, or longer
	   than size, is dropped and counted; 0 then too. */
	u32 (*recv)(struct netdev *d, void *buf, u32 size);
	/* From now on takes frames for every address, not only its own
	   and broadcast: a bridge's port to a LAN (802.1D-2004 §7.5). */
	void (*promisc)(struct netdev *d);
	void *priv;
	struct netdev_stats stats;
};

/* Finds the NICs uhv has drivers for and brings them up; returns how
   many were put in devs (at most max). alloc_page gives zeroed,
   identity-mapped pages (rings and buffers). */
int netdev_probe(struct netdev *devs, int max, u64 (*alloc_page)(void));

/* Intel's 82540EM ("e1000.N": QEMU's and Bochs's e1000) and 82574L
   ("e1000e.N": QEMU's e1000e), polled (e1000.c). Each NIC takes 34
   pages. */
int e1000_probe(struct netdev *devs, int max, u64 (*alloc_page)(void));

/* virtio-net devices over virtio-pci's modern interface ("virtio-net.N":
   uhv under QEMU/KVM or in a cloud VM), polled (virtio_nic.c). Each NIC
   takes 34 pages. */
int virtio_nic_probe(struct netdev *devs, int max, u64 (*alloc_page)(void));

/* The network self-test (net_test.c) against tests/net/echo-peer.py:
   0 if every NIC passed; tsc_hz turns round trips into microseconds. */
int net_selftest(u64 (*alloc_page)(void), u64 tsc_hz);

#endif
