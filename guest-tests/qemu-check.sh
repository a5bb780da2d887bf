#!/bin/sh
# qemu-check.sh - run every guest test under QEMU TCG (same Guest ABI as
# uhv, minus the uhv CPUID leaf) and compare with what QEMU should give.
# Usage: guest-tests/qemu-check.sh   (after make -C guest-tests)
# Exit status: 0 if every guest behaved as expected under QEMU.
cd "$(dirname "$0")" || exit 1
QEMU="qemu-system-x86_64 -m 16 -display none -serial stdio -monitor none \
      -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04"
TIMEOUT=60        # seconds for a guest that should end by itself
HALT_WAIT=3       # seconds to watch halt before calling it hung
bad=0

# check NAME WANT_RC SECONDS WANT_LINE [CMDLINE]: run build/NAME.elf, expect
# exit status WANT_RC and an output line starting with WANT_LINE.
check() {
    out=$(timeout "$3" $QEMU -kernel "build/$1.elf" -append "$5" 2>&1)
    rc=$?
    if [ "$rc" = "$2" ] && printf '%s\n' "$out" | grep -q "^$4"; then
        echo "ok   $1 (rc $rc)"
    else
        echo "BAD  $1 (rc $rc, want $2 and \"$4\")"
        printf '%s\n' "$out" | sed 's/^/     | /'
        bad=1
    fi
}

check hello       1   $TIMEOUT   "PASS hello"   "x=1"
check cpuid       3   $TIMEOUT   "FAIL cpuid"   # QEMU has no uhv leaf
check memory      1   $TIMEOUT   "PASS memory"
check isolation   3   $TIMEOUT   "FAIL isolation"  # QEMU reads 0 there
check emulate     3   $TIMEOUT   "FAIL emulate"    # likewise
check canary      1   $TIMEOUT   "PASS canary"  "wait=100000000"
check progress    1   $TIMEOUT   "PASS progress" "ticks=100000000"
check halt        124 $HALT_WAIT "halting forever"
check triplefault 0   $TIMEOUT   "about to triple fault"
check bench       1   $TIMEOUT   "PASS bench"
check exitloop    1   $TIMEOUT   "PASS exitloop" "rounds=3 period=1000000"
exit $bad
