/*
 * The virtio-pci transport, PCI side (virtio 1.2 §4.1; PCI 3.0): the
 * configuration space a PCI bus enumerates (header, 64-bit memory BAR,
 * the virtio capabilities of §4.1.4 and MSI-X), the interrupt paths
 * (MSI-X messages with masking and pending bits, or INTA# following the
 * ISR), and the VIRTIO_PCI_CAP_PCI_CFG window, which reaches the BAR
 * registers in virtio_pci.c through configuration space alone.
 *
 * Configuration space registers with side effects are served through the
 * pci_dev hooks: pci.c merges a write through wmask, then calls
 * cfg_write_hook to act on it.
 */
#include "vmm/virtio/virtio.h"

#define CAPS_START      0x40          /* first capability: after the header */
#define INTA            1             /* Interrupt Pin value of INTA# */
#define BAR_REG(n)      (PCI_BAR0 + 4 * (n))
#define COMMAND_BITS    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
			 PCI_COMMAND_INTX_DISABLE)

/* True if [off, off+size) and [start, start+len) overlap. */
static bool touches(u64 off, u64 size, u64 start, u64 len)
{
	return off < start + len && start < off + size;
}

/* ---- interrupts: MSI-X (PCI 3.0 §6.8) or INTx with the ISR (§4.1.4.5) ---- */

static u16 cfg16(const struct virtio_pci *vp, unsigned off)
{
	return le16_get(vp->pci.cfg + off);
}

static bool msix_on(const struct virtio_pci *vp)
{
	return cfg16(vp, vp->msix_cap + PCI_MSIX_CTRL) & PCI_MSIX_CTRL_ENABLE;
}

static bool vector_masked(const struct virtio_pci *vp, u16 v)
{
	const u8 *e = vp->msix_table + v * PCI_MSIX_ENTRY_SIZE;

	return (cfg16(vp, vp->msix_cap + PCI_MSIX_CTRL) & PCI_MSIX_CTRL_MASKALL) ||
	       (le32_get(e + PCI_MSIX_ENTRY_CTRL) & PCI_MSIX_ENTRY_MASKED);
}

/* Sends vector v's message, or marks it pending while masked (§6.8.2). */
static void msix_send(struct virtio_pci *vp, u16 v)
{
	const u8 *e;

	if (v >= vp->nr_vectors)       /* NO_VECTOR: nothing (§4.1.5.3.1) */
		return;
	e = vp->msix_table + v * PCI_MSIX_ENTRY_SIZE;
	if (vector_masked(vp, v)) {
		vp->msix_pending |= (u32)BIT(v);
		return;
	}
	vp->msix_pending &= ~(u32)BIT(v);
	if (vp->ops->msix)
		vp->ops->msix(vp->ctx, le64_get(e + PCI_MSIX_ENTRY_ADDR),
			      le32_get(e + PCI_MSIX_ENTRY_DATA));
}

/* Delivers what was held back by a mask the driver has now lifted. */
static void msix_unmasked(struct virtio_pci *vp)
{
	if (!msix_on(vp))
		return;
	for (u16 v = 0; v < vp->nr_vectors; v++)
		if ((vp->msix_pending & BIT(v)) && !vector_masked(vp, v))
			msix_send(vp, v);
}

/* INTA# follows the ISR unless MSI-X is on or COMMAND masks INTx; the
   STATUS register shows the ISR either way (§4.1.4.5.1). */
void virtio_pci_update_intx(struct virtio_pci *vp)
{
	u8 *sts = vp->pci.cfg + PCI_STATUS;
	bool level = vp->isr && !msix_on(vp) &&
		     !(cfg16(vp, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);

	*sts = (u8)((*sts & ~PCI_STATUS_INTX) | (vp->isr ? PCI_STATUS_INTX : 0));
	if (level == vp->intx_level)
		return;
	vp->intx_level = level;
	if (vp->ops->intx)
		vp->ops->intx(vp->ctx, level);
}

void virtio_pci_raise(struct virtio_pci *vp, u16 vector, u8 isr_bit)
{
	vp->interrupts++;
	if (msix_on(vp)) {
		msix_send(vp, vector);
		return;
	}
	vp->isr |= isr_bit;
	virtio_pci_update_intx(vp);
}

/* ---- the MSI-X table and PBA in the BAR ---- */

/* MSI-X table entries: only the mask bit of Vector Control is writable. */
static void table_write(struct virtio_pci *vp, u64 off, unsigned size, u64 val)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned in = (unsigned)(off + i) % PCI_MSIX_ENTRY_SIZE;
		u8 m = in == PCI_MSIX_ENTRY_CTRL ? PCI_MSIX_ENTRY_MASKED :
		       in > PCI_MSIX_ENTRY_CTRL ? 0 : 0xff;
		u8 *b = &vp->msix_table[off + i];

		*b = (u8)((*b & ~m) | ((val >> (8 * i)) & m));
	}
	msix_unmasked(vp);
}

bool virtio_pci_msix_read(struct virtio_pci *vp, u64 off, unsigned size,
			  u64 *val)
{
	u64 table_len = (u64)vp->nr_vectors * PCI_MSIX_ENTRY_SIZE;
	u8 pba[sizeof(u64)];

	if (virtio_inside(off, size, VIRTIO_PCI_MSIX_TABLE_OFF, table_len)) {
		*val = le_get(vp->msix_table + (off - VIRTIO_PCI_MSIX_TABLE_OFF),
				size);
		return true;
	}
	if (virtio_inside(off, size, VIRTIO_PCI_MSIX_PBA_OFF, sizeof(pba))) {
		le_put(pba, vp->msix_pending, sizeof(pba));
		*val = le_get(pba + (off - VIRTIO_PCI_MSIX_PBA_OFF), size);
		return true;
	}
	return false;
}

bool virtio_pci_msix_write(struct virtio_pci *vp, u64 off, unsigned size,
			   u64 val)
{
	u64 table_len = (u64)vp->nr_vectors * PCI_MSIX_ENTRY_SIZE;

	if (!virtio_inside(off, size, VIRTIO_PCI_MSIX_TABLE_OFF, table_len))
		return false;          /* the PBA is read-only */
	table_write(vp, off - VIRTIO_PCI_MSIX_TABLE_OFF, size, val);
	return true;
}

/* ---- configuration space ---- */

bool virtio_pci_bar(const struct virtio_pci *vp, u64 *base)
{
	*base = le64_get(vp->pci.cfg + BAR_REG(VIRTIO_PCI_BAR)) & ~PCI_BAR_FLAGS;
	return cfg16(vp, PCI_COMMAND) & PCI_COMMAND_MEMORY;
}

static struct virtio_pci *of_pci(struct pci_dev *d)
{
	return (struct virtio_pci *)((u8 *)d - offsetof(struct virtio_pci, pci));
}

static void bar_moved(struct virtio_pci *vp)
{
	u64 base;
	bool on = virtio_pci_bar(vp, &base);

	if (base == vp->bar_base && on == vp->bar_on)
		return;
	vp->bar_base = base;
	vp->bar_on = on;
	if (vp->ops->bar_changed)
		vp->ops->bar_changed(vp->ctx);
}

/*
 * The VIRTIO_PCI_CAP_PCI_CFG window (§4.1.4.9): a BAR access of
 * cap.length bytes at cap.offset through pci_cfg_data. Accesses the
 * driver must not make (§4.1.4.9.2) do nothing.
 */
static void pcicfg_access(struct virtio_pci *vp, bool write)
{
	u8 *cap = vp->pci.cfg + vp->pcicfg_cap;
	u32 off = le32_get(cap + VIRTIO_PCI_CAP_OFFSET_OFF);
	u32 len = le32_get(cap + VIRTIO_PCI_CAP_LENGTH_OFF);
	u8 *data = cap + VIRTIO_PCI_CAP_DATA_OFF;

	if (cap[VIRTIO_PCI_CAP_BAR_OFF] != VIRTIO_PCI_BAR ||
	    (len != 1 && len != 2 && len != 4) || off % len ||
	    !virtio_inside(off, len, 0, VIRTIO_PCI_BAR_SIZE))
		return;
	if (write)
		virtio_pci_bar_write(vp, off, len,
				     le32_get(data) & size_mask(len));
	else
		le_put(data, virtio_pci_bar_read(vp, off, len), len);
}

static void cfg_read_hook(struct pci_dev *d, unsigned off, unsigned size)
{
	struct virtio_pci *vp = of_pci(d);

	if (touches(off, size, vp->pcicfg_cap + VIRTIO_PCI_CAP_DATA_OFF, 4))
		pcicfg_access(vp, false);
}

static void cfg_write_hook(struct pci_dev *d, unsigned off, unsigned size,
			   u32 val)
{
	struct virtio_pci *vp = of_pci(d);

	(void)val;                     /* already merged into cfg[] */
	if (touches(off, size, PCI_COMMAND, 2) ||
	    touches(off, size, vp->msix_cap + PCI_MSIX_CTRL, 2)) {
		virtio_pci_update_intx(vp);
		msix_unmasked(vp);
	}
	if (touches(off, size, PCI_COMMAND, 2) ||
	    touches(off, size, BAR_REG(VIRTIO_PCI_BAR), 2 * sizeof(u32)))
		bar_moved(vp);
	if (touches(off, size, vp->pcicfg_cap + VIRTIO_PCI_CAP_DATA_OFF, 4))
		pcicfg_access(vp, true);
}

void virtio_pci_set_bar(struct virtio_pci *vp, u64 base, bool decode)
{
	u8 *cmd = vp->pci.cfg + PCI_COMMAND;

	base &= ~(VIRTIO_PCI_BAR_SIZE - 1);
	le_put(vp->pci.cfg + BAR_REG(VIRTIO_PCI_BAR), base | PCI_BAR_MEM_64,
	       sizeof(u64));
	*cmd = (u8)((*cmd & ~PCI_COMMAND_MEMORY) | (decode ? PCI_COMMAND_MEMORY : 0));
	bar_moved(vp);
}

/* Sets a configuration register and which of its bits the guest owns. */
static void put_cfg(struct virtio_pci *vp, unsigned off, u64 v, unsigned bytes,
		    u64 wmask)
{
	le_put(vp->pci.cfg + off, v, bytes);
	le_put(vp->pci.wmask + off, wmask, bytes);
}

/* Appends a capability of len bytes at *at, linked from *link (§6.7). */
static unsigned add_cap(struct virtio_pci *vp, unsigned *at, unsigned *link,
			u8 id, unsigned len)
{
	unsigned pos = *at;

	vp->pci.cfg[*link] = (u8)pos;
	vp->pci.cfg[pos] = id;
	*link = pos + PCI_CAP_NEXT;
	*at = pos + len;
	return pos;
}

/* A struct virtio_pci_cap for the BAR region [off, off + len) (§4.1.4). */
static unsigned add_virtio_cap(struct virtio_pci *vp, unsigned *at,
			       unsigned *link, u8 type, u32 off, u32 len,
			       unsigned cap_len)
{
	unsigned pos = add_cap(vp, at, link, PCI_CAP_ID_VNDR, cap_len);

	vp->pci.cfg[pos + VIRTIO_PCI_CAP_LEN_OFF] = (u8)cap_len;
	vp->pci.cfg[pos + VIRTIO_PCI_CAP_TYPE_OFF] = type;
	vp->pci.cfg[pos + VIRTIO_PCI_CAP_BAR_OFF] = VIRTIO_PCI_BAR;
	put_cfg(vp, pos + VIRTIO_PCI_CAP_OFFSET_OFF, off, sizeof(u32), 0);
	put_cfg(vp, pos + VIRTIO_PCI_CAP_LENGTH_OFF, len, sizeof(u32), 0);
	return pos;
}

static void build_caps(struct virtio_pci *vp)
{
	const struct virtio_device_ops *d = vp->dev;
	unsigned at = CAPS_START, link = PCI_CAP_PTR, p;

	add_virtio_cap(vp, &at, &link, VIRTIO_PCI_CAP_COMMON_CFG,
		       VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN,
		       VIRTIO_PCI_CAP_SIZE);
	p = add_virtio_cap(vp, &at, &link, VIRTIO_PCI_CAP_NOTIFY_CFG,
			   VIRTIO_PCI_NOTIFY_OFF,
			   (u32)d->num_queues * VIRTIO_PCI_NOTIFY_MULT,
			   VIRTIO_PCI_CAP_EXTRA_SIZE);
	put_cfg(vp, p + VIRTIO_PCI_CAP_MULT_OFF, VIRTIO_PCI_NOTIFY_MULT,
		sizeof(u32), 0);
	add_virtio_cap(vp, &at, &link, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF,
		       VIRTIO_PCI_ISR_LEN, VIRTIO_PCI_CAP_SIZE);
	if (d->config_size)
		add_virtio_cap(vp, &at, &link, VIRTIO_PCI_CAP_DEVICE_CFG,
			       VIRTIO_PCI_DEVICE_OFF, d->config_size,
			       VIRTIO_PCI_CAP_SIZE);
	/* the PCI_CFG window: bar, offset, length and data are the driver's */
	p = add_virtio_cap(vp, &at, &link, VIRTIO_PCI_CAP_PCI_CFG, 0, 0,
			   VIRTIO_PCI_CAP_EXTRA_SIZE);
	vp->pci.wmask[p + VIRTIO_PCI_CAP_BAR_OFF] = 0xff;
	memset(vp->pci.wmask + p + VIRTIO_PCI_CAP_OFFSET_OFF, 0xff,
	       VIRTIO_PCI_CAP_EXTRA_SIZE - VIRTIO_PCI_CAP_OFFSET_OFF);
	vp->pcicfg_cap = (u8)p;
	p = add_cap(vp, &at, &link, PCI_CAP_ID_MSIX, PCI_MSIX_CAP_LEN);
	put_cfg(vp, p + PCI_MSIX_CTRL, vp->nr_vectors - 1U, sizeof(u16),
		PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	put_cfg(vp, p + PCI_MSIX_TABLE, VIRTIO_PCI_MSIX_TABLE_OFF | VIRTIO_PCI_BAR,
		sizeof(u32), 0);
	put_cfg(vp, p + PCI_MSIX_PBA, VIRTIO_PCI_MSIX_PBA_OFF | VIRTIO_PCI_BAR,
		sizeof(u32), 0);
	vp->msix_cap = (u8)p;
}

/* The type 0 header (PCI 3.0 §6.1), with a 64-bit memory BAR sized by
   its wmask: the guest reads back ~(size - 1) after writing all ones. */
static void build_header(struct virtio_pci *vp)
{
	u16 id = (u16)(VIRTIO_PCI_DEVICE_BASE + vp->dev->device_id);

	put_cfg(vp, PCI_VENDOR_ID, VIRTIO_PCI_VENDOR, sizeof(u16), 0);
	put_cfg(vp, PCI_DEVICE_ID, id, sizeof(u16), 0);
	put_cfg(vp, PCI_COMMAND, 0, sizeof(u16), COMMAND_BITS);
	put_cfg(vp, PCI_STATUS, PCI_STATUS_CAP_LIST, sizeof(u16), 0);
	put_cfg(vp, PCI_REVISION, VIRTIO_PCI_REVISION, 1, 0);
	put_cfg(vp, PCI_CLASS_PROG, vp->dev->pci_class, 3, 0);
	put_cfg(vp, BAR_REG(VIRTIO_PCI_BAR), PCI_BAR_MEM_64, sizeof(u64),
		~(VIRTIO_PCI_BAR_SIZE - 1));
	put_cfg(vp, PCI_SUBSYS_VENDOR, VIRTIO_PCI_VENDOR, sizeof(u16), 0);
	put_cfg(vp, PCI_SUBSYS_ID, id, sizeof(u16), 0);  /* >= 0x40 (§4.1.2.1) */
	put_cfg(vp, PCI_INT_LINE, 0, 1, 0xff);
	put_cfg(vp, PCI_INT_PIN, INTA, 1, 0);
}

void virtio_pci_build_config(struct virtio_pci *vp)
{
	vp->pci.name = vp->dev->name;
	vp->pci.cfg_read = cfg_read_hook;
	vp->pci.cfg_write = cfg_write_hook;
	for (u16 v = 0; v < vp->nr_vectors; v++)   /* masked at reset (§6.8.2.9) */
		vp->msix_table[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL] =
			PCI_MSIX_ENTRY_MASKED;
	build_header(vp);
	build_caps(vp);
}
