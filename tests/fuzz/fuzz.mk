# libFuzzer harnesses (clang), for the top-level Makefile (-include
# tests/fuzz/fuzz.mk) or on their own (make -f tests/fuzz/fuzz.mk fuzz).
#
#   make fuzz                  builds build/fuzz/fuzz_virtio_blk and runs it
#                              for FUZZ_RUNS inputs (default 1000000);
#                              exit status nonzero on a crash, whose input
#                              libFuzzer leaves in build/fuzz/
#   make fuzz FUZZ_RUNS=0      builds and runs until stopped
#   make fuzz FUZZ_ARGS=-jobs=4  any further libFuzzer options
#
# The corpus grows in build/fuzz/corpus-virtio-blk/ from run to run.
# clang comes from Debian's clang package (tools/deps.sh does not install it).

BUILD       ?= build
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_CC     ?= clang
FUZZ_RUNS   ?= 1000000
FUZZ_ARGS   ?=
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I.
FUZZ_BLK_SRC := tests/fuzz/fuzz_virtio_blk.c tests/unit/virtio_driver.c \
	vmm/virtio/virtqueue.c vmm/virtio/virtio_pci.c vmm/virtio/virtio_pci_cfg.c vmm/virtio/virtio_blk.c \
	vmm/virtio/blk_mem.c vmm/dev/pci.c lib/fmt.c
FUZZ_BLK_BIN := $(FUZZ_DIR)/fuzz_virtio_blk

.PHONY: fuzz fuzz-build

fuzz-build: $(FUZZ_BLK_BIN)

fuzz: $(FUZZ_BLK_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus-virtio-blk
	$(FUZZ_BLK_BIN) -runs=$(FUZZ_RUNS) -artifact_prefix=$(FUZZ_DIR)/ \
		$(FUZZ_ARGS) $(FUZZ_DIR)/corpus-virtio-blk

$(FUZZ_BLK_BIN): $(FUZZ_BLK_SRC) $(wildcard vmm/*.h vmm/*/*.h lib/*.h tests/unit/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || \
		{ echo "fuzz: $(FUZZ_CC) not found (apt-get install clang)"; exit 1; }
	@echo "  FUZZ-CC $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_BLK_SRC) -o $@

# The management protocol (lib/json*.c, vmm/ctl/ctl*.c): make fuzz-json.
# config.c needs str_copy from lib/string.c, whose libc names are
# renamed (as tests/unit.mk does) so they do not clash with libc's.
FUZZ_JSON_SRC := tests/fuzz/fuzz_json.c lib/json.c lib/json_write.c \
	vmm/ctl/ctl.c vmm/ctl/ctl_create.c vmm/ctl/ctl_line.c vmm/config.c lib/fmt.c \
	vmm/trace/exit_trace.c
FUZZ_JSON_BIN := $(FUZZ_DIR)/fuzz_json
FUZZ_STRING_O := $(FUZZ_DIR)/string_renamed.o
FUZZ_RENAME   := -Dmemcpy=uhv_memcpy -Dmemset=uhv_memset \
	-Dmemmove=uhv_memmove -Dmemcmp=uhv_memcmp -Dstrlen=uhv_strlen \
	-Dstrcmp=uhv_strcmp -Dstrncmp=uhv_strncmp

.PHONY: fuzz-json fuzz-bridge
fuzz-build: $(FUZZ_JSON_BIN)
fuzz: fuzz-json fuzz-bridge

fuzz-json: $(FUZZ_JSON_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus-json
	$(FUZZ_JSON_BIN) -runs=$(FUZZ_RUNS) -max_len=8192 \
		-artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_ARGS) $(FUZZ_DIR)/corpus-json

$(FUZZ_STRING_O): lib/string.c lib/string.h lib/types.h
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(filter-out -fsanitize=%,$(FUZZ_CFLAGS)) \
		-fsanitize=fuzzer-no-link,address,undefined -fno-builtin \
		$(FUZZ_RENAME) -c $< -o $@

$(FUZZ_JSON_BIN): $(FUZZ_JSON_SRC) $(FUZZ_STRING_O) $(wildcard vmm/*.h vmm/*/*.h lib/*.h)
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || \
		{ echo "fuzz: $(FUZZ_CC) not found (apt-get install clang)"; exit 1; }
	@echo "  FUZZ-CC $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_JSON_SRC) $(FUZZ_STRING_O) -o $@

# The bridge (vmm/net/bridge.c): make fuzz-bridge.
FUZZ_BRIDGE_SRC := tests/fuzz/fuzz_bridge.c vmm/net/bridge.c tests/unit/bridge_dump.c \
	vmm/net/inet_csum.c lib/fmt.c
FUZZ_BRIDGE_BIN := $(FUZZ_DIR)/fuzz_bridge

fuzz-build: $(FUZZ_BRIDGE_BIN)

fuzz-bridge: $(FUZZ_BRIDGE_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus-bridge
	$(FUZZ_BRIDGE_BIN) -runs=$(FUZZ_RUNS) -max_len=1024 \
		-artifact_prefix=$(FUZZ_DIR)/bridge- $(FUZZ_ARGS) $(FUZZ_DIR)/corpus-bridge

$(FUZZ_BRIDGE_BIN): $(FUZZ_BRIDGE_SRC) $(wildcard vmm/*.h vmm/*/*.h lib/*.h) \
		tests/unit/bridge_dump.h
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || \
		{ echo "fuzz: $(FUZZ_CC) not found (apt-get install clang)"; exit 1; }
	@echo "  FUZZ-CC $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_BRIDGE_SRC) -o $@

# The virtio-net device (vmm/virtio/virtio_net*.c): make fuzz-net.
FUZZ_NET_SRC := tests/fuzz/fuzz_virtio_net.c tests/unit/virtio_driver.c \
	vmm/virtio/virtqueue.c vmm/virtio/virtio_pci.c vmm/virtio/virtio_pci_cfg.c vmm/virtio/virtio_net.c \
	vmm/virtio/virtio_net_ctrl.c vmm/net/inet_csum.c vmm/dev/pci.c lib/fmt.c
FUZZ_NET_BIN := $(FUZZ_DIR)/fuzz_virtio_net

.PHONY: fuzz-net
fuzz-build: $(FUZZ_NET_BIN)
fuzz: fuzz-net

fuzz-net: $(FUZZ_NET_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus-virtio-net
	$(FUZZ_NET_BIN) -runs=$(FUZZ_RUNS) -max_len=4096 \
		-artifact_prefix=$(FUZZ_DIR)/net- $(FUZZ_ARGS) $(FUZZ_DIR)/corpus-virtio-net

$(FUZZ_NET_BIN): $(FUZZ_NET_SRC) $(wildcard vmm/*.h vmm/*/*.h lib/*.h tests/unit/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || \
		{ echo "fuzz: $(FUZZ_CC) not found (apt-get install clang)"; exit 1; }
	@echo "  FUZZ-CC $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_NET_SRC) -o $@

# The guest agent channel (vmm/virtio/virtio_console.c + vmm/ctl/agent.c):
# make fuzz-console.
FUZZ_CONSOLE_SRC := tests/fuzz/fuzz_virtio_console.c tests/unit/virtio_driver.c \
	vmm/virtio/virtqueue.c vmm/virtio/virtio_pci.c vmm/virtio/virtio_pci_cfg.c \
	vmm/virtio/virtio_console.c vmm/ctl/agent.c vmm/dev/pci.c lib/fmt.c lib/bytering.c
FUZZ_CONSOLE_BIN := $(FUZZ_DIR)/fuzz_virtio_console

.PHONY: fuzz-console
fuzz-build: $(FUZZ_CONSOLE_BIN)
fuzz: fuzz-console

fuzz-console: $(FUZZ_CONSOLE_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus-virtio-console
	$(FUZZ_CONSOLE_BIN) -runs=$(FUZZ_RUNS) -max_len=4096 \
		-artifact_prefix=$(FUZZ_DIR)/console- $(FUZZ_ARGS) \
		$(FUZZ_DIR)/corpus-virtio-console

$(FUZZ_CONSOLE_BIN): $(FUZZ_CONSOLE_SRC) $(wildcard vmm/*.h vmm/*/*.h lib/*.h tests/unit/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || \
		{ echo "fuzz: $(FUZZ_CC) not found (apt-get install clang)"; exit 1; }
	@echo "  FUZZ-CC $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CONSOLE_SRC) -o $@

# The instruction emulator (vmm/emulate.c, vmm/emu_exec.c): make fuzz-emulate.
FUZZ_EMU_SRC := tests/fuzz/fuzz_emulate.c vmm/emulate.c vmm/emu_exec.c
FUZZ_EMU_BIN := $(FUZZ_DIR)/fuzz_emulate

.PHONY: fuzz-emulate
fuzz-build: $(FUZZ_EMU_BIN)
fuzz: fuzz-emulate

fuzz-emulate: $(FUZZ_EMU_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus-emulate
	$(FUZZ_EMU_BIN) -runs=$(FUZZ_RUNS) -max_len=512 \
		-artifact_prefix=$(FUZZ_DIR)/emulate- $(FUZZ_ARGS) \
		$(FUZZ_DIR)/corpus-emulate

$(FUZZ_EMU_BIN): $(FUZZ_EMU_SRC) vmm/emulate.h vmm/gmem.h lib/bytes.h lib/types.h \
		lib/string.h
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || \
		{ echo "fuzz: $(FUZZ_CC) not found (apt-get install clang)"; exit 1; }
	@echo "  FUZZ-CC $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_EMU_SRC) -o $@

# The GDB remote protocol stub (vmm/gdb/): make fuzz-gdb.
FUZZ_GDB_SRC := tests/fuzz/fuzz_gdb_stub.c vmm/gdb/gdb_stub.c vmm/gdb/gdb_mem.c \
	vmm/gdb/gdb_regs.c lib/fmt.c
FUZZ_GDB_BIN := $(FUZZ_DIR)/fuzz_gdb_stub

.PHONY: fuzz-gdb
fuzz-build: $(FUZZ_GDB_BIN)
fuzz: fuzz-gdb

fuzz-gdb: $(FUZZ_GDB_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus-gdb
	$(FUZZ_GDB_BIN) -runs=$(FUZZ_RUNS) -max_len=4096 -dict=tests/fuzz/gdb.dict \
		-artifact_prefix=$(FUZZ_DIR)/gdb- $(FUZZ_ARGS) $(FUZZ_DIR)/corpus-gdb

$(FUZZ_GDB_BIN): $(FUZZ_GDB_SRC) $(FUZZ_STRING_O) $(wildcard vmm/gdb/*.h lib/*.h) tests/unit/gdb_fake.h
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || \
		{ echo "fuzz: $(FUZZ_CC) not found (apt-get install clang)"; exit 1; }
	@echo "  FUZZ-CC $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_GDB_SRC) $(FUZZ_STRING_O) -o $@


# A harness of pure parts that need nothing from tests/unit:
# $(call fuzz_simple,NAME,SOURCES,MAX_LEN) makes fuzz-NAME and its binary.
define fuzz_simple
FUZZ_$(1)_BIN := $$(FUZZ_DIR)/fuzz_$(1)
.PHONY: fuzz-$(1)
fuzz-build: $$(FUZZ_$(1)_BIN)
fuzz: fuzz-$(1)
fuzz-$(1): $$(FUZZ_$(1)_BIN)
	@mkdir -p $$(FUZZ_DIR)/corpus-$(1)
	$$(FUZZ_$(1)_BIN) -runs=$$(FUZZ_RUNS) -max_len=$(3) \
		-artifact_prefix=$$(FUZZ_DIR)/$(1)- $$(FUZZ_ARGS) $$(FUZZ_DIR)/corpus-$(1)
$$(FUZZ_$(1)_BIN): $(2) $$(wildcard vmm/*.h vmm/*/*.h lib/*.h tests/fuzz/*.h tests/unit/*.h)
	@mkdir -p $$(dir $$@)
	@command -v $$(FUZZ_CC) >/dev/null || \
		{ echo "fuzz: $$(FUZZ_CC) not found (apt-get install clang)"; exit 1; }
	@echo "  FUZZ-CC $$@"
	@$$(FUZZ_CC) $$(FUZZ_CFLAGS) $(2) -o $$@
endef

# NAT (vmm/net/nat.c): make fuzz-nat. The DHCP server: make fuzz-dhcp.
$(eval $(call fuzz_simple,nat,tests/fuzz/fuzz_nat.c vmm/net/nat.c vmm/net/inet_csum.c,8192))
$(eval $(call fuzz_simple,dhcp,tests/fuzz/fuzz_dhcp.c vmm/net/dhcp_server.c vmm/net/dhcp_msg.c,4096))
# uhv's TCP: make fuzz-tcp.
$(eval $(call fuzz_simple,tcp,tests/fuzz/fuzz_tcp.c vmm/net/tcp.c vmm/net/inet_csum.c lib/bytering.c,4096))
# A NAT network's router and uhv's DHCP client: make fuzz-nat_router.
$(eval $(call fuzz_simple,nat_router,tests/fuzz/fuzz_nat_router.c vmm/net/nat_router.c vmm/net/nat.c vmm/net/dhcp_client.c vmm/net/dhcp_msg.c vmm/net/ipv4.c vmm/net/inet_csum.c vmm/net/tcp.c lib/bytering.c,16384))
