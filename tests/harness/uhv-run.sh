#!/usr/bin/env bash
# tools/uhv-run's verdicts, without an emulator: a fake QEMU
# (tests/harness/fake-qemu.c) plays a console, and uhv-run boots "it"
# with --emulator qemu-tcg. A run that ended as the user asked is a PASS:
# `uhvctl shutdown` (uhv's summary, with no VM left or VMs the control
# channel stopped), a Linux guest's `poweroff -f`, and make image's demo
# booted with --image (the image carries the demo's expected results in
# its uhv.cfg, written by --build-esp). A VM that ended otherwise still
# fails, and a panic still has no summary; tests/system/run.sh's run-ended
# reads these verdict lines and exit statuses (tests/harness/run.sh).
#
# Output: "PASS run-tool/CASE" or "FAIL run-tool/CASE: why", then (last)
# "N passed, M failed, K skipped"; exit status 1 if M > 0.
# UHV_RUN_TOOL replaces tools/uhv-run (to show that an older one fails).
set -u
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUN=${UHV_RUN_TOOL:-$ROOT/tools/uhv-run}
T=$(mktemp -d "${TMPDIR:-/tmp}/uhv-run-test.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
pass=0 fail=0 skip=0
ok()  { echo "PASS run-tool/$1"; pass=$((pass + 1)); }
bad() { echo "FAIL run-tool/$1: $2"; fail=$((fail + 1)); }

mkdir -p "$T/bin" "$T/guests"
if ! ${CC:-cc} -O1 -Wall -Werror -o "$T/bin/qemu-system-x86_64" "$HERE/fake-qemu.c" 2> "$T/cc.err"; then
    bad build "fake-qemu.c: $(head -n 3 "$T/cc.err")"
    echo "$pass passed, $fail failed, $skip skipped"; exit 1
fi
: > "$T/uhv.efi"; : > "$T/ovmf.fd"
for g in hello halt triplefault; do : > "$T/guests/$g.elf"; done
export PATH=$T/bin:$PATH UHV_OVMF=$T/ovmf.fd

# play NAME ARGS...: uhv-run over the console $T/NAME.con; stdout in
# $T/NAME.out, stderr in $T/NAME.err, exit status in $T/NAME.rc
play() {
    local name=$1; shift
    FAKE_QEMU_CONSOLE=$T/$name.con "$RUN" --emulator qemu-tcg --timeout 60 "$@" \
        > "$T/$name.out" 2> "$T/$name.err"
    echo $? > "$T/$name.rc"
}
# verdict CASE NAME RC REGEX: the run's last line matches REGEX, status RC
verdict() {
    local last rc
    last=$(tail -n 1 "$T/$2.out"); rc=$(cat "$T/$2.rc")
    if [ "$rc" = "$3" ] && [[ $last =~ $4 ]]; then ok "$1"
    else bad "$1" "status $rc, last line '$last' (wanted $3 and /$4/)"; fi
}

HEAD='uhv: hypervisor core running (entry tsc 1, loader tsc 1)
uhv: VMX on; 1 CPU(s) found, uhv uses the first'

# uhvctl shutdown with no VM left: uhv's summary of 0 VMs, no result line.
cat > "$T/shutdown0.con" <<X
$HEAD
uhv: control channel on COM2 (docs/protocol.md); 64 MiB reserved for VMs created at run time, 1 image(s)
uhv: running 0 VM(s), time slice 2000000 TSC ticks; console keys: Ctrl-A n / 1-8 (focus), Ctrl-A s (stats); focus: none
uhv: summary of 0 VM(s)
uhv: poweroff: shut down by the control channel
X
play shutdown0 --efi "$T/uhv.efi" --global control=on
verdict shutdown/no-vm shutdown0 0 '^uhv-run: PASS: 0 VM\(s\)'
if grep -q 'PANIC\|^uhv-run:   ' "$T/shutdown0.err"; then bad shutdown/no-dump "$(grep -m1 'PANIC\|^uhv-run:   ' "$T/shutdown0.err")"
else ok shutdown/no-dump; fi

# uhvctl shutdown while VMs run: the control channel killed them.
cat > "$T/shutdown1.con" <<X
$HEAD
uhv: running 1 VM(s), time slice 2000000 TSC ticks; console keys: Ctrl-A n / 1-8 (focus), Ctrl-A s (stats); focus: hello
[hello] hi
uhv: vm hello stopped: uhv shut down by the control channel
uhv: summary of 1 VM(s)
uhv: result hello killed 0
uhv: poweroff: shut down by the control channel
X
play shutdown1 --efi "$T/uhv.efi" --global control=on --guest "$T/guests/hello.elf"
verdict shutdown/killed shutdown1 0 '^uhv-run: PASS: 1 VM\(s\): hello=killed 0 '

# poweroff -f in a Linux guest: result poweroff.
cat > "$T/poweroff.con" <<X
$HEAD
[debian] / # poweroff -f
uhv: vm debian stopped: powered off through ACPI (S5)
uhv: summary of 1 VM(s)
uhv: result debian poweroff 0
uhv: poweroff: all VMs stopped
X
play poweroff --efi "$T/uhv.efi" --guest "$T/guests/hello.elf,name=debian"
verdict linux/poweroff poweroff 0 '^uhv-run: PASS: 1 VM\(s\): debian=poweroff 0 '

# A VM that ended otherwise, unexpected, still fails (the control).
cat > "$T/fault.con" <<X
$HEAD
uhv: vm crasher stopped: triple fault (shutdown) at rip 0x100039
uhv: summary of 1 VM(s)
uhv: result crasher triple-fault 0
uhv: poweroff: all VMs stopped
X
play fault --efi "$T/uhv.efi" --guest "$T/guests/triplefault.elf,name=crasher"
verdict unexpected/fails fault 1 '^uhv-run: FAIL: 1 VM\(s\): crasher=triple-fault 0 '
cp "$T/fault.con" "$T/fault-expected.con"
play fault-expected --efi "$T/uhv.efi" --guest "$T/guests/triplefault.elf,name=crasher" --expect crasher=triple-fault
verdict expect/passes fault-expected 0 '^uhv-run: PASS: 1 VM\(s\): crasher=triple-fault 0 '
cp "$T/poweroff.con" "$T/poweroff-exit.con"
play poweroff-exit --efi "$T/uhv.efi" --guest "$T/guests/hello.elf,name=debian" --expect 'debian=exit 1'
verdict expect/overrides poweroff-exit 1 '^uhv-run: FAIL: 1 VM\(s\): debian=poweroff 0 '

# A panic: uhv powers off without its summary (tests/system/panic.test).
cat > "$T/panic.con" <<X
$HEAD
uhv: PANIC: exception 6 (#UD invalid opcode)
uhv: poweroff: uhv stopped after an exception
X
play panic --efi "$T/uhv.efi" --guest "$T/guests/hello.elf"
verdict panic/no-summary panic 2 '^uhv-run: NO SUMMARY: uhv powered off without result lines'

# make image's demo, booted as an image: its expected results come with it.
if command -v sfdisk >/dev/null && command -v mkfs.vfat >/dev/null && command -v mtype >/dev/null; then
    "$RUN" --build-esp "$T/esp" --efi "$T/uhv.efi" --guest "$T/guests/hello.elf,name=hello" \
        --guest "$T/guests/halt.elf,name=sleeper" --expect sleeper=halted \
        --guest "$T/guests/triplefault.elf,name=crasher" --expect crasher=triple-fault > "$T/esp.out" 2>&1
    if grep -qx '# uhv-run: expect sleeper=halted' "$T/esp/uhv/uhv.cfg" 2>/dev/null; then ok image/cfg-carries-expect
    else bad image/cfg-carries-expect "no '# uhv-run: expect sleeper=halted' in the ESP's uhv.cfg"; fi
    "$ROOT/tools/mkimage" "$T/uhv.img" "$T/esp" > "$T/mkimage.out" 2>&1 || bad image/mkimage "$(tail -n 1 "$T/mkimage.out")"
    cat > "$T/image.con" <<X
$HEAD
[hello] PASS hello
uhv: vm hello stopped: debug exit, status 1
uhv: vm crasher stopped: triple fault (shutdown) at rip 0x100039
uhv: vm sleeper stopped: halted with no interrupt source that could wake it
uhv: summary of 3 VM(s)
uhv: result hello exit 1
uhv: result sleeper halted 0
uhv: result crasher triple-fault 0
uhv: poweroff: all VMs stopped
X
    play image --image "$T/uhv.img"
    verdict image/demo-passes image 0 '^uhv-run: PASS: 3 VM\(s\): hello=exit 1, sleeper=halted 0, crasher=triple-fault 0 '
    # an --expect on the command line still wins over the image's
    cp "$T/image.con" "$T/image-override.con"
    play image-override --image "$T/uhv.img" --expect sleeper=exit
    verdict image/command-line-wins image-override 1 '^uhv-run: FAIL: 3 VM\(s\)'
else
    echo "SKIP run-tool/image: sfdisk, mkfs.vfat or mtools missing (tools/deps.sh)"; skip=$((skip + 1))
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
