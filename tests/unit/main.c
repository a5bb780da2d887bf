/*
 * Runs every suite. Check prints its summary and the failures; the last
 * line is "N passed, M failed" (test cases), as the test harness expects.
 * Exit status 1 if any test failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include "unit.h"

int main(void)
{
	Suite *(*const suites[])(void) = {
		config_suite, pgtable_suite, palloc_suite, rampool_suite, bytering_suite, bus_suite,
		devices_suite, multiboot_suite, decode_suite, translate_suite,
		fmt_suite, string_suite, lapic_suite, lapic_timer_suite,
		ioapic_suite, pit_suite, platform_misc_suite, acpi_suite,
		linux_suite, virtqueue_suite, virtio_pci_suite, virtio_blk_suite,
		virtio_net_suite, virtio_net_ctrl_suite, virtio_net_defer_suite,
		bridge_suite, json_suite, ctl_suite, vmx_caps_suite, netif_suite,
		virtio_console_suite, agent_suite, capture_suite,
	};
	SRunner *sr = srunner_create(NULL);
	int run, failed;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	fflush(stdout);
	printf("%d passed, %d failed\n", run - failed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
