/*
 * The host's interrupt controllers. uhv polls its devices and takes no
 * interrupts, so at start it silences every source the firmware may have
 * left on: the legacy PICs, each I/O APIC's redirection entries, the
 * HPET's timers, and the local APIC's timer, LINT0/LINT1, CMCI, thermal
 * and performance-counter entries. A physical interrupt that still
 * arrives during a guest's time slice causes an exit (acknowledged on
 * exit) and only needs an EOI. The local APIC also sends uhv's self-test
 * NMIs.
 */
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/host_acpi.h"
#include "arch/x86/nmi.h"
#include "drivers/console.h"
#include "lib/fmt.h"

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define PIC_MASK_ALL 0xff
/* xAPIC register offsets (SDM Vol. 3A §11.4.1, Table 11-1); the x2APIC
   MSR of each is 0x800 + offset / 16 (§11.12.1.2). */
#define LAPIC_ID          0x020
#define LAPIC_VERSION     0x030
#define LAPIC_EOI         0x0b0
#define LAPIC_LVT_CMCI    0x2f0
#define LAPIC_ICR_LO      0x300
#define LAPIC_ICR_HI      0x310
#define LAPIC_LVT_TIMER   0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF    0x340
#define LAPIC_LVT_LINT0   0x350
#define LAPIC_LVT_LINT1   0x360
#define MSR_X2APIC_BASE   0x800
#define X2APIC_MSR(off)   (MSR_X2APIC_BASE + ((off) >> 4))
#define XAPIC_ID_SHIFT    24
#define LVT_MASKED        (1U << 16)
#define VERSION_MAXLVT_SHIFT 16     /* Max LVT Entry: number of LVTs - 1 */
#define VERSION_MAXLVT_MASK  0xffU
/* ICR (§11.6.1): delivery mode NMI, level assert, physical, no shorthand */
#define ICR_MODE_NMI      (4U << 8)
#define ICR_LEVEL_ASSERT  (1U << 14)
#define ICR_BUSY          (1U << 12)  /* xAPIC delivery status: send pending */
#define ICR_XAPIC_DEST_SHIFT 24
#define X2APIC_ICR_DEST_SHIFT 32
/* I/O APIC (82093AA datasheet §3.0): index/data window, version, RTEs. */
#define IOAPIC_DEFAULT    0xfec00000ULL
#define IOAPIC_REGSEL     0x00
#define IOAPIC_WIN        0x10
#define IOAPIC_VER        0x01
#define IOAPIC_VER_MAXRTE_SHIFT 16
#define IOAPIC_VER_MAXRTE_MASK  0xffU
#define IOAPIC_RTE_LO(n)  (0x10 + 2 * (n))
#define IOAPIC_RTE_MASKED (1U << 16)
#define IOAPIC_NONE       0xffffffffU  /* reads where nothing decodes */
#define IOAPIC_RTE_HI(n)  (0x11 + 2 * (n))
#define IOAPIC_RTE_NMI    (4U << 8)    /* delivery mode NMI, edge, high */
#define IOAPIC_DEST_SHIFT 24
#define IOAPIC_PIT_PIN    2            /* ISA IRQ 0 (MADT override) */
/* The 8254 PIT's channel 0 (Intel 82C54 datasheet): mode 0, one shot. */
#define PIT_CH0           0x40
#define PIT_CMD           0x43
#define PIT_CH0_MODE0     0x30         /* channel 0, lo/hi byte, mode 0 */
#define PIT_NMI_COUNT     200          /* ~168 us at 1.193182 MHz */
#define BYTE_MASK         0xffU
#define BYTE_SHIFT        8
/* HPET (IA-PC HPET spec 1.0a §2.3): capabilities, configuration, timers. */
#define HPET_DEFAULT      0xfed00000ULL
#define HPET_GCAP_LO      0x000
#define HPET_GCAP_HI      0x004
#define HPET_GEN_CONF     0x010
#define HPET_GEN_ENABLE   (1U << 0)
#define HPET_GEN_LEGACY   (1U << 1)
#define HPET_TIMER_CONF(n) (0x100 + 0x20 * (n))
#define HPET_TIMER_INT_ENB (1U << 2)
#define HPET_NUM_TIM_SHIFT 8         /* GCAP bits 12:8: timers - 1 */
#define HPET_NUM_TIM_MASK  0x1fU
#define SILENCE_LINE_MAX   160

static u64 ioapic_base;      /* the first I/O APIC found, 0 if none */

/* IA32_APIC_BASE.EXTD: x2APIC mode, registers as MSRs (§11.12.1). */
static bool x2apic(void)
{
	return rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC;
}

/* A 32-bit MMIO register (identity-mapped, as all of uhv's memory). */
static volatile u32 *mmio32(u64 addr)
{
	return (volatile u32 *)(uintptr_t)addr;
}

/* One local APIC register, by xAPIC offset, in either mode (§11.12.1). */
static u32 lapic_read(u32 off)
{
	if (x2apic())
		return (u32)rdmsr(X2APIC_MSR(off));
	return *mmio32((rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK) + off);
}

static void lapic_write(u32 off, u32 val)
{
	if (x2apic())
		wrmsr(X2APIC_MSR(off), val);
	else
		*mmio32((rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK) + off) = val;
}

/* The local APIC's interrupt sources besides its timer (§11.5.1): each
   exists only where Max LVT Entry (Version register) reaches it. */
static const struct { u32 off; u32 min_maxlvt; const char *name; } lvts[] = {
	{ LAPIC_LVT_LINT0, 0, "LINT0" }, { LAPIC_LVT_LINT1, 0, "LINT1" },
	{ LAPIC_LVT_PERF, 4, "perf" }, { LAPIC_LVT_THERMAL, 5, "thermal" },
	{ LAPIC_LVT_CMCI, 6, "CMCI" },
};

/* Masks the timer (uhv uses none) and every other LVT entry (§11.5.1). */
static void silence_lapic(void)
{
	u32 maxlvt = lapic_read(LAPIC_VERSION) >> VERSION_MAXLVT_SHIFT &
		     VERSION_MAXLVT_MASK;
	char on[SILENCE_LINE_MAX] = "", all[SILENCE_LINE_MAX] = "";
	size_t n = 0, a = 0;

	lapic_write(LAPIC_LVT_TIMER, lapic_read(LAPIC_LVT_TIMER) | LVT_MASKED);
	for (size_t i = 0; i < ARRAY_SIZE(lvts); i++) {
		u32 v;

		if (maxlvt < lvts[i].min_maxlvt)
			continue;
		v = lapic_read(lvts[i].off);
		lapic_write(lvts[i].off, v | LVT_MASKED);
		a += (size_t)fmt_sn(all + a, sizeof(all) - a, " %s", lvts[i].name);
		if (!(v & LVT_MASKED))
			n += (size_t)fmt_sn(on + n, sizeof(on) - n, " %s", lvts[i].name);
	}
	printk("uhv: host local APIC: timer and LVT%s masked; firmware had left "
	       "on:%s\n", all, n ? on : " none");
}

/* An NMI to this CPU through its ICR, by its own APIC id: the "self"
   shorthand allows only fixed delivery (§11.6.1, the table of valid
   combinations), x2APIC's SELF IPI register likewise (§11.12.11). */
void arch_lapic_self_nmi(void)
{
	u32 lo = ICR_MODE_NMI | ICR_LEVEL_ASSERT;

	if (x2apic()) {
		u64 id = rdmsr(X2APIC_MSR(LAPIC_ID));

		wrmsr(X2APIC_MSR(LAPIC_ICR_LO), id << X2APIC_ICR_DEST_SHIFT | lo);
		return;
	}
	while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		__asm__ volatile("pause");
	lapic_write(LAPIC_ICR_HI, lapic_read(LAPIC_ID) >> XAPIC_ID_SHIFT <<
		    ICR_XAPIC_DEST_SHIFT);
	lapic_write(LAPIC_ICR_LO, lo);
}

/* I/O APIC register reg through the index/data window. */
static u32 ioapic_read(u64 base, u32 reg)
{
	*mmio32(base + IOAPIC_REGSEL) = reg;
	return *mmio32(base + IOAPIC_WIN);
}

static void ioapic_write(u64 base, u32 reg, u32 val)
{
	*mmio32(base + IOAPIC_REGSEL) = reg;
	*mmio32(base + IOAPIC_WIN) = val;
}

/* Sets the mask bit of every redirection entry; says how many were on. */
static void silence_ioapic(u64 base, const char *from)
{
	u32 ver = ioapic_read(base, IOAPIC_VER), nr, on = 0;

	if (ver == IOAPIC_NONE) {
		printk("uhv: host I/O APIC: none at 0x%llx (%s)\n",
		       (unsigned long long)base, from);
		return;
	}
	nr = (ver >> IOAPIC_VER_MAXRTE_SHIFT & IOAPIC_VER_MAXRTE_MASK) + 1;
	if (!ioapic_base)
		ioapic_base = base;
	for (u32 i = 0; i < nr; i++) {
		u32 lo = ioapic_read(base, IOAPIC_RTE_LO(i));

		on += !(lo & IOAPIC_RTE_MASKED);
		ioapic_write(base, IOAPIC_RTE_LO(i), lo | IOAPIC_RTE_MASKED);
	}
	printk("uhv: host I/O APIC at 0x%llx (%s): %u entries masked; firmware "
	       "had left %u on\n", (unsigned long long)base, from, nr, on);
}

/* host_acpi's map: the loader identity-maps all physical memory. */
static const void *identity_map(u64 phys, u64 len)
{
	(void)len;
	return (const void *)(uintptr_t)phys;
}

/* Each I/O APIC the MADT names; the default one where there is no MADT
   (OVMF under Bochs publishes no ACPI tables). */
static void silence_ioapics(u64 rsdp)
{
	const void *madt = host_acpi_find(rsdp, "APIC", identity_map);
	u64 addr[HOST_MAX_IOAPICS];
	int n;

	if (!madt) {
		silence_ioapic(IOAPIC_DEFAULT, "default address, no MADT");
		return;
	}
	n = host_madt_ioapics(madt, addr, HOST_MAX_IOAPICS);
	for (int i = 0; i < n; i++)
		silence_ioapic(addr[i], "MADT");
	if (!n)
		printk("uhv: host I/O APIC: the MADT lists none\n");
}

/* Stops the main counter, legacy routing and every timer's interrupt
   (HPET spec §2.3.5, §2.3.8); says how many timers had them on. */
static void silence_hpet(u64 base, const char *from)
{
	u32 cap = *mmio32(base + HPET_GCAP_LO), on = 0;
	u64 gcap = (u64)*mmio32(base + HPET_GCAP_HI) << 32 | cap;
	u32 nr = (cap >> HPET_NUM_TIM_SHIFT & HPET_NUM_TIM_MASK) + 1;

	if (!host_hpet_caps_valid(gcap)) {
		printk("uhv: host HPET: none (%s)\n", from);
		return;
	}
	*mmio32(base + HPET_GEN_CONF) &= ~(HPET_GEN_ENABLE | HPET_GEN_LEGACY);
	for (u32 i = 0; i < nr; i++) {
		u32 conf = *mmio32(base + HPET_TIMER_CONF(i));

		on += !!(conf & HPET_TIMER_INT_ENB);
		*mmio32(base + HPET_TIMER_CONF(i)) = conf & ~HPET_TIMER_INT_ENB;
	}
	printk("uhv: host HPET at 0x%llx (%s): stopped, %u timers' interrupts "
	       "off; firmware had left %u on\n", (unsigned long long)base, from,
	       nr, on);
}

/* The HPET its ACPI table names, else one at the usual address only if
   its capabilities register reads true (silence_hpet checks). */
static void silence_hpets(u64 rsdp)
{
	const void *t = host_acpi_find(rsdp, "HPET", identity_map);
	u64 base = t ? host_hpet_base(t) : 0;

	if (t && !base)
		printk("uhv: host HPET: its ACPI table names no memory address\n");
	else if (t)
		silence_hpet(base, "ACPI HPET table");
	else
		silence_hpet(HPET_DEFAULT, "default address, no HPET table");
}

/* The self-test's timed NMI (nmi.h): I/O APIC input 2 as an edge NMI to
   this CPU's APIC id (82093AA §3.2.4), or masked again. */
bool arch_nmi_timer_route(bool on)
{
	u32 id = x2apic() ? (u32)rdmsr(X2APIC_MSR(LAPIC_ID)) :
		 lapic_read(LAPIC_ID) >> XAPIC_ID_SHIFT;

	if (!ioapic_base)
		return false;
	ioapic_write(ioapic_base, IOAPIC_RTE_LO(IOAPIC_PIT_PIN), IOAPIC_RTE_MASKED);
	if (!on)
		return true;
	ioapic_write(ioapic_base, IOAPIC_RTE_HI(IOAPIC_PIT_PIN),
		     (id & BYTE_MASK) << IOAPIC_DEST_SHIFT);
	ioapic_write(ioapic_base, IOAPIC_RTE_LO(IOAPIC_PIT_PIN), IOAPIC_RTE_NMI);
	return true;
}

/* PIT channel 0, mode 0: OUT rises (IRQ 0) when the count runs out. */
void arch_nmi_timer_arm(void)
{
	outb(PIT_CMD, PIT_CH0_MODE0);
	outb(PIT_CH0, PIT_NMI_COUNT & BYTE_MASK);
	outb(PIT_CH0, PIT_NMI_COUNT >> BYTE_SHIFT & BYTE_MASK);
}

bool arch_host_spcr(u64 acpi_rsdp, u16 *port, u32 *baud)
{
	const void *spcr = acpi_rsdp ? host_acpi_find(acpi_rsdp, "SPCR", identity_map)
				     : NULL;

	return spcr && host_spcr_console(spcr, port, baud);
}

void arch_host_irq_init(u64 acpi_rsdp)
{
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
	silence_lapic();
	silence_ioapics(acpi_rsdp);
	silence_hpets(acpi_rsdp);
}

/* EOI register write (§11.8.5): the stray interrupt is done. */
void arch_lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}
