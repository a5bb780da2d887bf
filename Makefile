# uhv: build, run and test. `make help` lists the targets.
#
# Two binaries are built from one tree:
#   build/uhv-core.elf  the hypervisor core, freestanding, linked with
#                       linker.ld at -2 GiB (-mcmodel=kernel);
#   build/BOOTX64.EFI   the UEFI loader (GNU-EFI), with the core embedded.
# Pure C parts (config parser, page-table builder, VMX capability check)
# are compiled into both, and into the host unit tests.

BUILD    := build
CC       := gcc
NASM     := nasm
LD       := ld
OBJCOPY  := objcopy

WARN     := -Wall -Wextra -Werror
CORE_CFLAGS := -std=c11 $(WARN) -O2 -g -ffreestanding -fno-pic -fno-pie \
	-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns -I. \
	-ffunction-sections -fdata-sections
EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
EFI_CFLAGS := -std=gnu11 $(WARN) -O2 -I$(EFI_INC) -I$(EFI_INC)/x86_64 \
	-fpic -fshort-wchar -mno-red-zone -ffreestanding -fno-stack-protector \
	-fno-tree-loop-distribute-patterns -DEFI_FUNCTION_WRAPPER -DUHV_LOADER -I.

# Listed, not globbed: a half-written file never breaks the build.
# vmm/ is the VMM proper; its sub-folders are the pure-C parts over guest
# memory (docs/layering.md): dev/ the platform's device models, virtio/,
# net/ the bridge and uhv's own address, ctl/ the management protocol.
VMM_C    := vmm/cpu_exits.c vmm/cpuid_policy.c vmm/emulate.c vmm/emu_exec.c vmm/exit.c \
	    vmm/focus.c vmm/io_exits.c vmm/linux.c vmm/main.c vmm/msr.c \
	    vmm/multiboot.c vmm/palloc.c vmm/platform.c vmm/sched.c \
	    vmm/stats.c vmm/vm.c vmm/vm_disks.c vmm/vm_virtio.c vmm/vm_nics.c \
	    vmm/config.c vmm/rampool.c vmm/capture_port.c vmm/blk_host.c \
	    vmm/vm_agent.c vmm/vm_mem.c \
	    vmm/host_events.c vmm/vm_console.c vmm/uplink.c vmm/metrics.c
VMM_C    += $(addprefix vmm/dev/, acpi.c acpi_pm.c bus.c fwcfg.c ioapic.c \
	    lapic.c pci.c pic.c pit.c rtc.c uart.c)
VMM_C    += $(addprefix vmm/virtio/, virtio_blk.c virtio_pci.c \
	    virtio_pci_cfg.c virtqueue.c virtio_net.c virtio_net_ctrl.c \
	    blk_mem.c virtio_console.c)
VMM_C    += $(addprefix vmm/net/, bridge.c inet_csum.c ipv4.c netif.c capture.c \
	    dhcp_server.c dhcp_msg.c dhcp_client.c nat.c nat_router.c tcp.c)
VMM_C    += $(addprefix vmm/ctl/, ctl.c ctl_create.c ctl_line.c ctl_chan.c \
	    ctl_vms.c agent.c)
# trace/, pure too: the exit trace's ring; vm_trace.c fills it from exits
VMM_C    += vmm/trace/exit_trace.c vmm/vm_trace.c vmm/vm_gdb.c
# gdb/, pure too: the GDB remote protocol stub over struct gdb_target_ops
VMM_C    += $(addprefix vmm/gdb/, gdb_stub.c gdb_mem.c gdb_regs.c)
CORE_C   := $(wildcard arch/x86/*.c) $(VMM_C) \
	    $(wildcard drivers/*.c) $(wildcard lib/*.c)
CORE_ASM := arch/x86/entry.asm arch/x86/trap_stubs.asm arch/x86/vmx_entry.asm
LOADER_C := boot/loader.c boot/pci_map.c lib/fmt.c lib/string.c vmm/config.c lib/date.c \
	    arch/x86/vmx_caps.c arch/x86/pgtable.c arch/x86/host_acpi.c \
	    arch/x86/mtrr.c \
	    lib/tsc_rate.c

CORE_OBJ   := $(CORE_C:%.c=$(BUILD)/core/%.o) $(CORE_ASM:%.asm=$(BUILD)/core/%.o)
LOADER_OBJ := $(LOADER_C:%.c=$(BUILD)/loader/%.o) $(BUILD)/loader/core_blob.o

.PHONY: all help guests unit-tests test test-unit test-unit-only \
	test-system test-long soak run bench image deps clean

all: $(BUILD)/BOOTX64.EFI guests unit-tests uhvctl agent

help:
	@echo "make            build uhv (build/BOOTX64.EFI), guest tests, unit tests"
	@echo "make run        boot uhv with a demo of several VMs under Bochs"
	@echo "make test       unit tests + system tests; last line 'N passed, M failed, K skipped'"
	@echo "make uhvctl     build/tools/uhvctl, the management client (make test-uhvctl: its tests)"
	@echo "make bench      exits and instruction counts (exact under Bochs)"
	@echo "make image      build/uhv.img: GPT disk with an ESP, for QEMU or a USB stick"

deps:
	@bash tools/deps.sh

$(BUILD)/core/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CORE_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/core/%.o: %.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 $< -o $@

# A section per function and object (CORE_CFLAGS), and --gc-sections: what
# nothing in the core reaches (helpers of the pure parts that only the unit
# tests and fuzzers call) is left out of uhv. linker.ld KEEPs the entry.
$(BUILD)/uhv-core.elf: $(CORE_OBJ) linker.ld
	$(LD) -nostdlib -static -z max-page-size=4096 -z noexecstack -T linker.ld \
		--gc-sections $(CORE_OBJ) -o $@

$(BUILD)/loader/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-EFI  $@"
	@$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

# The embedded copy carries no debug info; build/uhv-core.elf keeps it.
$(BUILD)/uhv-core.stripped: $(BUILD)/uhv-core.elf
	$(OBJCOPY) --strip-debug $< $@

$(BUILD)/loader/core_blob.o: boot/core_blob.asm $(BUILD)/uhv-core.stripped
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -DCORE_ELF='"$(BUILD)/uhv-core.stripped"' $< -o $@

# A UEFI application: GNU-EFI's crt0 and linker script, then the PE image.
EFI_LINK = $(LD) -nostdlib -znocombreloc -z noexecstack -T $(EFI_LIB)/elf_x86_64_efi.lds \
	-shared -Bsymbolic -L$(EFI_LIB) $(EFI_LIB)/crt0-efi-x86_64.o
EFI_IMAGE = $(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
	-j .rela -j .reloc --target=efi-app-x86_64

$(BUILD)/uhv-loader.so: $(LOADER_OBJ)
	$(EFI_LINK) $(LOADER_OBJ) -o $@ -lefi -lgnuefi

$(BUILD)/BOOTX64.EFI: $(BUILD)/uhv-loader.so
	$(EFI_IMAGE) $< $@
	@echo "built $@"

# make bench's baseline for the Linux boot: a UEFI application that boots
# the test guest's kernel straight from the firmware (tests/bench/linux_direct.c)
$(BUILD)/linux-direct.so: $(BUILD)/loader/tests/bench/linux_direct.o
	$(EFI_LINK) $< -o $@ -lefi -lgnuefi

$(BUILD)/linux-direct.efi: $(BUILD)/linux-direct.so
	$(EFI_IMAGE) $< $@

guests:
	$(MAKE) -C guest-tests

# The guest agent for Linux guests (agent/README.md), static, for the
# test initramfs (tools/mk-linux-guest.sh).
.PHONY: agent
agent: $(BUILD)/agent/uhv-agent $(BUILD)/agent/xstate-check $(BUILD)/agent/uhv-tsc

$(BUILD)/agent/uhv-agent: agent/uhv-agent.c
	@mkdir -p $(dir $@)
	@echo "  CC-AGENT $@"
	@$(CC) -static -Os -std=gnu11 $(WARN) $< -o $@

# The TSC at /init, for a kernel booted without uhv (uhv.direct).
$(BUILD)/agent/uhv-tsc: guest-tests/linux/tsc.c
	@mkdir -p $(dir $@)
	@echo "  CC-AGENT $@"
	@$(CC) -static -O2 -std=gnu11 $(WARN) $< -o $@

# The vector-state check the test guest runs with uhv.xstate.
$(BUILD)/agent/xstate-check: guest-tests/linux/xstate-check.c
	@mkdir -p $(dir $@)
	@echo "  CC-AGENT $@"
	@$(CC) -static -O2 -std=gnu11 $(WARN) $< -o $@

-include tests/unit.mk
-include tools/uhvctl/uhvctl.mk
-include tests/fuzz/fuzz.mk

# ---------------------------------------------------------------- running
# The demo of `make run`: two CPU-bound VMs sharing the CPU, a VM that
# halts for good and one that triple-faults, beside the hello and cpuid
# tests. Each line is one --guest of tools/uhv-run.
G := guest-tests/build
DEMO := --guest "$(G)/hello.elf,name=hello,cmdline=hello from the demo" \
	--guest $(G)/cpuid.elf,name=cpuid \
	--guest "$(G)/progress.elf,name=busy1,cmdline=expect-preempt ticks=100000000" \
	--guest "$(G)/progress.elf,name=busy2,cmdline=expect-preempt ticks=100000000" \
	--guest $(G)/halt.elf,name=sleeper --expect sleeper=halted \
	--guest $(G)/triplefault.elf,name=crasher --expect crasher=triple-fault

run: deps
	$(MAKE) --no-print-directory $(BUILD)/BOOTX64.EFI guests uhvctl
	tools/uhv-run --timeout 300 $(DEMO)

image: $(BUILD)/BOOTX64.EFI guests
	rm -rf $(BUILD)/esp
	tools/uhv-run --build-esp $(BUILD)/esp $(DEMO)
	tools/mkimage $(BUILD)/uhv.img $(BUILD)/esp
	@echo "built $(BUILD)/uhv.img (dd it to a USB stick, or boot it in QEMU: see README)"

bench: deps
	$(MAKE) --no-print-directory $(BUILD)/BOOTX64.EFI guests
	tools/bench.sh

# ---------------------------------------------------------------- testing
# make test: unit tests, then system tests (under Bochs); the last line
# is the total "N passed, M failed, K skipped".
test: deps
	$(MAKE) --no-print-directory all
	tools/mk-linux-guest.sh
	tools/mk-test-disks.sh
	tests/run-all.sh

# make test-long: the groups too long for make test (a 'long' directive)
# and the groups with a 'models' line (basic, isolation, interrupts, linux)
# on every other Bochs CPU model with VT-x and EPT, as GROUP@MODEL, the
# LAN test with a static NAT address on Tiger Lake, then the soak (make
# soak, SOAK_MINUTES); it fails if any failed. CI runs it when time is
# left.
test-long: deps
	$(MAKE) --no-print-directory all
	tools/mk-linux-guest.sh
	tools/mk-test-disks.sh
	tests/system/run.sh --long; s=$$?; \
	LAN_OUTSIDE=static LAN_CPU=tigerlake tests/system/lan.sh || s=1; \
	tests/system/soak.sh || s=1; exit $$s

# make soak: uhv under Bochs for SOAK_MINUTES (default 30) minutes of
# wall time with everything at once (tests/system/soak.sh: two Linux
# guests moving data over the bridge and writing their disks, busy and
# halting Multiboot guests, agents, and a control script that pauses,
# resumes, stops and re-creates VMs and reads stats every second)
soak: deps
	$(MAKE) --no-print-directory all
	tools/mk-linux-guest.sh
	tests/system/soak.sh

test-unit: deps
	$(MAKE) --no-print-directory test-unit-only

test-system: deps
	$(MAKE) --no-print-directory $(BUILD)/BOOTX64.EFI guests
	tools/mk-linux-guest.sh
	tools/mk-test-disks.sh
	tests/system/run.sh
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

clean:
	rm -rf $(BUILD)
	$(MAKE) -C guest-tests clean
