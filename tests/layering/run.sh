#!/usr/bin/env bash
# The layering check (tools/check-layers.sh, docs/layering.md): make test
# runs it on this tree, then shows that it catches what it should. It
# copies the tree's source folders to a scratch folder, runs the check on
# the copy (its violations, if the tree has any, are the baseline), then
# plants one change at a time in the copy and wants exactly the expected
# line added to the check's output, "FILE:LINE: rule N ...", nothing else
# added and nothing gone; a planted change that the rules allow must add
# nothing. So the planted checks do not depend on whether this tree is
# clean today; only "layering/tree" does. No emulator, a few seconds.
#
# usage: tests/layering/run.sh [--planted-only]
# Output: "PASS layering/NAME" or "FAIL layering/NAME: why", then (last)
# "N passed, M failed, K skipped"; exit status 1 if M > 0.
set -u
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CHECK=$ROOT/tools/check-layers.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/uhv-layering.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
pass=0 fail=0 skip=0
ok()      { echo "PASS layering/$1"; pass=$((pass + 1)); }
bad()     { echo "FAIL layering/$1: $2"; fail=$((fail + 1)); }
skipped() { echo "SKIP layering/$1: $2"; skip=$((skip + 1)); }
summary_re='^layering: [0-9]+ files checked, [0-9]+ violations$'

# ---- this tree
if [ "${1:-}" != --planted-only ]; then
    "$CHECK" > "$T/tree.out" 2>&1
    rc=$?
    last=$(tail -n 1 "$T/tree.out")
    if [ "$rc" -eq 0 ] && [[ $last =~ $summary_re ]]; then
        ok tree
    else
        bad tree "exit status $rc, '$last'"
        grep -v '^layering:' "$T/tree.out" | sed 's/^/    /'
    fi
fi

# ---- a copy of the tree, and its baseline
B=$T/copy
mkdir -p "$B"
for d in vmm arch drivers lib boot tools agent; do
    [ -d "$ROOT/$d" ] && cp -R "$ROOT/$d" "$B/$d"
done
run_check() {   # run_check OUT [ARGS...]: the check on the copy; sets rc
    local out=$1; shift
    "$CHECK" --root "$B" "$@" > "$out" 2>&1
    rc=$?
}
run_check "$T/base.out" --no-nm
last=$(tail -n 1 "$T/base.out")
if ! { [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; } || ! [[ $last =~ $summary_re ]]; then
    bad copy "the check on a copy of the tree: exit status $rc, '$last'"
    echo "$pass passed, $fail failed, $skip skipped"
    exit 1
fi
grep -v '^layering:' "$T/base.out" | sort > "$T/base.v"
nbase=$(wc -l < "$T/base.v")
ok "copy ($nbase violations in the tree as it is)"

# new_file PATH [LINE...]: a file of the copy for the next plant only
NEW=()
new_file() {
    local p=$1; shift
    mkdir -p "$B/$(dirname "$p")"
    printf '%s\n' "$@" > "$B/$p"
    NEW+=("$B/$p")
}

# plant NAME RULE FILE K LINE...: appends the lines to FILE (in the copy)
# and wants the K-th of them (K=0: none) reported under RULE, then puts
# FILE back. NM=1 in the environment lets the check use nm; PLANT_HOOK,
# if set, is run (eval) after the lines are in, before the check.
plant() {
    local name=$1 rule=$2 file=$3 k=$4 n want new gone f
    shift 4
    if [ ! -f "$B/$file" ]; then
        skipped "$name" "no $file in this tree"
        rm -rf "${NEW[@]}"; NEW=()
        return
    fi
    cp -p "$B/$file" "$T/saved"
    [ -n "$(tail -c 1 "$B/$file")" ] && echo >> "$B/$file"
    n=$(wc -l < "$B/$file")
    printf '%s\n' "$@" >> "$B/$file"
    if [ -n "${PLANT_HOOK:-}" ] && ! eval "$PLANT_HOOK"; then
        bad "$name" "could not set the plant up: $PLANT_HOOK"
        cp -p "$T/saved" "$B/$file"; rm -rf "${NEW[@]}"; NEW=()
        return
    fi
    if [ "${NM:-0}" = 1 ]; then run_check "$T/plant.out"; else run_check "$T/plant.out" --no-nm; fi
    cp -p "$T/saved" "$B/$file"
    rm -rf "${NEW[@]}"; NEW=()

    grep -v '^layering:' "$T/plant.out" | sort > "$T/plant.v"
    new=$(comm -13 "$T/base.v" "$T/plant.v")
    gone=$(comm -23 "$T/base.v" "$T/plant.v")
    last=$(tail -n 1 "$T/plant.out")
    if ! [[ $last =~ $summary_re ]]; then
        bad "$name" "no summary line (exit status $rc): $(head -n 3 "$T/plant.out" | tr '\n' ' ')"
    elif [ -n "$gone" ]; then
        bad "$name" "a violation of the baseline went missing: $gone"
    elif [ "$k" = 0 ]; then
        if [ -z "$new" ] && [ "$rc" -eq "$([ "$nbase" -eq 0 ] && echo 0 || echo 1)" ]; then ok "$name"
        else bad "$name" "allowed, but reported: ${new:-(exit status $rc)}"; fi
    else
        want="$file:$((n + k)): rule $rule "
        f=$(printf '%s\n' "$new" | grep -c .)
        if [ "$f" -eq 1 ] && [ "${new#"$want"}" != "$new" ] && [ "$rc" -eq 1 ]; then ok "$name"
        elif [ "$f" -eq 0 ]; then bad "$name" "not reported (want '$want...')"
        else bad "$name" "want one line '$want...' and exit status 1, got $rc and: $(printf '%s\n' "$new" | tr '\n' '|')"; fi
    fi
}

# ---- rule 1: the pure parts (vmm/dev, vmm/virtio, vmm/net, vmm/trace)
plant rule1-arch 1 vmm/dev/lapic.c 1 '#include "arch/x86/cpu.h"'
plant rule1-relative-dodge 1 vmm/net/bridge.c 1 '#include "../../arch/x86/cpu.h"'
plant rule1-relative-root 1 vmm/dev/pit.c 1 '#include "vmm/dev/../config.h"'
plant rule1-angle-dodge 1 vmm/dev/pic.c 1 '#include <drivers/serial.h>'
plant rule1-vmm-proper 1 vmm/virtio/virtqueue.c 1 '#include "vmm/vm.h"'
plant rule1-ctl 1 vmm/net/netif.c 1 '#include "vmm/ctl/ctl.h"'
plant rule1-trace 1 vmm/trace/exit_trace.c 1 '#include "vmm/vm.h"'
plant rule1-drivers 1 vmm/virtio/virtio_blk.c 1 '#include "drivers/blkdev.h"'
plant rule1-boot 1 vmm/dev/rtc.c 1 '#include "boot/loader.c"'
plant rule1-other-pure-c 1 vmm/virtio/virtio_net.c 1 '#include "vmm/net/bridge.c"'
plant rule1-allowed 1 vmm/net/bridge.c 0 '#include "../dev/pci.h"' '#include "vmm/gmem.h"' \
    '#include "lib/string.h"' '#include "inet_csum.h"' '#include "vmm/virtio/virtio.h"' '#include <stdarg.h>'
plant rule1-commented-out 1 vmm/dev/lapic.c 0 '/* #include "arch/x86/cpu.h" */' '/*' \
    '#include "vmm/vm.h"' ' */' '// see "arch/x86/vmx.h"'
plant rule1-after-string 1 vmm/dev/lapic.c 2 'static const char plant_glob[] = "/*";' '#include "vmm/vm.h"'
plant rule1-after-char 1 vmm/dev/lapic.c 2 "static const char plant_c = '\"', plant_s[] = \"/*\";" '#include "vmm/vm.h"'
plant rule1-after-line-comment 1 vmm/dev/lapic.c 2 '// a /* in a line comment' '#include "vmm/vm.h"'
plant rule1-after-block-comment 1 vmm/dev/lapic.c 2 '/* one */ /* two' ' three */ #include "vmm/vm.h"'

# ---- rule 2: drivers/
plant rule2-vmm 2 drivers/ata.c 1 '#include "vmm/vm.h"'
plant rule2-relative 2 drivers/serial.c 1 '#include "../vmm/dev/uart.h"'
plant rule2-allowed 2 drivers/serial.c 0 '#include "lib/fmt.h"' '#include "arch/x86/cpu.h"' '#include "console.h"'

# ---- rule 3: arch/ names no vmm/ symbol
# a function the VMM defines: the run loop (vmm_run, sched_run), else any
sym=$(cat "$B/vmm/sched.c" "$B"/vmm/*.c 2> /dev/null |
      sed -nE 's/^[a-z][a-z0-9_ *]*[ *]((vmm|sched)_run)\(.*/\1/p; s/^(void|int|bool|u64) \**([a-z_][a-z0-9_]*)\(.*[^;]$/\2/p' |
      head -n 1)
if [ -n "$sym" ]; then
    plant rule3-asm-extern 3 arch/x86/vmx_entry.asm 1 "extern $sym" "	call $sym"
    plant rule3-asm-extern-list 3 arch/x86/trap_stubs.asm 1 "extern arch_plant_nothing, $sym:function  ; two"
else
    skipped rule3-asm-extern "no function defined in vmm/*.c of this tree"
    skipped rule3-asm-extern-list "no function defined in vmm/*.c of this tree"
fi
new_file arch/x86/plant_arch.c 'void arch_plant_fn(void) {}'
plant rule3-asm-extern-arch 3 arch/x86/vmx_entry.asm 0 'extern arch_plant_fn'
new_file vmm/plant_static.c 'static void plant_static_fn(void) {}' 'extern void plant_decl_fn(void);'
plant rule3-asm-extern-not-vmm 3 arch/x86/vmx_entry.asm 0 'extern plant_static_fn, plant_decl_fn'
plant rule3-c-include 3 arch/x86/ept.c 1 '#include "vmm/vm.h"'
plant rule3-h-include 3 arch/x86/cpu.h 1 '#include "../../vmm/gmem.h"'
plant rule3-asm-include 3 arch/x86/entry.asm 1 '%include "vmm/plant.inc"'
CC=${CC:-cc}
if command -v "$CC" > /dev/null && command -v nm > /dev/null &&
   echo 'void f(void) {}' | "$CC" -x c -c - -o "$T/cc.o" 2> /dev/null; then
    # a call the linker resolves into vmm/, with no include to show it:
    # the objects, built after the plant, are where build/core/ keeps them
    new_file vmm/plant_nm.c 'void vmm_plant_fn(void) {}'
    new_file arch/x86/plant_nm.c '/* nothing yet */'
    NEW+=("$B/build")
    # shellcheck disable=SC2016  # expanded by plant (eval)
    PLANT_HOOK='mkdir -p "$B/build/core/arch/x86" "$B/build/core/vmm" &&
        "$CC" -c "$B/vmm/plant_nm.c" -o "$B/build/core/vmm/plant_nm.o" &&
        "$CC" -c "$B/arch/x86/plant_nm.c" -o "$B/build/core/arch/x86/plant_nm.o"' \
    NM=1 plant rule3-nm 3 arch/x86/plant_nm.c 1 'void vmm_plant_fn(void);' \
        'void arch_plant_nm(void) { vmm_plant_fn(); }'
else
    skipped rule3-nm "no $CC that compiles, or no nm"
fi

# ---- rule 4: the VMM proper and vmm/ctl/ include no VMCS encodings
plant rule4-vmx 4 vmm/exit.c 1 '#include "arch/x86/vmx.h"'
plant rule4-vmx-ops 4 vmm/ctl/ctl.c 1 '#include "arch/x86/vmx_ops.h"'
plant rule4-header 4 vmm/vm.h 1 '#include "../arch/x86/vmx.h"'
new_file arch/x86/plant_vmcs.h '#define VMCS_GUEST_PLANT 0x6840'
plant rule4-computed-list 4 vmm/sched.c 1 '#include "arch/x86/plant_vmcs.h"'
new_file arch/x86/plant_wrap.h '#include "arch/x86/vmx.h"'
plant rule4-through-header 4 vmm/sched.c 1 '#include "arch/x86/plant_wrap.h"'
plant rule4-allowed 4 vmm/sched.c 0 '#include "arch/x86/cpu.h"' '#include "arch/x86/vcpu.h"' '#include "drivers/console.h"'

# ---- rule 5: tools/ and agent/
plant rule5-tools 5 tools/uhvctl/main.c 1 '#include "vmm/vm.h"'
plant rule5-tools-ctl 5 tools/uhvctl/client.c 1 '#include "vmm/ctl/ctl.h"'
plant rule5-agent 5 agent/uhv-agent.c 1 '#include "drivers/serial.h"'
plant rule5-allowed 5 tools/uhvctl/main.c 0 '#include "lib/json.h"' '#include "idscan.h"' \
    '#include "tools/uhvctl/uhvctl.h"' '#include <stdio.h>'
new_file tests/uhvctl/plant.c '#include "vmm/vm.h"'
plant rule5-tests-exempt 5 tools/uhvctl/main.c 0 '/* with tests/uhvctl/plant.c including vmm/vm.h */'

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
