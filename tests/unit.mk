# Host unit tests (Check framework), included by the top-level Makefile.
#
#   make unit-tests       builds build/tests/unit-tests
#   make test-unit-only   runs it: Check's summary, then (last line on stdout)
#                         "N passed, M failed, K skipped" counting test cases; exit
#                         status nonzero if any failed. (The top Makefile's
#                         test-unit runs deps, then this.)
#
# The pure-C parts of uhv are compiled with the host compiler under ASan and
# UBSan. lib/string.c defines memcpy/memset/strlen... under their libc names,
# so it is compiled a second way: with those names renamed to uhv_* (and
# -fno-builtin), which lets test_string.c test them beside libc's, while its
# str_copy (no libc twin) serves config.c.

UNIT_DIR     := $(BUILD)/tests
UNIT_BIN     := $(UNIT_DIR)/unit-tests
UNIT_CC      ?= $(CC)
UNIT_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_CFLAGS  := -std=c11 -Wall -Wextra -Werror -g \
	$(UNIT_SAN) -I. $(shell pkg-config --cflags check 2>/dev/null)
UNIT_LIBS    := $(shell pkg-config --libs check 2>/dev/null)
UNIT_RENAME  := -Dmemcpy=uhv_memcpy -Dmemset=uhv_memset -Dmemmove=uhv_memmove \
	-Dmemcmp=uhv_memcmp -Dstrlen=uhv_strlen -Dstrcmp=uhv_strcmp \
	-Dstrncmp=uhv_strncmp

# Code under test (lib/string.c is added below, renamed).
UNIT_SUT     := vmm/config.c lib/fmt.c lib/date.c arch/x86/pgtable.c arch/x86/ept.c \
	vmm/palloc.c vmm/dev/bus.c vmm/dev/uart.c vmm/dev/fwcfg.c vmm/multiboot.c \
	vmm/emulate.c vmm/dev/lapic.c vmm/dev/ioapic.c vmm/dev/pit.c vmm/dev/pic.c vmm/dev/rtc.c \
	vmm/dev/pci.c vmm/dev/acpi.c vmm/dev/acpi_pm.c vmm/linux.c vmm/virtio/virtqueue.c \
	vmm/virtio/virtio_pci.c vmm/virtio/virtio_pci_cfg.c vmm/virtio/virtio_blk.c vmm/virtio/blk_mem.c \
	vmm/virtio/virtio_net.c vmm/virtio/virtio_net_ctrl.c vmm/net/inet_csum.c \
	vmm/net/bridge.c lib/json.c lib/json_write.c vmm/ctl/ctl.c vmm/ctl/ctl_create.c \
	vmm/ctl/ctl_line.c arch/x86/vmx_caps.c vmm/net/netif.c vmm/net/ipv4.c \
	vmm/virtio/virtio_console.c vmm/ctl/agent.c vmm/rampool.c \
	vmm/net/capture.c lib/bytering.c vmm/cpuid_policy.c lib/tsc_rate.c arch/x86/mtrr.c
UNIT_SUT     += vmm/focus.c drivers/blkdev_names.c vmm/vm_console.c drivers/console_line.c
UNIT_SUT     += arch/x86/mce_decode.c arch/x86/host_acpi.c
UNIT_SUT     += arch/x86/vcpu_current.c arch/x86/dbgreg.c
UNIT_TESTS   := $(addprefix tests/unit/, main.c test_acpi.c test_bus.c \
	test_config.c test_decode.c test_devices.c test_fmt.c test_ioapic.c \
	test_lapic.c test_lapic_timer.c test_linux.c test_multiboot.c \
	test_palloc.c test_rampool.c test_bytering.c test_bytes.c test_pgtable.c test_pit.c test_platform_misc.c \
	test_string.c test_translate.c test_virtqueue.c test_virtio_pci.c \
	test_virtio_blk.c test_virtio_net.c test_virtio_net_ctrl.c test_virtio_net_defer.c virtio_driver.c bridge_dump.c test_bridge.c test_json.c test_ctl.c \
	test_vmx_caps.c test_cpuid.c test_tsc_rate.c test_mtrr.c test_netif.c test_virtio_console.c test_agent.c test_capture.c cpuid_dumps.c)
UNIT_TESTS   += tests/unit/test_vm_load.c tests/unit/test_vm_console.c
# the instruction emulator's executor, tested against this CPU
UNIT_SUT     += vmm/emu_exec.c
UNIT_TESTS   += tests/unit/test_emulate_diff.c
UNIT_TESTS   += tests/unit/test_mce.c tests/unit/test_host_acpi.c
UNIT_TESTS   += tests/unit/test_vcpu_current.c tests/unit/test_dbgreg.c
# the exit trace's ring (vmm/trace/)
UNIT_SUT     += vmm/trace/exit_trace.c
UNIT_TESTS   += tests/unit/test_trace.c
# the GDB remote protocol stub (vmm/gdb/)
UNIT_SUT     += vmm/gdb/gdb_stub.c vmm/gdb/gdb_mem.c vmm/gdb/gdb_regs.c
UNIT_TESTS   += tests/unit/test_gdb_stub.c
# the NVMe driver's commands, completions and PRP lists
UNIT_SUT     += drivers/nvme_cmd.c
UNIT_TESTS   += tests/unit/test_nvme.c
# network address and port translation (vmm/net/nat.c)
UNIT_SUT     += vmm/net/nat.c
UNIT_TESTS   += tests/unit/test_nat.c
# the DHCP server of uhv's own address (vmm/net/dhcp_server.c)
UNIT_SUT     += vmm/net/dhcp_server.c vmm/net/dhcp_msg.c vmm/net/dhcp_client.c vmm/net/nat_router.c
UNIT_TESTS   += tests/unit/test_dhcp.c
# a NAT network's router and uhv's DHCP client (vmm/net/nat_router.c)
UNIT_TESTS   += tests/unit/test_nat_router.c
# uhv's own TCP (vmm/net/tcp.c)
UNIT_SUT     += vmm/net/tcp.c
UNIT_TESTS   += tests/unit/test_tcp.c
UNIT_OBJ     := $(UNIT_SUT:%.c=$(UNIT_DIR)/obj/%.o) \
	$(UNIT_TESTS:%.c=$(UNIT_DIR)/obj/%.o) $(UNIT_DIR)/obj/lib/string_renamed.o

unit-tests: $(UNIT_BIN)

$(UNIT_BIN): $(UNIT_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(UNIT_CC) $(UNIT_SAN) -g $^ $(UNIT_LIBS) -o $@

$(UNIT_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-HOST $@"
	@$(UNIT_CC) $(UNIT_CFLAGS) -MMD -MP -c $< -o $@

$(UNIT_DIR)/obj/lib/string_renamed.o: lib/string.c
	@mkdir -p $(dir $@)
	@echo "  CC-HOST $@"
	@$(UNIT_CC) $(UNIT_CFLAGS) -fno-builtin -fno-tree-loop-distribute-patterns \
		$(UNIT_RENAME) -MMD -MP -c $< -o $@

# Check forks per test; LeakSanitizer stays on, so tests free what they take.
test-unit-only: $(UNIT_BIN)
	@ASAN_OPTIONS=abort_on_error=0:$${ASAN_OPTIONS:-} \
	UHV_TEST_VMLINUZ=$(BUILD)/linux/vmlinuz UBSAN_OPTIONS=print_stacktrace=1:$${UBSAN_OPTIONS:-} $(UNIT_BIN)
