# uhvctl, the host-side management client (tools/uhvctl/uhvctl.h), and its
# host tests (tests/uhvctl/run.sh), included by the top-level Makefile.
#
#   make uhvctl          builds build/tools/uhvctl (json-c through pkg-config)
#   make test-uhvctl     runs tests/uhvctl/run.sh against a fake uhv
#                        (build/tests/fake_uhv); last line "N passed, M failed"
#
# uhvctl is host C; the relay links uhv's own JSON parser (lib/json.c) to
# find request ids in place, and the fake uhv links the protocol code.

UHVCTL       := $(BUILD)/tools/uhvctl
UHVCTL_SRC   := $(addprefix tools/uhvctl/, main.c net.c client.c relay.c \
	cmds.c cmd_stats.c cmd_trace.c cmd_gdb.c stats.c top.c plot.c idscan.c) lib/json.c
UHVCTL_OBJ   := $(UHVCTL_SRC:%.c=$(BUILD)/tools/obj/%.o)
UHVCTL_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -O2 -g -I. \
	$(shell pkg-config --cflags json-c 2>/dev/null)
UHVCTL_LIBS   = $(shell pkg-config --libs json-c 2>/dev/null) -lm

# the fake uhv: the protocol code of vmm/ and lib/ (string.c renamed as in
# tests/unit.mk, for str_copy) behind a simulated VM manager
FAKE_UHV     := $(BUILD)/tests/fake_uhv
FAKE_SRC     := tests/uhvctl/fake_uhv.c lib/json.c lib/json_write.c vmm/ctl/ctl.c \
	vmm/ctl/ctl_create.c vmm/ctl/ctl_line.c vmm/config.c lib/fmt.c \
	vmm/trace/exit_trace.c
FAKE_OBJ     := $(FAKE_SRC:%.c=$(BUILD)/tools/fake/%.o) \
	$(BUILD)/tools/fake/lib/string_renamed.o
FAKE_CFLAGS  := -std=gnu11 -Wall -Wextra -Werror -O1 -g -I.
FAKE_RENAME  := -Dmemcpy=uhv_memcpy -Dmemset=uhv_memset -Dmemmove=uhv_memmove \
	-Dmemcmp=uhv_memcmp -Dstrlen=uhv_strlen -Dstrcmp=uhv_strcmp \
	-Dstrncmp=uhv_strncmp

.PHONY: uhvctl test-uhvctl uhvctl-deps

uhvctl: $(UHVCTL)

# json-c's headers come from Debian's libjson-c-dev (tools/deps.sh)
uhvctl-deps:
	@pkg-config --exists json-c || bash tools/deps.sh

$(BUILD)/tools/obj/%.o: %.c | uhvctl-deps
	@mkdir -p $(dir $@)
	@echo "  CC-HOST $@"
	@$(CC) $(UHVCTL_CFLAGS) -MMD -MP -c $< -o $@

$(UHVCTL): $(UHVCTL_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $^ $(UHVCTL_LIBS) -o $@

$(BUILD)/tools/fake/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-HOST $@"
	@$(CC) $(FAKE_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tools/fake/lib/string_renamed.o: lib/string.c
	@mkdir -p $(dir $@)
	@echo "  CC-HOST $@"
	@$(CC) $(FAKE_CFLAGS) -fno-builtin -fno-tree-loop-distribute-patterns \
		$(FAKE_RENAME) -MMD -MP -c $< -o $@

$(FAKE_UHV): $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $^ -o $@

test-uhvctl: $(UHVCTL) $(FAKE_UHV)
	@tests/uhvctl/run.sh
