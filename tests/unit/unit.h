/* The host unit tests' suites (one per module), run by main.c. */
#ifndef UHV_TESTS_UNIT_H
#define UHV_TESTS_UNIT_H

#include <check.h>

Suite *config_suite(void);
Suite *nvme_suite(void);
Suite *nat_suite(void);
Suite *dhcp_suite(void);
Suite *nat_router_suite(void);
Suite *tcp_suite(void);
Suite *pgtable_suite(void);
Suite *palloc_suite(void);
Suite *rampool_suite(void);
Suite *bytering_suite(void);
Suite *bytes_suite(void);
Suite *bus_suite(void);
Suite *devices_suite(void);
Suite *multiboot_suite(void);
Suite *decode_suite(void);
Suite *emulate_diff_suite(void);
Suite *translate_suite(void);
Suite *fmt_suite(void);
Suite *string_suite(void);
Suite *lapic_suite(void);
Suite *lapic_timer_suite(void);
Suite *ioapic_suite(void);
Suite *pit_suite(void);
Suite *platform_misc_suite(void);
Suite *acpi_suite(void);
Suite *linux_suite(void);
Suite *virtqueue_suite(void);
Suite *virtio_pci_suite(void);
Suite *virtio_blk_suite(void);
Suite *virtio_net_suite(void);
Suite *virtio_net_ctrl_suite(void);
Suite *virtio_net_defer_suite(void);
Suite *bridge_suite(void);
Suite *json_suite(void);
Suite *ctl_suite(void);
Suite *trace_suite(void);
Suite *gdb_suite(void);
Suite *vmx_caps_suite(void);
Suite *cpuid_suite(void);
Suite *tsc_rate_suite(void);
Suite *mtrr_suite(void);
Suite *netif_suite(void);
Suite *virtio_console_suite(void);
Suite *agent_suite(void);
Suite *capture_suite(void);
Suite *vm_load_suite(void);
Suite *vm_console_suite(void);
Suite *mce_suite(void);
Suite *host_acpi_suite(void);
Suite *vcpu_current_suite(void);
Suite *dbgreg_suite(void);

/* A test that cannot run here (a file or a mapping it needs is missing)
   calls UNIT_SKIP: it prints "TEST: WHY, skipped" and returns, and main.c
   reports it as skipped, not passed. The count lives in memory shared
   with the forked test processes. */
void unit_skip(const char *test, const char *why);
#define UNIT_SKIP(test, why) do { unit_skip(test, why); return; } while (0)

#endif
