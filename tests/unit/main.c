/*
 * Runs every suite. Check prints its summary and the failures; the last
 * line is "N passed, M failed, K skipped" (test cases), as the test harness
 * expects: a test that called UNIT_SKIP is counted as skipped, not passed.
 * Exit status 1 if any test failed.
 */
#define _DEFAULT_SOURCE            /* MAP_ANONYMOUS */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "unit.h"

/* Check runs each test in a forked process: the skip count is in a shared
   mapping made before the first fork. */
static int *skipped;

void unit_skip(const char *test, const char *why)
{
	fprintf(stderr, "%s: %s, skipped\n", test, why);
	if (skipped)
		__atomic_add_fetch(skipped, 1, __ATOMIC_SEQ_CST);
}

int main(void)
{
	Suite *(*const suites[])(void) = {
		config_suite, pgtable_suite, palloc_suite, rampool_suite, bytering_suite, bytes_suite, bus_suite,
		devices_suite, multiboot_suite, decode_suite, emulate_diff_suite, translate_suite,
		fmt_suite, string_suite, lapic_suite, lapic_timer_suite,
		ioapic_suite, pit_suite, platform_misc_suite, acpi_suite,
		linux_suite, virtqueue_suite, virtio_pci_suite, virtio_blk_suite,
		virtio_net_suite, virtio_net_ctrl_suite, virtio_net_defer_suite,
		bridge_suite, json_suite, ctl_suite, vmx_caps_suite, cpuid_suite, tsc_rate_suite, mtrr_suite, netif_suite,
		virtio_console_suite, agent_suite, capture_suite, trace_suite,
		vm_load_suite, vm_console_suite,
		mce_suite, host_acpi_suite, vcpu_current_suite, dbgreg_suite,
		gdb_suite, nvme_suite, nat_suite, dhcp_suite, nat_router_suite, tcp_suite,
	};
	SRunner *sr = srunner_create(NULL);
	int run, failed, skip;

	skipped = mmap(NULL, sizeof(*skipped), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (skipped == MAP_FAILED) {
		perror("mmap");
		return EXIT_FAILURE;
	}
	*skipped = 0;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	skip = __atomic_load_n(skipped, __ATOMIC_SEQ_CST);
	/* A test that skipped and then failed (in its teardown, say) counts
	   as failed only. */
	if (skip > run - failed)
		skip = run - failed;
	fflush(stdout);
	printf("%d passed, %d failed, %d skipped\n", run - failed - skip, failed, skip);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
