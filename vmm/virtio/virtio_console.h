/*
 * A virtio console device (virtio 1.2 §5.3) with one port and no
 * optional feature: a byte pipe between uhv and the guest, which uhv
 * uses as the guest agent's channel (agent.h).
 *
 *   receiveq  (queue 0)  device -> driver: uhv's bytes for the guest
 *   transmitq (queue 1)  driver -> device: the guest's bytes for uhv
 *
 * Why no VIRTIO_CONSOLE_F_MULTIPORT: with it, a named port
 * (/dev/vport0p1) needs the control queues and their message protocol
 * (§5.3.6.2: DEVICE_READY, PORT_ADD, PORT_READY, PORT_NAME, PORT_OPEN),
 * four queues and twice the state for a hostile driver to drive. Without
 * it, Linux's stock virtio_console makes its one port a console,
 * /dev/hvc0, which a program puts in raw mode with termios: all the
 * agent needs. Nothing else in the guest uses hvc0 unless its kernel
 * command line says console=hvc0.
 *
 * Bytes for the guest wait in a bounded FIFO (VIRTIO_CONSOLE_OUT_MAX)
 * until the driver posts receive buffers; virtio_console_write takes a
 * message whole or not at all. Bytes from the guest go to the backend as
 * the driver makes them available, in pieces as the buffers split them.
 * A chain in the wrong direction makes the device need a reset (§2.1.2),
 * as malformed requests do on virtio-blk and virtio-net.
 */
#ifndef UHV_VMM_VIRTIO_CONSOLE_H
#define UHV_VMM_VIRTIO_CONSOLE_H

#include "vmm/virtio/virtio.h"
#include "lib/bytering.h"

#define VIRTIO_ID_CONSOLE           3          /* §5.3.1 */
#define VIRTIO_CONSOLE_RXQ          0          /* receiveq(port0) (§5.3.2) */
#define VIRTIO_CONSOLE_TXQ          1          /* transmitq(port0) */
#define VIRTIO_CONSOLE_NUM_QUEUES   2
#define VIRTIO_CONSOLE_QUEUE_SIZE   64
#define VIRTIO_CONSOLE_OUT_MAX      4096       /* bytes waiting for the guest */

/* Feature bits (§5.3.3), none offered. */
#define VIRTIO_CONSOLE_F_SIZE       0
#define VIRTIO_CONSOLE_F_MULTIPORT  1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/*
 * struct virtio_console_config (§5.3.4), offered all zero: its fields
 * are valid only with the features above.
 *
 *   0  le16 cols    2  le16 rows    4  le32 max_nr_ports    8  le32 emerg_wr
 */
#define VIRTIO_CONSOLE_CFG_SIZE     12

/* Where the guest's bytes go. */
struct console_backend_ops {
	/* len (> 0) bytes the guest wrote, in order; data is valid for the
	   call only (it may be guest RAM). Must not block. */
	void (*receive)(void *ctx, const u8 *data, u32 len);
};

struct virtio_console_stats {
	u64 tx_bytes;             /* guest -> uhv, handed to the backend */
	u64 rx_bytes;             /* uhv -> guest, written into its buffers */
	u64 write_refused;        /* virtio_console_write calls with no room */
	u64 bad_chains;           /* chains in the wrong direction */
};

struct virtio_console {
	struct virtio_device_ops ops;      /* for virtio_pci_init */
	const struct console_backend_ops *be;
	void *be_ctx;
	struct virtio_pci *vp;             /* set by virtio_console_attach */
	u8 config[VIRTIO_CONSOLE_CFG_SIZE];
	u8 out_buf[VIRTIO_CONSOLE_OUT_MAX];
	struct bytering out;               /* bytes for the guest, in out_buf */
	struct virtq_chain tx_chain, rx_chain;
	struct virtio_console_stats stats;
};

/*
 * Makes c a console device whose guest bytes go to be (with its
 * context). Returns 0, or -1 if be lacks receive. Then:
 *   virtio_pci_init(&vp, &c->ops, c, &vm_ops, vm, &vm_mem);
 *   virtio_console_attach(c, &vp);
 */
int virtio_console_init(struct virtio_console *c,
			const struct console_backend_ops *be, void *be_ctx);

/* Tells c the transport it sits on: bytes for the guest are written when
   uhv has them, not when the driver notifies, so c must find receiveq. */
void virtio_console_attach(struct virtio_console *c, struct virtio_pci *vp);

/*
 * Queues len bytes for the guest and moves what it can into the posted
 * receive buffers now (the rest when the driver posts more). Whole or
 * nothing: -1 (and counted) if the FIFO lacks room for all len bytes,
 * else 0. Bytes queued before a device reset are dropped by it.
 */
int virtio_console_write(struct virtio_console *c, const u8 *data, u32 len);

/* Bytes queued for the guest and not yet in its buffers. */
u32 virtio_console_pending(const struct virtio_console *c);

#endif
