/*
 * The ACPI fixed-hardware PM register block (ACPI 6.x §4.8): PM1a event
 * (status and enable), PM1a control and the PM timer, in one run of I/O
 * ports that the FADT built by acpi.c points at. A bus device like the
 * UART and fw_cfg: pure C, the clock and the power-off come in as ops, so
 * the unit tests drive it with a fake clock.
 *
 *   pm_base + 0   PM1a_STS  16 bits, write 1 to clear       (§4.8.3.1.1)
 *   pm_base + 2   PM1a_EN   16 bits, read/write             (§4.8.3.1.2)
 *   pm_base + 4   PM1a_CNT  16 bits; SLP_EN starts a sleep   (§4.8.3.2.1)
 *   pm_base + 6   (hole, 2 bytes: reads all ones)
 *   pm_base + 8   PM_TMR    32 bits, 24-bit count, read-only (§4.8.3.3)
 */
#ifndef UHV_VMM_ACPI_PM_H
#define UHV_VMM_ACPI_PM_H

#include "lib/types.h"

/* The block's layout: offsets from pm_base and the FADT's lengths. */
#define ACPI_PM1_EVT_OFF  0     /* PM1a_EVT_BLK: STS then EN */
#define ACPI_PM1_STS_OFF  0
#define ACPI_PM1_EN_OFF   2
#define ACPI_PM1_CNT_OFF  4     /* PM1a_CNT_BLK */
#define ACPI_PM_TMR_OFF   8     /* PM_TMR_BLK */
#define ACPI_PM1_EVT_LEN  4     /* FADT PM1_EVT_LEN: two 16-bit halves */
#define ACPI_PM1_CNT_LEN  2     /* FADT PM1_CNT_LEN */
#define ACPI_PM_TMR_LEN   4     /* FADT PM_TMR_LEN */
#define ACPI_PM_PORT_LEN  12    /* what to register on the port bus */

/* The PM timer runs at 3.579545 MHz (§4.8.3.3) and, without the FADT's
   TMR_VAL_EXT flag, counts in 24 bits. */
#define ACPI_PM_TIMER_HZ   3579545ULL
#define ACPI_PM_TIMER_BITS 24
#define ACPI_PM_TIMER_MASK ((1ULL << ACPI_PM_TIMER_BITS) - 1)

/* The SLP_TYP value the DSDT's \_S5 package gives for soft-off: the
   contract between the tables (acpi.c) and this device. */
#define ACPI_SLP_TYP_S5 5

/* PM1 status bits (§4.8.3.1.1) and enable bits (§4.8.3.1.2). */
#define ACPI_PM1_TMR_STS     BIT(0)
#define ACPI_PM1_BM_STS      BIT(4)
#define ACPI_PM1_GBL_STS     BIT(5)
#define ACPI_PM1_PWRBTN_STS  BIT(8)
#define ACPI_PM1_SLPBTN_STS  BIT(9)
#define ACPI_PM1_RTC_STS     BIT(10)
#define ACPI_PM1_PCIEXP_WAKE_STS BIT(14)
#define ACPI_PM1_WAK_STS     BIT(15)
#define ACPI_PM1_TMR_EN      BIT(0)
#define ACPI_PM1_GBL_EN      BIT(5)
#define ACPI_PM1_PWRBTN_EN   BIT(8)
#define ACPI_PM1_SLPBTN_EN   BIT(9)
#define ACPI_PM1_RTC_EN      BIT(10)
#define ACPI_PM1_PCIEXP_WAKE_DIS BIT(14)

/* PM1 control bits (§4.8.3.2.1). */
#define ACPI_PM1_SCI_EN       BIT(0)
#define ACPI_PM1_BM_RLD       BIT(1)
#define ACPI_PM1_GBL_RLS      BIT(2)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK (7ULL << ACPI_PM1_SLP_TYP_SHIFT)
#define ACPI_PM1_SLP_EN       BIT(13)

/* The largest tick rate the timer arithmetic takes (see acpi_pm_timer):
   r * ACPI_PM_TIMER_HZ must fit in 64 bits for every r < tick_hz. */
#define ACPI_PM_MAX_TICK_HZ 1000000000000ULL   /* 1 THz */

struct acpi_pm_ops {
	/* A monotonic counter running at the tick_hz given to acpi_pm_init
	   (uhv: the TSC). It may wrap at 2^64. Required. */
	u64 (*ticks)(void *ctx);
	/* The guest asked for S5 (soft-off); called once. May be NULL. */
	void (*poweroff)(void *ctx);
	/* The guest asked for another sleep state typ (0-7, not 5), which
	   uhv does not have; it is refused and the guest resumes at once.
	   May be NULL. */
	void (*sleep_unsupported)(void *ctx, unsigned typ);
	/* The SCI line's level changed (a fixed event's STS and EN bits
	   both set, §4.8.3.1). May be NULL. */
	void (*sci)(void *ctx, bool level);
};

struct acpi_pm {
	const struct acpi_pm_ops *ops;
	void *ctx;
	u64 tick_hz;
	u64 start;          /* ticks() when the timer read 0 */
	u64 tmr_epoch;      /* timer count >> 23 when PM1_STS was last accessed */
	u16 sts, en, cnt;   /* PM1a_STS, PM1a_EN, PM1a_CNT as stored */
	bool off;           /* S5 was entered: the device ignores writes */
	bool sci;           /* the SCI line's level */
};

/*
 * Resets pm: all registers clear, the timer at 0 from now on. tick_hz is
 * the rate of ops->ticks, 1 .. ACPI_PM_MAX_TICK_HZ. Returns 0, or -1 (pm
 * untouched) if ops, ops->ticks or tick_hz is unusable.
 */
int acpi_pm_init(struct acpi_pm *pm, const struct acpi_pm_ops *ops,
		 void *ctx, u64 tick_hz);

/*
 * The PM timer's count now, in [0, 2^24): ticks since acpi_pm_init scaled
 * to 3.579545 MHz, exact (floor) for any elapsed count of ticks, as only
 * its low 24 bits matter.
 */
u32 acpi_pm_timer(const struct acpi_pm *pm);

/*
 * Someone pressed the power button (uhv's control channel, stop): sets
 * PWRBTN_STS, which raises the SCI if the guest enabled PWRBTN_EN
 * (§4.8.3.1.1, §4.8.2.2.1: the fixed-feature power button). The OSPM
 * then clears the status and typically shuts down through S5.
 */
void acpi_pm_power_button(struct acpi_pm *pm);

/* Bus callbacks (struct bus_device): off is relative to pm_base, any size
   at any offset in [0, ACPI_PM_PORT_LEN). Bytes in the hole read 0xff. */
u64 acpi_pm_read(void *dev, u64 off, unsigned size);
void acpi_pm_write(void *dev, u64 off, unsigned size, u64 val);

#endif
