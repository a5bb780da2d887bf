/*
 * Switching the machine off. UEFI runtime services stay callable after
 * ExitBootServices at their physical addresses (UEFI 2.10 §8), and uhv's
 * identity map keeps those addresses valid, so ResetSystem(Shutdown) works
 * on real machines, QEMU and Bochs alike. If it ever returns, the Bochs
 * shutdown port is tried, then the CPU halts.
 */
#include "arch/x86/power.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "drivers/serial.h"

#define EFI_RESET_SHUTDOWN 2
#define BOCHS_SHUTDOWN_PORT 0x8900   /* "Shutdown" written here ends Bochs */

typedef void (__attribute__((ms_abi)) *efi_reset_system_fn)(
	int type, u64 status, u64 data_size, void *data);

/* EFI_RUNTIME_SERVICES up to ResetSystem (UEFI 2.10 §4.5). */
struct efi_runtime_services {
	u8 header[24];
	u64 get_time, set_time, get_wakeup_time, set_wakeup_time;
	u64 set_virtual_address_map, convert_pointer;
	u64 get_variable, get_next_variable_name, set_variable;
	u64 get_next_high_monotonic_count;
	efi_reset_system_fn reset_system;
};

static const struct efi_runtime_services *runtime;

void power_init(unsigned long long efi_runtime)
{
	runtime = (const void *)(uintptr_t)efi_runtime;
}

void power_off(const char *why)
{
	printk("uhv: poweroff: %s\n", why);
	serial_drain();   /* the FIFO would be lost with the power */
	if (runtime && runtime->reset_system)
		runtime->reset_system(EFI_RESET_SHUTDOWN, 0, 0, NULL);
	for (const char *s = "Shutdown"; *s; s++)
		outb(BOCHS_SHUTDOWN_PORT, (u8)*s);
	cpu_halt_forever();
	__builtin_unreachable();
}
