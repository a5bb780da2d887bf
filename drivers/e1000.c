/*
 * Polled driver for the Intel 82540EM Gigabit Ethernet controller
 * ("e1000", what QEMU's -device e1000 and Bochs's e1000 emulate), from
 * the PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual (Intel 317453): §13 registers, §3.2 receive and
 * §3.3 transmit descriptors (the legacy layouts), §14 initialization.
 * The same code drives the 82574L ("e1000e", QEMU q35's default NIC,
 * 82574 datasheet, Intel 317694), which keeps the registers and legacy
 * descriptors used here; only its EEPROM Read register differs (§10.2.2.5
 * there), so each model has a row in `models`.
 *
 * uhv takes no interrupts: they stay masked (IMC), and the run loop
 * polls the rings. Each ring has RING_SIZE descriptors with a 2 KiB
 * buffer each; frames are copied in and out, so callers' buffers may
 * be anywhere. A full transmit ring refuses the frame (the caller counts
 * it); a received frame with errors is dropped and counted.
 *
 * Memory per NIC, from the caller's page allocator (physical = virtual):
 * a page for each ring's descriptors and 16 pages of buffers for each.
 */
#include "drivers/mmio.h"
#include "drivers/netdev.h"
#include "drivers/pci.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define PCI_CLASS_ETHERNET  0x020000u   /* network, Ethernet */
#define PCI_VENDOR_INTEL    0x8086u
#define PCI_DEVICE_82540EM  0x100eu
#define PCI_DEVICE_82574L   0x10d3u
#define PCI_DEVICE_SHIFT    16          /* in the vendor ID dword */
#define E1000_BAR           0           /* memory-mapped registers */
#define E1000_MAX_NICS      NETDEV_MAX

/* Registers (§13.4, Table 13-2). */
#define REG_CTRL    0x0000
#define REG_STATUS  0x0008
#define REG_EERD    0x0014
#define REG_IMC     0x00d8
#define REG_RCTL    0x0100
#define REG_TCTL    0x0400
#define REG_TIPG    0x0410
#define REG_RDBAL   0x2800
#define REG_RDBAH   0x2804
#define REG_RDLEN   0x2808
#define REG_RDH     0x2810
#define REG_RDT     0x2818
#define REG_TDBAL   0x3800
#define REG_TDBAH   0x3804
#define REG_TDLEN   0x3808
#define REG_TDH     0x3810
#define REG_TDT     0x3818
#define REG_MTA     0x5200              /* 128 dwords */
#define MTA_DWORDS  128
#define REG_RAL0    0x5400
#define REG_RAH0    0x5404

#define CTRL_ASDE   BIT(5)              /* auto-speed detection */
#define CTRL_SLU    BIT(6)              /* set link up */
#define CTRL_RST    BIT(26)             /* device reset, self-clearing */
#define STATUS_LU   BIT(1)              /* link up */
/* EEPROM Read (§13.4.4): start, done, word address, data 31:16; the
   82540EM has done in bit 4 and the address in 15:8, the 82574L done in
   bit 1 and the address in 15:2. */
#define EERD_START  BIT(0)
#define EERD_DATA_SHIFT 16
#define EEPROM_MAC_WORDS 3              /* words 0-2: the MAC (§5.6.1) */
#define RAH_AV      BIT(31)             /* the address is valid */
#define RCTL_EN     BIT(1)
#define RCTL_UPE    BIT(3)              /* unicast promiscuous */
#define RCTL_MPE    BIT(4)              /* multicast promiscuous */
#define RCTL_BAM    BIT(15)             /* accept broadcast */
#define RCTL_SECRC  BIT(26)             /* strip the FCS */
/* BSIZE 00 with BSEX 0: 2048-byte buffers (§13.4.22). */
#define TCTL_EN     BIT(1)
#define TCTL_PSP    BIT(3)              /* pad short packets */
#define TCTL_CT(n)  ((u32)(n) << 4)     /* collision threshold */
#define TCTL_COLD(n) ((u32)(n) << 12)   /* collision distance */
#define TCTL_CT_DEFAULT   0x0f          /* §13.4.33: recommended */
#define TCTL_COLD_FULL    0x40          /* full duplex */
/* TIPG for the 82540EM's copper PHY (§13.4.34): IPGT 10, IPGR1 8, IPGR2 6. */
#define TIPG_COPPER (10u | 8u << 10 | 6u << 20)

/* Legacy descriptors, 16 bytes (§3.2.3, §3.3.3): byte offsets. */
#define DESC_SIZE      16
#define DESC_ADDR      0                /* 64-bit buffer address */
#define DESC_LENGTH    8                /* 16 bits */
#define TXD_CMD        11
#define DESC_STATUS    12
#define RXD_ERRORS     13
#define DESC_DD        BIT(0)           /* status: descriptor done */
#define RXD_EOP        BIT(1)           /* status: end of packet */
#define TXD_CMD_EOP    BIT(0)
#define TXD_CMD_IFCS   BIT(1)           /* insert the FCS */
#define TXD_CMD_RS     BIT(3)           /* report status (DD) */

#define RING_SIZE      32               /* RDLEN/TDLEN: multiples of 128 B */
#define BUF_SIZE       2048
#define BUFS_PER_PAGE  (PAGE_SIZE / BUF_SIZE)
#define RESET_MS       10               /* §14.3: wait after CTRL.RST */
#define EEPROM_MS      10

/* What differs between the models this driver takes. */
struct e1000_model {
	u16 device;                      /* PCI device ID (vendor Intel) */
	const char *driver, *name;       /* netdev name prefix, model */
	u32 eerd_done, eerd_addr_shift;
};

static const struct e1000_model models[] = {
	{ PCI_DEVICE_82540EM, "e1000", "82540EM", BIT(4), 8 },
	{ PCI_DEVICE_82574L, "e1000e", "82574L", BIT(1), 2 },
};

struct e1000 {
	volatile u8 *regs;
	const struct e1000_model *model;
	u8 *rx_ring, *tx_ring;           /* RING_SIZE descriptors each */
	u8 *rx_buf[RING_SIZE], *tx_buf[RING_SIZE];
	u32 rx_next;                     /* the next descriptor to look at */
	u32 tx_tail, tx_clean;           /* next to fill; oldest not done */
};

static struct e1000 e1000_nics[E1000_MAX_NICS];
static int e1000_count;

static u8 *desc(u8 *ring, u32 i)
{
	return ring + i * DESC_SIZE;
}

static bool e1000_link_up(struct netdev *d)
{
	struct e1000 *e = d->priv;

	return mmio_read32(e->regs, REG_STATUS) & STATUS_LU;
}

static void e1000_promisc(struct netdev *d)
{
	struct e1000 *e = d->priv;

	mmio_write32(e->regs, REG_RCTL,
		     mmio_read32(e->regs, REG_RCTL) | RCTL_UPE | RCTL_MPE);
}

/* Takes back the transmit descriptors the NIC is done with (DD). */
static void tx_reclaim(struct e1000 *e)
{
	while (e->tx_clean != e->tx_tail &&
	       (desc(e->tx_ring, e->tx_clean)[DESC_STATUS] & DESC_DD))
		e->tx_clean = (e->tx_clean + 1) % RING_SIZE;
}

static bool e1000_send(struct netdev *d, const void *frame, u32 len)
{
	struct e1000 *e = d->priv;
	u32 next = (e->tx_tail + 1) % RING_SIZE;
	u8 *t;

	if (len < NETDEV_FRAME_MIN || len > NETDEV_FRAME_MAX)
		return false;
	tx_reclaim(e);
	if (next == e->tx_clean) {       /* one slot stays empty: full */
		d->stats.tx_ring_full++;
		return false;
	}
	t = desc(e->tx_ring, e->tx_tail);
	memcpy(e->tx_buf[e->tx_tail], frame, len);
	le_put(t + DESC_LENGTH, len, 2);
	t[TXD_CMD] = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
	t[DESC_STATUS] = 0;
	e->tx_tail = next;
	mmio_write32(e->regs, REG_TDT, next);
	d->stats.tx_frames++;
	d->stats.tx_bytes += len;
	return true;
}

/* Gives descriptor i back to the NIC: RDT names the last one it may
   fill (§3.2.6), so the one just taken becomes the last. */
static void rx_give_back(struct e1000 *e, u8 *r, u32 i)
{
	r[DESC_STATUS] = 0;
	mmio_write32(e->regs, REG_RDT, i);
}

static u32 e1000_recv(struct netdev *d, void *buf, u32 size)
{
	struct e1000 *e = d->priv;
	u32 i = e->rx_next, len;
	u8 *r = desc(e->rx_ring, i);

	if (!(r[DESC_STATUS] & DESC_DD))
		return 0;
	__asm__ volatile("" ::: "memory");   /* status before the data */
	len = le16_get(r + DESC_LENGTH);
	e->rx_next = (i + 1) % RING_SIZE;
	if (!(r[DESC_STATUS] & RXD_EOP) || r[RXD_ERRORS] || len > BUF_SIZE) {
		d->stats.rx_errors++;      /* a frame over 2 KiB: no LPE */
		len = 0;
	} else if (len > size) {
		d->stats.rx_too_long++;
		len = 0;
	} else {
		memcpy(buf, e->rx_buf[i], len);
		d->stats.rx_frames++;
		d->stats.rx_bytes += len;
	}
	rx_give_back(e, r, i);
	return len;
}

/* ---- bring-up (§14.3 - §14.5) ---- */

/* A ring's descriptor page and its buffers (two to a page), each
   descriptor pointing at its buffer; false when pages run out. */
static bool ring_init(u8 **ring, u8 **bufs, u64 (*alloc_page)(void))
{
	u64 page = alloc_page();

	if (!page)
		return false;
	*ring = (u8 *)(uintptr_t)page;
	memset(*ring, 0, PAGE_SIZE);
	for (u32 i = 0; i < RING_SIZE; i += BUFS_PER_PAGE) {
		if (!(page = alloc_page()))
			return false;
		for (u32 j = 0; j < BUFS_PER_PAGE; j++) {
			bufs[i + j] = (u8 *)(uintptr_t)(page + j * BUF_SIZE);
			le_put(desc(*ring, i + j) + DESC_ADDR, page + j * BUF_SIZE, 8);
		}
	}
	return true;
}

/* EEPROM word `word` through EERD (§5.3.1); false on a timeout. */
static bool eeprom_read(struct e1000 *e, u32 word, u16 *v)
{
	u32 done = e->model->eerd_done;

	mmio_write32(e->regs, REG_EERD,
		     EERD_START | word << e->model->eerd_addr_shift);
	if (!mmio_wait32(e->regs, REG_EERD, done, done, EEPROM_MS))
		return false;
	*v = (u16)(mmio_read32(e->regs, REG_EERD) >> EERD_DATA_SHIFT);
	return true;
}

/* The MAC from EEPROM words 0-2 (low octet first), made receive
   address 0 so the NIC's filter takes frames for it (§13.4.28). */
static bool read_mac(struct e1000 *e, u8 *mac)
{
	u16 w;

	for (u32 i = 0; i < EEPROM_MAC_WORDS; i++) {
		if (!eeprom_read(e, i, &w))
			return false;
		mac[2 * i] = (u8)w;
		mac[2 * i + 1] = (u8)(w >> 8);
	}
	mmio_write32(e->regs, REG_RAL0, (u32)mac[0] | (u32)mac[1] << 8 |
		     (u32)mac[2] << 16 | (u32)mac[3] << 24);
	mmio_write32(e->regs, REG_RAH0, RAH_AV | mac[4] | (u32)mac[5] << 8);
	return true;
}

/* Resets the NIC and masks its interrupts (§14.3), links it up. */
static bool reset(struct e1000 *e)
{
	mmio_write32(e->regs, REG_IMC, ~0u);
	mmio_write32(e->regs, REG_CTRL, mmio_read32(e->regs, REG_CTRL) | CTRL_RST);
	mmio_delay_ms(1);
	if (!mmio_wait32(e->regs, REG_CTRL, CTRL_RST, 0, RESET_MS))
		return false;
	mmio_write32(e->regs, REG_IMC, ~0u);
	mmio_write32(e->regs, REG_CTRL,
		     mmio_read32(e->regs, REG_CTRL) | CTRL_SLU | CTRL_ASDE);
	for (u32 i = 0; i < MTA_DWORDS; i++)
		mmio_write32(e->regs, REG_MTA + 4 * i, 0);
	return true;
}

/* Receive (§14.4): every descriptor but one handed to the NIC. */
static void rx_start(struct e1000 *e)
{
	u64 a = (u64)(uintptr_t)e->rx_ring;

	mmio_write32(e->regs, REG_RDBAL, (u32)a);
	mmio_write32(e->regs, REG_RDBAH, (u32)(a >> 32));
	mmio_write32(e->regs, REG_RDLEN, RING_SIZE * DESC_SIZE);
	mmio_write32(e->regs, REG_RDH, 0);
	mmio_write32(e->regs, REG_RDT, RING_SIZE - 1);
	e->rx_next = 0;
	mmio_write32(e->regs, REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
}

/* Transmit (§14.5): an empty ring, padding of short frames on. */
static void tx_start(struct e1000 *e)
{
	u64 a = (u64)(uintptr_t)e->tx_ring;

	mmio_write32(e->regs, REG_TDBAL, (u32)a);
	mmio_write32(e->regs, REG_TDBAH, (u32)(a >> 32));
	mmio_write32(e->regs, REG_TDLEN, RING_SIZE * DESC_SIZE);
	mmio_write32(e->regs, REG_TDH, 0);
	mmio_write32(e->regs, REG_TDT, 0);
	e->tx_tail = e->tx_clean = 0;
	mmio_write32(e->regs, REG_TIPG, TIPG_COPPER);
	mmio_write32(e->regs, REG_TCTL, TCTL_EN | TCTL_PSP |
		     TCTL_CT(TCTL_CT_DEFAULT) | TCTL_COLD(TCTL_COLD_FULL));
}

/* What e1000_probe's scan fills. */
struct e1000_scan {
	struct netdev *devs;
	int max, found;
	u64 (*alloc_page)(void);
};

/* The model of an Intel function with vendor/device dword id, or NULL. */
static const struct e1000_model *model_of(u32 id)
{
	for (u32 i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (id == (PCI_VENDOR_INTEL | (u32)models[i].device << PCI_DEVICE_SHIFT))
			return &models[i];
	return NULL;
}

/* "e1000e.0": the model's driver name and the NIC's index. */
static void nic_name(char *s, const char *driver, int index)
{
	size_t n = strlen(driver);

	memcpy(s, driver, n);
	s[n] = '.';
	s[n + 1] = (char)('0' + index);
	s[n + 2] = 0;
}

/* pci_find_class's callback: one Ethernet function; true to go on. */
static bool probe_nic(const struct pci_fn *f, void *ctx)
{
	struct e1000_scan *sc = ctx;
	struct e1000 *e = &e1000_nics[e1000_count];
	struct netdev *d = &sc->devs[sc->found];
	const struct e1000_model *m = model_of(pci_read32(f, PCI_VENDOR_ID));
	u64 bar = pci_bar_mem(f, E1000_BAR);

	if (!m || !bar || e1000_count >= E1000_MAX_NICS)
		return true;
	*e = (struct e1000){ .regs = (volatile u8 *)(uintptr_t)bar, .model = m };
	pci_enable_dma(f);
	memset(d, 0, sizeof(*d));
	if (!reset(e) || !read_mac(e, d->mac) ||
	    !ring_init(&e->rx_ring, e->rx_buf, sc->alloc_page) ||
	    !ring_init(&e->tx_ring, e->tx_buf, sc->alloc_page))
		return true;
	rx_start(e);
	tx_start(e);
	nic_name(d->name, m->driver, e1000_count);
	d->model = m->name;
	d->link_up = e1000_link_up;
	d->send = e1000_send;
	d->recv = e1000_recv;
	d->promisc = e1000_promisc;
	d->priv = e;
	e1000_count++;
	return ++sc->found < sc->max;
}

int e1000_probe(struct netdev *devs, int max, u64 (*alloc_page)(void))
{
	struct e1000_scan sc = { devs, max, 0, alloc_page };

	e1000_count = 0;
	if (max > 0)
		pci_find_class(PCI_CLASS_ETHERNET, probe_nic, &sc);
	return sc.found;
}
