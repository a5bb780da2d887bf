#!/usr/bin/env bash
# The test harness's own tests (make test runs them first; no emulator, a
# few seconds). tests/system/run.sh runs groups against stub-run, a stand-in
# for tools/uhv-run that times out, lets its emulator crash, prints nothing,
# ends without uhv's summary, or writes a capture that holds no frame; each
# case names the check lines run.sh must print, so a harness that lets a
# check pass on a run that proves nothing fails here. tests/run-all.sh runs
# stub suites (--suite) that exit with a failure behind "N passed, 0 failed",
# skip tests or print no count. tools/bench.sh runs against stub
# sub-benchmarks, one of which fails.
#
# Output: "PASS harness/CASE" or "FAIL harness/CASE: why" for each
# expectation, then (last) "N passed, M failed, K skipped" (the capture cases
# are skipped where tshark is not installed); exit status 1 if M > 0.
# Run it with -v to see run.sh's and run-all.sh's output as well.
# UHV_SYSTEM_RUN, UHV_RUN_ALL and UHV_BENCH_SH replace tests/system/run.sh,
# tests/run-all.sh and tools/bench.sh (to show that older ones fail here).
set -u
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VERBOSE=0; [ "${1:-}" != -v ] || VERBOSE=1
T=$(mktemp -d "${TMPDIR:-/tmp}/uhv-harness.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
G=$T/groups
mkdir -p "$G" "$T/guests" "$T/logs" || exit 2
: > "$T/uhv.efi"; : > "$T/guests/a.elf"
SYSTEM_RUN=${UHV_SYSTEM_RUN:-$ROOT/tests/system/run.sh}
RUN_ALL=${UHV_RUN_ALL:-$ROOT/tests/run-all.sh}
HAVE_TSHARK=0; command -v tshark >/dev/null && HAVE_TSHARK=1

pass=0 fail=0 skip=0
ok()  { echo "PASS harness/$1"; pass=$((pass + 1)); }
bad() { echo "FAIL harness/$1: $2"; fail=$((fail + 1)); }

# ---------------------------------------------------------------- scenarios
# group NAME: NAME.test from stdin. plays NAME STATUS: what stub-run prints
# for NAME (stdin) and its exit status.
group() { cat > "$G/$1.test"; }
plays() { cat > "$G/$1.out"; echo "$2" > "$G/$1.status"; }

# pcap NAME N TYPE: NAME.pcap holds N 60-byte Ethernet frames of EtherType
# TYPE (hex, e.g. 88b5) from 02:75:68:76:00:00; N=0 writes the header alone.
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
pcap() {
    local i f
    {
        printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00'; printf "$(le32 0)$(le32 0)$(le32 65535)$(le32 1)"
        for ((i = 1; i <= $2; i++)); do
            printf "$(le32 "$i")$(le32 0)$(le32 60)$(le32 60)"
            f='\x02\x75\x68\x76\x01\x00\x02\x75\x68\x76\x00\x00'
            printf "$f\\x${3:0:2}\\x${3:2:2}"; head -c 46 /dev/zero
        done
    } > "$G/$1.pcap"
}

PASS_VERDICT='uhv-run: PASS: 1 VM(s): a=exit 1  (bochs, 9s)'
GOOD_CONSOLE='uhv: running 1 VM(s), time slice 2000000 TSC ticks
[a] hello
[a] PASS all
uhv: summary of 1 VM(s)
uhv: result a exit 1
uhv: poweroff: all VMs stopped'

# A run that ended as it should: every check holds (the control).
group good <<'X'
guest a.elf name=a
pass a
match hello ^\[a\] hello$
nomatch quiet ^\[a\] oops
X
plays good 0 <<X
$GOOD_CONSOLE
$PASS_VERDICT
X

# The good group, also on other CPU models with --long (a 'models' line):
# run.sh lists and runs it as models@NAME, with NAME's Bochs model last
# in uhv-run's arguments; a long group beside it, without models.
group models <<'X'
models all
guest a.elf name=a
pass a
on-models sandybridge match only-sandy ^\[a\] hello$
on-models haswell,icelake nomatch not-sandy ^\[a\] oops
X
plays models 0 <<X
$GOOD_CONSOLE
$PASS_VERDICT
X
group longone <<'X'
long
models icelake
guest a.elf name=a
pass a
X
plays longone 0 <<X
$GOOD_CONSOLE
$PASS_VERDICT
X
# on-models with a model run.sh does not know: the group is not run.
group onbad <<'X'
guest a.elf name=a
pass a
on-models haswell,pentium match x ^\[a\] hello$
X

# Stopped by its timeout after a printed its result: the run never reached
# uhv's summary, so the group fails whatever its lines say.
group timeout <<'X'
guest a.elf name=a
pass a
match hello ^\[a\] hello$
nomatch quiet ^\[a\] oops
X
plays timeout 2 <<'X'
[a] hello
[a] PASS all
uhv: result a exit 1
uhv-run: TIMEOUT after 300s (bochs, 300s)
X

# The emulator died under uhv.
group crash <<'X'
guest a.elf name=a
match hello ^\[a\] hello$
nomatch quiet ^\[a\] oops
X
plays crash 2 <<'X'
[a] hello
uhv-run: NO SUMMARY: bochs exited with status 139 (bochs, 12s)
X

# uhv-run printed nothing at all: nomatch alone (as missing-image's
# noresult) must not pass on an empty console, not even where the group
# asks for a return to the firmware.
group silent <<'X'
guest a.elf name=a
ends returned
nomatch noresult ^uhv: result
X
plays silent 0 < /dev/null
group silent-status <<'X'
guest a.elf name=a
nomatch noresult ^uhv: result
X
plays silent-status 2 < /dev/null

# No summary where the group asked for one: uhv returned to the firmware.
group nosummary <<'X'
guest a.elf name=a
match returned ^uhv: returning to firmware
X
plays nosummary 2 <<'X'
uhv: returning to firmware
uhv-run: NO SUMMARY: uhv returned to firmware (bochs, 20s)
X

# ... and the same run where the group asks for it (badconfig's way).
group returned <<'X'
guest a.elf name=a
ends returned
match returned ^uhv: returning to firmware
nomatch noresult ^uhv: result
X
plays returned 2 <<'X'
uhv: \uhv\uhv.cfg:3: unknown key 'frobnicate'
uhv: returning to firmware
uhv-run: NO SUMMARY: uhv returned to firmware (bochs, 20s)
X

# A panic: uhv powers off without result lines, as the group asks.
group poweroff <<'X'
guest a.elf name=a
ends poweroff
match poweroff ^uhv: poweroff: uhv stopped after an exception
nomatch noresult ^uhv: result
X
plays poweroff 2 <<'X'
uhv: PANIC: exception 6 (#UD invalid opcode)
uhv: poweroff: uhv stopped after an exception
uhv-run: NO SUMMARY: uhv powered off without result lines (bochs, 30s)
X

# A verdict that its exit status contradicts.
group status-mismatch <<'X'
guest a.elf name=a
pass a
X
plays status-mismatch 2 <<X
$GOOD_CONSOLE
$PASS_VERDICT
X

# A group without checks fails, and is not run.
group nochecks <<'X'
guest a.elf name=a
X
plays nochecks 0 <<X
$GOOD_CONSOLE
$PASS_VERDICT
X

# One counted check per directive: two directives of one name count twice.
group twice <<'X'
guest a.elf name=a
match lines ^\[a\] hello$
match lines ^\[a\] goodbye$
pass a
X
plays twice 0 <<X
$GOOD_CONSOLE
$PASS_VERDICT
X

if [ "$HAVE_TSHARK" = 1 ]; then
    # The capture holds its header and no frame: "nothing of type 88b6" and
    # "as many frames as uhv counted (0)" prove nothing.
    group emptycap <<'X'
guest a.elf name=a
capture lan
pass a
tshark-count nothing eth.type==0x88b6 0
tshark-count all frame /^uhv: capture lan: ([0-9]+) frames/
X
    plays emptycap 0 <<X
$GOOD_CONSOLE
uhv: capture lan: 0 frames (0 bytes), 0 dropped
$PASS_VERDICT
X
    pcap emptycap 0

    # Frames, but no check of the group wants any: no positive control.
    group zeroonly <<'X'
guest a.elf name=a
capture lan
pass a
tshark-count nothing eth.type==0x88b6 0
X
    plays zeroonly 0 <<X
$GOOD_CONSOLE
$PASS_VERDICT
X
    pcap zeroonly 3 88b5

    # A positive control that finds nothing controls nothing.
    group emptycontrol <<'X'
guest a.elf name=a
capture lan
pass a
tshark-count sent eth.type==0x88b5 >=1
tshark-count nothing eth.type==0x88b6 0
X
    plays emptycontrol 0 <<X
$GOOD_CONSOLE
$PASS_VERDICT
X
    pcap emptycontrol 0

    # No capture file at all.
    group nocap <<'X'
guest a.elf name=a
capture lan
pass a
tshark-count sent eth.type==0x88b5 3
tshark-count nothing eth.type==0x88b6 0
X
    plays nocap 0 <<X
$GOOD_CONSOLE
$PASS_VERDICT
X

    # Frames the checks want, beside none of the kind that must not be there.
    group goodcap <<'X'
guest a.elf name=a
capture lan
pass a
tshark-count sent eth.type==0x88b5 3
tshark-count nothing eth.type==0x88b6 0
tshark-sum bytes eth.type==0x88b5 frame.len 180
tshark-sum nobytes eth.type==0x88b6 frame.len 0
tshark frame eth.type==0x88b5 02:75:68:76:00:00 .+ 02:75:68:76:01:00
tshark-count all frame /^uhv: capture lan: ([0-9]+) frames/
X
    plays goodcap 0 <<X
$GOOD_CONSOLE
uhv: capture lan: 3 frames (180 bytes), 0 dropped
$PASS_VERDICT
X
    pcap goodcap 3 88b5
fi

# ---------------------------------------------------------------- run them
# sysrun NAME ARGS...: tests/system/run.sh on the stub; output in $T/NAME.out,
# exit status in $T/NAME.rc.
sysrun() {
    local name=$1; shift
    UHV_RUN=$HERE/stub-run STUB_DIR=$G "$SYSTEM_RUN" --groups "$G" \
        --efi "$T/uhv.efi" --guests "$T/guests" --logs "$T/logs/$name" --jobs 4 "$@" \
        > "$T/$name.out" 2>&1
    echo $? > "$T/$name.rc"
    [ "$VERBOSE" = 0 ] || sed "s/^/  $name| /" "$T/$name.out"
}
sysrun all
sysrun long --long
sysrun longlist --long --list
sysrun badmodel --only models@pentium
GOOD=good,returned,poweroff
[ "$HAVE_TSHARK" = 0 ] || GOOD+=,goodcap
sysrun good --only "$GOOD"

# has CASE FILE REGEX: some line of FILE matches REGEX (grep -E).
has() {
    if grep -qE -- "$3" "$T/$2.out"; then ok "$1"
    else bad "$1" "no line of the output matches '$3'"; fi
}
# lacks CASE FILE REGEX: no line of FILE matches REGEX.
lacks() {
    local l; l=$(grep -E -m1 -- "$3" "$T/$2.out")
    if [ -z "$l" ]; then ok "$1"; else bad "$1" "unexpected line '$l'"; fi
}
S=system

has   good/run-ended          all "^PASS $S/good/run-ended$"
has   good/pass               all "^PASS $S/good/a$"
has   good/match              all "^PASS $S/good/hello$"
has   good/nomatch            all "^PASS $S/good/quiet$"

has   timeout/run-ended       all "^FAIL $S/timeout/run-ended: the run did not end as it should: TIMEOUT after 300s"
has   timeout/nomatch         all "^FAIL $S/timeout/quiet: counts only on a run that reached its end"
has   timeout/pass            all "^FAIL $S/timeout/a: counts only on a run that reached its end"
lacks timeout/no-pass-verdict all "^PASS $S/timeout/(run-ended|a|quiet)$"

has   crash/run-ended         all "^FAIL $S/crash/run-ended: the run did not end as it should: NO SUMMARY: bochs exited with status 139"
has   crash/nomatch           all "^FAIL $S/crash/quiet: "

has   silent/run-ended        all "^FAIL $S/silent/run-ended: the run did not end as it should: no verdict \(status 0\)"
has   silent/nomatch          all "^FAIL $S/silent/noresult: counts only"
has   silent-status/run-ended all "^FAIL $S/silent-status/run-ended: .*no verdict \(status 2\)"
has   silent-status/nomatch   all "^FAIL $S/silent-status/noresult: "

has   nosummary/run-ended     all "^FAIL $S/nosummary/run-ended: the run ended with 'NO SUMMARY: uhv returned to firmware.*', wanted uhv's summary"
has   returned/run-ended      all "^PASS $S/returned/run-ended$"
has   returned/nomatch        all "^PASS $S/returned/noresult$"
has   poweroff/run-ended      all "^PASS $S/poweroff/run-ended$"
has   poweroff/nomatch        all "^PASS $S/poweroff/noresult$"
has   status-mismatch         all "^FAIL $S/status-mismatch/run-ended: uhv-run's verdict 'PASS: .*' with exit status 2 \(wanted 0\)"

has   nochecks/fails          all "^FAIL $S/nochecks/run-ended: not run: nochecks.test has no checks"
n=$(grep -c "$S/nochecks" "$T/all.out")
if [ "$n" = 1 ]; then ok nochecks/one-line; else bad nochecks/one-line "$n lines for the group, wanted 1"; fi
[ ! -e "$T/logs/all/nochecks/run/args" ] && ok nochecks/not-run || bad nochecks/not-run "the stub ran"

# models: 'all' is the seven models besides the default, each a group
# of its own with its checks named GROUP@MODEL, its model passed on; the
# plain group runs in the ordinary run (not in --long), a long group in
# --long only, and a model run.sh does not know is a usage error.
n=$(grep -c '^models@' "$T/longlist.out")
[ "$n" = 7 ] && ok models/all-seven || bad models/all-seven "$n models@ groups listed, wanted 7"
has   models/list-long        longlist "^longone@icelake$"
has   models/list-plain-long  longlist "^longone$"
lacks models/list-no-plain    longlist "^models$"
lacks models/list-no-default  longlist "^models@haswell$"
has   models/check-name       long "^PASS $S/models@sandybridge/a$"
has   models/long-group       long "^PASS $S/longone@icelake/a$"
has   models/plain-in-all     all "^PASS $S/models/a$"
lacks models/not-in-all       all "^(PASS|FAIL) $S/models@"
lacks models/long-not-in-all  all "^(PASS|FAIL) $S/longone"
if tail -n 2 "$T/logs/long/models@tigerlake/run/args" 2>/dev/null | tr '\n' ' ' | grep -qx -- '--cpu-model tigerlake '; then
    ok models/cpu-model
else bad models/cpu-model "uhv-run's last arguments for models@tigerlake are not '--cpu-model tigerlake'"; fi
has   models/unknown          badmodel "no such model: pentium"
# on-models: the check only on the models named (the plain group is
# haswell's), and an unknown name stops the group
has   on-models/named         long "^PASS $S/models@sandybridge/only-sandy$"
lacks on-models/not-named     long "^(PASS|FAIL) $S/models@(ivybridge|tigerlake)/only-sandy$"
has   on-models/default       all "^PASS $S/models/not-sandy$"
lacks on-models/default-only  all "^(PASS|FAIL) $S/models/only-sandy$"
has   on-models/list          long "^PASS $S/models@icelake/not-sandy$"
has   on-models/unknown       all "^FAIL $S/onbad/run-ended: not run: onbad.test:3: on-models: unknown model in 'haswell,pentium'"

has   twice/first             all "^PASS $S/twice/lines#1$"
has   twice/second            all "^FAIL $S/twice/lines#2: no console line matches"
has   twice/other             all "^PASS $S/twice/a$"

if [ "$HAVE_TSHARK" = 1 ]; then
    has emptycap/zero-count   all "^FAIL $S/emptycap/nothing: nothing to compare with"
    has emptycap/zero-from-console all "^FAIL $S/emptycap/all: nothing to compare with"
    has zeroonly/zero-count   all "^FAIL $S/zeroonly/nothing: nothing to compare with"
    has emptycontrol/positive all "^FAIL $S/emptycontrol/sent: frames: 0 for .*, wanted at least 1"
    has emptycontrol/zero-count all "^FAIL $S/emptycontrol/nothing: nothing to compare with"
    has nocap/positive        all "^FAIL $S/nocap/sent: no capture file"
    has nocap/zero-count      all "^FAIL $S/nocap/nothing: no capture file"
    has goodcap/count         all "^PASS $S/goodcap/sent$"
    has goodcap/zero-count    all "^PASS $S/goodcap/nothing$"
    has goodcap/sum           all "^PASS $S/goodcap/bytes$"
    has goodcap/zero-sum      all "^PASS $S/goodcap/nobytes$"
    has goodcap/tshark        all "^PASS $S/goodcap/frame$"
    has goodcap/from-console  all "^PASS $S/goodcap/all$"
else
    echo "SKIP harness/capture: tshark not installed"; skip=$((skip + 1))
fi

# The totals: the last line counts the PASS and FAIL lines, and the exit
# status says that something failed; the good groups alone pass.
for r in all good; do
    np=$(grep -c '^PASS ' "$T/$r.out"); nf=$(grep -c '^FAIL ' "$T/$r.out")
    last=$(tail -n 1 "$T/$r.out")
    if [ "$last" = "$np passed, $nf failed" ]; then ok "$r/total"
    else bad "$r/total" "last line '$last', wanted '$np passed, $nf failed'"; fi
done
[ "$(cat "$T/all.rc")" = 1 ] && ok all/exit-status || bad all/exit-status "status $(cat "$T/all.rc"), wanted 1"
[ "$(cat "$T/good.rc")" = 0 ] && ok good/exit-status || bad good/exit-status "status $(cat "$T/good.rc"), wanted 0"
has good/none-failed good "^[1-9][0-9]* passed, 0 failed$"

# ---------------------------------------------------------------- run-all.sh
# last CASE FILE LINE: the last line of FILE is LINE.
last() {
    local l; l=$(tail -n 1 "$T/$2.out")
    if [ "$l" = "$3" ]; then ok "$1"; else bad "$1" "last line '$l', wanted '$3'"; fi
}
# allrun NAME SUITE-ARGS...: tests/run-all.sh with only the given --suite
# NAME COMMAND pairs.
allrun() {
    local name=$1; shift
    "$RUN_ALL" "$@" > "$T/$name.out" 2>&1
    echo $? > "$T/$name.rc"
    [ "$VERBOSE" = 0 ] || sed "s/^/  $name| /" "$T/$name.out"
}
allrun sum   --suite one 'echo "3 passed, 0 failed"' \
             --suite two 'echo "2 passed, 1 failed, 4 skipped"; exit 1'
last run-all/adds-up sum '5 passed, 1 failed, 4 skipped'
[ "$(cat "$T/sum.rc")" = 1 ] && ok run-all/failed-status || bad run-all/failed-status "status $(cat "$T/sum.rc"), wanted 1"

allrun exit  --suite liar 'echo "3 passed, 0 failed"; exit 2'
last run-all/exit-status exit '3 passed, 1 failed, 0 skipped'
[ "$(cat "$T/exit.rc")" = 1 ] && ok run-all/exit-status-rc || bad run-all/exit-status-rc "status $(cat "$T/exit.rc"), wanted 1"

allrun mute  --suite mute 'true'
last run-all/no-count mute '0 passed, 1 failed, 0 skipped'

allrun skip  --suite skips 'echo "7 passed, 0 failed, 2 skipped"'
last run-all/skipped skip '7 passed, 0 failed, 2 skipped'
[ "$(cat "$T/skip.rc")" = 0 ] && ok run-all/passing-status || bad run-all/passing-status "status $(cat "$T/skip.rc"), wanted 0"

# ---------------------------------------------------------------- make bench
# tools/bench.sh in a copy of the tools folder, with a uhv-run that prints
# the CPUID run's lines (none with BENCH_MUTE=1) and sub-benchmarks that
# fail where BENCH_FAIL names them: a failed sub-benchmark shows in the exit
# status and the last line.
B=$T/bench
mkdir -p "$B/tools" "$B/guest-tests/build"
BENCH_SH=${UHV_BENCH_SH:-$ROOT/tools/bench.sh}
cp "$BENCH_SH" "$B/tools/bench.sh"
: > "$B/guest-tests/build/bench.elf"
cat > "$B/tools/uhv-run" <<'X'
#!/usr/bin/env bash
while [ $# -gt 0 ]; do [ "$1" != --log ] || log=$2; shift; done
[ "${BENCH_MUTE:-0}" = 1 ] && exit 2
printf '%s\n' 'uhv: hypervisor core running (entry tsc 500, loader tsc 100)' \
    '[bench] BENCH cpuid_exit_cost 117' '[bench] BENCH first_guest_tsc 1000' \
    'uhv: vm bench: memory: guest 16 MiB, EPT 20 KiB (5 tables), uhv 104 KiB (struct vm 83 KiB)' \
    'uhv: speculation hygiene: RSB fill after exits on' > "$log"
X
for s in virtio net bridge nat control linux linux-net lan; do
    cat > "$B/tools/bench-$s.sh" <<'X'
#!/usr/bin/env bash
n=$(basename "$0")
case " ${BENCH_FAIL:-} " in *" $n "*) echo "$n: no measurement" >&2; exit 2;; esac
echo "  $n: 42 instructions"
X
done
chmod +x "$B"/tools/*
benchrun() {
    local name=$1; shift
    env "$@" "$B/tools/bench.sh" > "$T/$name.out" 2>&1
    echo $? > "$T/$name.rc"
    [ "$VERBOSE" = 0 ] || sed "s/^/  $name| /" "$T/$name.out"
}
benchrun bench-all  BENCH_FAIL=
last bench/all-measured bench-all 'bench: all 13 measured'
has  bench/memory bench-all "^  uhv's memory per VM: +104 KiB beyond guest RAM and EPT \(target <= 256 KiB: met\)$"
[ "$(cat "$T/bench-all.rc")" = 0 ] && ok bench/all-status || bad bench/all-status "status $(cat "$T/bench-all.rc"), wanted 0"
benchrun bench-net  BENCH_FAIL=bench-net.sh
last bench/failed-named bench-net 'bench: 1 of 13 failed: bench-net.sh'
[ "$(cat "$T/bench-net.rc")" = 2 ] && ok bench/failed-status || bad bench/failed-status "status $(cat "$T/bench-net.rc"), wanted 2"
benchrun bench-cpuid BENCH_MUTE=1
last bench/cpuid-named bench-cpuid 'bench: 4 of 13 failed: CPUID and entry (bench.sh), vm_memory, trace_cost, spec_cost'
[ "$(cat "$T/bench-cpuid.rc")" = 2 ] && ok bench/cpuid-status || bad bench/cpuid-status "status $(cat "$T/bench-cpuid.rc"), wanted 2"

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
