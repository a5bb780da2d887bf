#ifndef UHV_ARCH_POWER_H
#define UHV_ARCH_POWER_H

/* Remembers the firmware's runtime services table (physical address). */
void power_init(unsigned long long efi_runtime);
/* Prints "uhv: poweroff: <why>" and switches the machine off. */
__attribute__((noreturn)) void power_off(const char *why);

#endif
