/*
 * The virtio-pci transport (virtio 1.2 §4.1), modern devices only: the
 * virtio side, i.e. the BAR's registers, device status, feature
 * negotiation and queues. The PCI side (configuration space, MSI-X and
 * INTx) is in virtio_pci_cfg.c.
 *
 * The driver may write any value of any width anywhere: accesses that are
 * not a field of the right width (§4.1.3.1) are counted and ignored, and
 * driver mistakes that leave the device unusable set DEVICE_NEEDS_RESET
 * (§2.1.2) with a logged reason instead of doing anything to the host.
 */
#include "vmm/virtio/virtio.h"
#include "lib/fmt.h"

#define LOG_MAX         160
#define U32_BITS        32
#define DRIVER_STATUS   (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK | \
			 VIRTIO_STATUS_FAILED)

typedef unsigned long long ull;

/* The fields of the common configuration and their widths (§4.1.4.3). */
static const struct { u8 off, width; } common_fields[] = {
	{ VIRTIO_PCI_COMMON_DFSELECT, 4 }, { VIRTIO_PCI_COMMON_DF, 4 },
	{ VIRTIO_PCI_COMMON_GFSELECT, 4 }, { VIRTIO_PCI_COMMON_GF, 4 },
	{ VIRTIO_PCI_COMMON_MSIX, 2 },     { VIRTIO_PCI_COMMON_NUMQ, 2 },
	{ VIRTIO_PCI_COMMON_STATUS, 1 },   { VIRTIO_PCI_COMMON_CFGGEN, 1 },
	{ VIRTIO_PCI_COMMON_Q_SELECT, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 2 },
	{ VIRTIO_PCI_COMMON_Q_MSIX, 2 },   { VIRTIO_PCI_COMMON_Q_ENABLE, 2 },
	{ VIRTIO_PCI_COMMON_Q_NOFF, 2 },   { VIRTIO_PCI_COMMON_Q_DESC, 8 },
	{ VIRTIO_PCI_COMMON_Q_DRIVER, 8 }, { VIRTIO_PCI_COMMON_Q_DEVICE, 8 },
};

static void vlog(struct virtio_pci *vp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A message for the console, at most VIRTIO_PCI_LOG_LIMIT per device so
   that a guest cannot flood it. */
static void vlog(struct virtio_pci *vp, const char *fmt, ...)
{
	char msg[LOG_MAX];
	va_list ap;
	int n;

	if (!vp->ops->log || vp->logged >= VIRTIO_PCI_LOG_LIMIT)
		return;
	n = MIN(fmt_sn(msg, sizeof(msg), "%s: ", vp->dev->name),
		(int)sizeof(msg) - 1);
	va_start(ap, fmt);
	fmt_vsn(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	vp->ops->log(vp->ctx, msg);
	if (++vp->logged < VIRTIO_PCI_LOG_LIMIT)
		return;
	fmt_sn(msg, sizeof(msg), "%s: further messages suppressed",
	       vp->dev->name);
	vp->ops->log(vp->ctx, msg);
}

/* The device cannot go on until reset (§2.1.2): say why, tell the driver. */
static void needs_reset(struct virtio_pci *vp, const char *why)
{
	vlog(vp, "%s; device needs reset", why);
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_raise(vp, vp->config_vector, VIRTIO_ISR_CONFIG);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->config_dirty = true;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_raise(vp, vp->config_vector, VIRTIO_ISR_CONFIG);
}

/* ---- queues ---- */

/* Lets the device consume queue i, then notifies the driver if it asked. */
static void run_queue(struct virtio_pci *vp, unsigned i)
{
	struct virtio_pci_queue *q = &vp->q[i];
	char why[LOG_MAX];
	int r = vp->dev->queue_notify(vp->dev_ctx, i, &q->vq);

	if (virtq_should_signal(&q->vq))
		virtio_pci_raise(vp, q->msix_vector, VIRTIO_ISR_QUEUE);
	if (r < 0) {
		fmt_sn(why, sizeof(why), "queue %u: %s", i, q->vq.why);
		needs_reset(vp, why);
	}
}

/* Whether queue i may be consumed: nothing before DRIVER_OK (§2.1.2),
   nor after an error until reset. */
static bool queue_live(const struct virtio_pci *vp, unsigned i)
{
	return (vp->status & (VIRTIO_STATUS_DRIVER_OK |
			      VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK && vp->q[i].enabled;
}

/*
 * Marks queue i to run later (deferred_queues). Notifications go off
 * now, as virtq_drain turns them off while it works: with EVENT_IDX the
 * driver's next buffers do not reach avail_event, without it
 * VIRTQ_USED_F_NO_NOTIFY says so (§2.7.10). The VM hears once.
 */
static void defer_queue(struct virtio_pci *vp, unsigned i)
{
	struct virtio_pci_queue *q = &vp->q[i];
	char why[LOG_MAX];

	if (q->deferred)
		return;
	if (virtq_set_notify(&q->vq, false) < 0) {
		fmt_sn(why, sizeof(why), "queue %u: %s", i, q->vq.why);
		needs_reset(vp, why);
		return;
	}
	q->deferred = true;
	vp->ops->defer(vp->ctx);
}

/* An available buffer notification: the 16-bit queue index (§4.1.5.2). */
static void notify(struct virtio_pci *vp, u16 i)
{
	vp->notifies++;
	if (i >= vp->dev->num_queues) {
		vlog(vp, "notify of queue %u, which does not exist", i);
		return;
	}
	if (!queue_live(vp, i))
		return;
	if ((vp->dev->deferred_queues & BIT(i)) && vp->ops->defer)
		defer_queue(vp, i);
	else
		run_queue(vp, i);
}

void virtio_pci_run_deferred(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < vp->dev->num_queues; i++) {
		if (!vp->q[i].deferred)
			continue;
		vp->q[i].deferred = false;
		if (queue_live(vp, i)) {
			vp->deferred_runs++;
			run_queue(vp, i);
		}
	}
}

static void enable_queue(struct virtio_pci *vp, unsigned i)
{
	struct virtio_pci_queue *q = &vp->q[i];
	char why[LOG_MAX];

	if (q->enabled)
		return;
	if (!(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
		fmt_sn(why, sizeof(why), "queue %u enabled before FEATURES_OK", i);
		needs_reset(vp, why);
		return;
	}
	if (virtq_setup(&q->vq, vp->mem, q->size, q->desc, q->driver,
			q->device, vp->driver_features) < 0) {
		fmt_sn(why, sizeof(why), "queue %u: %s", i, q->vq.why);
		needs_reset(vp, why);
		return;
	}
	q->enabled = true;
}

/* The driver may only pick a power of two up to the maximum (§4.1.4.3.2),
   and the device must only ever show one (§4.1.4.3.1). */
static void set_queue_size(struct virtio_pci *vp, unsigned i, u16 size)
{
	char why[LOG_MAX];

	if (size && !(size & (size - 1)) && size <= vp->dev->queue_max) {
		vp->q[i].size = size;
		return;
	}
	fmt_sn(why, sizeof(why),
	       "queue %u: size %u is not a power of two up to %u", i, size,
	       vp->dev->queue_max);
	needs_reset(vp, why);
}

static u16 checked_vector(const struct virtio_pci *vp, u64 v)
{
	return v < vp->nr_vectors ? (u16)v : VIRTIO_MSI_NO_VECTOR;  /* §4.1.5.1.2 */
}

/* ---- status and features (§2.1, §2.2, §3.1) ---- */

static void reset_device(struct virtio_pci *vp)
{
	vp->status = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	vp->queue_select = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;   /* all unmapped (§4.1.5.1.2) */
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)  /* vq too */
		vp->q[i] = (struct virtio_pci_queue){
			.size = vp->dev->queue_max,
			.msix_vector = VIRTIO_MSI_NO_VECTOR };
	vp->isr = 0;
	virtio_pci_update_intx(vp);
	if (vp->dev->reset)
		vp->dev->reset(vp->dev_ctx);
}

/* FEATURES_OK is granted only for a subset of what was offered that
   includes VERSION_1: this transport has no legacy interface (§2.2.2). */
static bool features_acceptable(struct virtio_pci *vp)
{
	u64 extra = vp->driver_features & ~vp->dev->features;

	if (extra) {
		vlog(vp, "driver accepted features 0x%llx that were not offered",
		     (ull)extra);
		return false;
	}
	if (!(vp->driver_features & BIT(VIRTIO_F_VERSION_1))) {
		vlog(vp, "driver did not accept VIRTIO_F_VERSION_1 "
		     "(legacy drivers are not supported)");
		return false;
	}
	return true;
}

static void write_status(struct virtio_pci *vp, u8 val)
{
	u8 add = (u8)(val & ~vp->status & DRIVER_STATUS);

	if (!val) {                    /* writing 0 resets (§4.1.4.3.1) */
		reset_device(vp);
		return;
	}
	/* bits the driver clears stay set: it must not (§2.1.1) */
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(vp))
		add &= (u8)~VIRTIO_STATUS_FEATURES_OK;
	if (add & VIRTIO_STATUS_FEATURES_OK)
		vp->last_features = vp->driver_features;
	if ((add & VIRTIO_STATUS_DRIVER_OK) &&
	    !((vp->status | add) & VIRTIO_STATUS_FEATURES_OK)) {
		vlog(vp, "DRIVER_OK without FEATURES_OK");
		add &= (u8)~VIRTIO_STATUS_DRIVER_OK;
	}
	vp->status |= add;
	if (!(add & VIRTIO_STATUS_DRIVER_OK))
		return;
	/* buffers made available before DRIVER_OK are taken now */
	for (unsigned i = 0; i < vp->dev->num_queues; i++)
		if (vp->q[i].enabled && !(vp->status & VIRTIO_STATUS_NEEDS_RESET))
			run_queue(vp, i);
}

/* Stores the selected 32-bit half of the driver's features. */
static void write_driver_features(struct virtio_pci *vp, u32 val)
{
	unsigned shift;

	if (vp->status & VIRTIO_STATUS_FEATURES_OK) {
		vlog(vp, "driver features written after FEATURES_OK");
		return;                /* §3.1.1: no new features after it */
	}
	if (vp->gfselect > 1)
		return;                /* no feature beyond bit 63 exists */
	shift = U32_BITS * vp->gfselect;
	vp->driver_features = (vp->driver_features & ~(0xffffffffULL << shift)) |
			      (u64)val << shift;
}

/* ---- the common configuration (§4.1.4.3) ---- */

static struct virtio_pci_queue *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->dev->num_queues ?
	       &vp->q[vp->queue_select] : NULL;
}

/* The whole value of the field at `field`. */
static u64 common_get(struct virtio_pci *vp, unsigned field)
{
	struct virtio_pci_queue *q = selected(vp);

	switch (field) {
	case VIRTIO_PCI_COMMON_DFSELECT: return vp->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return vp->dfselect > 1 ? 0 :
		       (u32)(vp->dev->features >> (U32_BITS * vp->dfselect));
	case VIRTIO_PCI_COMMON_GFSELECT: return vp->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return vp->gfselect > 1 ? 0 :
		       (u32)(vp->driver_features >> (U32_BITS * vp->gfselect));
	case VIRTIO_PCI_COMMON_MSIX:     return vp->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ:     return vp->dev->num_queues;
	case VIRTIO_PCI_COMMON_STATUS:   return vp->status;
	case VIRTIO_PCI_COMMON_CFGGEN:   return vp->generation;
	case VIRTIO_PCI_COMMON_Q_SELECT: return vp->queue_select;
	}
	if (!q)                        /* no such queue: size 0 (§4.1.4.3.1) */
		return field == VIRTIO_PCI_COMMON_Q_MSIX ? VIRTIO_MSI_NO_VECTOR : 0;
	switch (field) {
	case VIRTIO_PCI_COMMON_Q_SIZE:   return q->size;
	case VIRTIO_PCI_COMMON_Q_MSIX:   return q->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return q->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF:   return vp->queue_select;
	case VIRTIO_PCI_COMMON_Q_DESC:   return q->desc;
	case VIRTIO_PCI_COMMON_Q_DRIVER: return q->driver;
	default:                         return q->device;
	}
}

/* Writes to the selected queue's fields; its layout is fixed once enabled. */
static void queue_set(struct virtio_pci *vp, unsigned field, u64 val)
{
	struct virtio_pci_queue *q = selected(vp);
	unsigned i = vp->queue_select;

	if (!q)
		return;
	if (field == VIRTIO_PCI_COMMON_Q_MSIX) {
		q->msix_vector = checked_vector(vp, val);
		return;
	}
	if (field == VIRTIO_PCI_COMMON_Q_ENABLE) {
		if (val == 1)
			enable_queue(vp, i);
		else                   /* the driver must not write 0 (§4.1.4.3.2) */
			vlog(vp, "queue %u: queue_enable written with %llu", i, (ull)val);
		return;
	}
	if (q->enabled)
		return;
	switch (field) {
	case VIRTIO_PCI_COMMON_Q_SIZE:   set_queue_size(vp, i, (u16)val); break;
	case VIRTIO_PCI_COMMON_Q_DESC:   q->desc = val; break;
	case VIRTIO_PCI_COMMON_Q_DRIVER: q->driver = val; break;
	case VIRTIO_PCI_COMMON_Q_DEVICE: q->device = val; break;
	default:                         break;  /* read-only: notify_off */
	}
}

static void common_set(struct virtio_pci *vp, unsigned field, u64 val)
{
	switch (field) {
	case VIRTIO_PCI_COMMON_DFSELECT: vp->dfselect = (u32)val; break;
	case VIRTIO_PCI_COMMON_GFSELECT: vp->gfselect = (u32)val; break;
	case VIRTIO_PCI_COMMON_GF:       write_driver_features(vp, (u32)val); break;
	case VIRTIO_PCI_COMMON_MSIX:     vp->config_vector = checked_vector(vp, val); break;
	case VIRTIO_PCI_COMMON_STATUS:   write_status(vp, (u8)val); break;
	case VIRTIO_PCI_COMMON_Q_SELECT: vp->queue_select = (u16)val; break;
	case VIRTIO_PCI_COMMON_DF:       /* read-only for the driver */
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_CFGGEN:   break;
	default:                         queue_set(vp, field, val); break;
	}
}

/* The field an access is aimed at: the whole field, or an aligned 32-bit
   half of a 64-bit one (§4.1.3.1). False for any other access. */
static bool common_field(u64 off, unsigned size, unsigned *field,
			 unsigned *width, unsigned *shift)
{
	for (unsigned i = 0; i < ARRAY_SIZE(common_fields); i++) {
		unsigned f = common_fields[i].off, w = common_fields[i].width;

		if (off < f || off >= f + w)
			continue;
		*field = f;
		*width = w;
		*shift = 8 * (unsigned)(off - f);
		return (off == f && size == w) ||
		       (w == sizeof(u64) && size == sizeof(u32) &&
			(off - f) % sizeof(u32) == 0);
	}
	return false;
}

static u64 common_read(struct virtio_pci *vp, u64 off, unsigned size)
{
	unsigned field, width, shift;

	if (!common_field(off, size, &field, &width, &shift)) {
		vp->bad_accesses++;
		return 0;
	}
	return (common_get(vp, field) >> shift) & size_mask(size);
}

static void common_write(struct virtio_pci *vp, u64 off, unsigned size, u64 val)
{
	unsigned field, width, shift;
	u64 mask = size_mask(size);

	if (!common_field(off, size, &field, &width, &shift)) {
		vp->bad_accesses++;
		return;
	}
	if (size < width)              /* one half of a 64-bit field */
		val = (common_get(vp, field) & ~(mask << shift)) |
		      (val & mask) << shift;
	common_set(vp, field, val & size_mask(width));
}

/* ---- the BAR ---- */

/* Reading the ISR clears it and lowers INTA# (§4.1.4.5). */
static u64 isr_read(struct virtio_pci *vp)
{
	u8 v = vp->isr;

	vp->isr = 0;
	virtio_pci_update_intx(vp);
	return v;
}

static u64 device_read(struct virtio_pci *vp, u64 off, unsigned size)
{
	if (!virtio_inside(off, size, 0, vp->dev->config_size)) {
		vp->bad_accesses++;
		return 0;
	}
	if (vp->config_dirty) {        /* the note in §4.1.4.3.1 */
		vp->generation++;
		vp->config_dirty = false;
	}
	return vp->dev->config_read(vp->dev_ctx, (u32)off, size);
}

u64 virtio_pci_bar_read(struct virtio_pci *vp, u64 off, unsigned size)
{
	u64 v;

	if (virtio_inside(off, size, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN))
		return common_read(vp, off - VIRTIO_PCI_COMMON_OFF, size);
	if (virtio_inside(off, size, VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_ISR_LEN))
		return isr_read(vp);
	if (virtio_inside(off, size, VIRTIO_PCI_DEVICE_OFF, VIRTIO_PCI_DEVICE_LEN))
		return device_read(vp, off - VIRTIO_PCI_DEVICE_OFF, size);
	if (virtio_pci_msix_read(vp, off, size, &v))
		return v;
	vp->bad_accesses++;
	return 0;                      /* holes and notify registers read 0 */
}

void virtio_pci_bar_write(struct virtio_pci *vp, u64 off, unsigned size,
			  u64 val)
{
	u64 notify_len = (u64)vp->dev->num_queues * VIRTIO_PCI_NOTIFY_MULT;

	if (virtio_inside(off, size, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN))
		common_write(vp, off - VIRTIO_PCI_COMMON_OFF, size, val);
	else if (virtio_inside(off, size, VIRTIO_PCI_NOTIFY_OFF, notify_len))
		notify(vp, (u16)val);
	else if (virtio_inside(off, size, VIRTIO_PCI_DEVICE_OFF, vp->dev->config_size) &&
		 vp->dev->config_write)
		vp->dev->config_write(vp->dev_ctx, (u32)(off - VIRTIO_PCI_DEVICE_OFF),
				      size, val & size_mask(size));
	else if (!virtio_pci_msix_write(vp, off, size, val))
		vp->bad_accesses++;    /* ISR, PBA, holes: read-only or nothing */
}

static bool valid_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

u64 virtio_pci_mmio_read(void *dev, u64 off, unsigned size)
{
	struct virtio_pci *vp = dev;
	u64 base;

	if (!virtio_pci_bar(vp, &base) || !valid_size(size) ||
	    !virtio_inside(off, size, 0, VIRTIO_PCI_BAR_SIZE))
		return size_mask(size);
	return virtio_pci_bar_read(vp, off, size);
}

void virtio_pci_mmio_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct virtio_pci *vp = dev;
	u64 base;

	if (virtio_pci_bar(vp, &base) && valid_size(size) &&
	    virtio_inside(off, size, 0, VIRTIO_PCI_BAR_SIZE))
		virtio_pci_bar_write(vp, off, size, val & size_mask(size));
}

static bool ops_usable(const struct virtio_device_ops *d)
{
	u64 transport = d->features & VIRTIO_F_RESERVED_MASK;

	return d->queue_notify && d->num_queues &&
	       d->num_queues <= VIRTIO_PCI_MAX_QUEUES &&
	       !(d->deferred_queues >> d->num_queues) &&
	       d->queue_max && !(d->queue_max & (d->queue_max - 1)) &&
	       d->queue_max <= VIRTQ_MAX_SIZE &&
	       d->config_size <= VIRTIO_PCI_DEVICE_LEN &&
	       (d->config_read || !d->config_size) &&
	       d->device_id <= VIRTIO_PCI_DEVICE_LAST - VIRTIO_PCI_DEVICE_BASE &&
	       (transport & BIT(VIRTIO_F_VERSION_1)) &&
	       !(transport & ~VIRTIO_TRANSPORT_FEATURES);
}

int virtio_pci_init(struct virtio_pci *vp, const struct virtio_device_ops *dev,
		    void *dev_ctx, const struct virtio_pci_ops *ops, void *ctx,
		    const struct gmem *mem)
{
	if (!dev || !ops || !mem || !ops_usable(dev))
		return -1;
	memset(vp, 0, sizeof(*vp));
	vp->dev = dev;
	vp->dev_ctx = dev_ctx;
	vp->ops = ops;
	vp->ctx = ctx;
	vp->mem = mem;
	vp->nr_vectors = (u16)(dev->num_queues + 1);   /* a vector each, + config */
	virtio_pci_build_config(vp);
	reset_device(vp);
	return 0;
}
