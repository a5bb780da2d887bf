#!/usr/bin/env bash
# System tests: boot uhv with groups of guests (several VMs per boot) through
# tools/uhv-run and check each VM's result and console lines from outside.
#
# usage: tests/system/run.sh [--only GROUP[,GROUP]]... [--jobs N] [--list] [--long]
#                            [--efi PATH] [--guests DIR] [--logs DIR] [--groups DIR]
#                            [--emulator auto|bochs|qemu-kvm|qemu-tcg]
#
# Each group is a file tests/system/GROUP.test (--groups DIR: DIR/GROUP.test);
# one directive per line, '#' at the start of a line is a comment:
#   emulator E            auto (default; --emulator overrides it), bochs, qemu-kvm, qemu-tcg
#   timeout SECS          uhv-run timeout (default 300)
#   cpus N / mem MB       machine processors / memory
#   cpu-model M           the Bochs CPU model (uhv-run --cpu-model)
#   long                  the group is part of make test-long, not make test:
#                         run.sh runs it only with --long (which runs only
#                         such groups) or when --only names it
#   models NAME...|all    with --long, the group also runs once on each Bochs
#                         CPU model NAME, as group GROUP@NAME (its checks are
#                         system/GROUP@NAME/CHECK): the group's file with
#                         cpu-model set to NAME's Bochs model (the table
#                         below); 'all' is every model in it but the default.
#                         Only the group's own file counts (not an included
#                         one); --only GROUP@NAME runs any group on any model.
#                         Models with VT-x and EPT (MODELS below), default first:
#                           haswell corei7_haswell_4770 (uhv-run's default),
#                           sandybridge corei7_sandy_bridge_2600k,
#                           ivybridge corei7_ivy_bridge_3770k,
#                           broadwell broadwell_ult, skylake-x corei7_skylake_x,
#                           cannonlake corei3_cnl, icelake corei7_icelake_u,
#                           tigerlake tigerlake
#   on-models NAME[,NAME...] DIRECTIVE...
#                         DIRECTIVE only when the group runs on one of these
#                         models (a group without @NAME runs on haswell): a
#                         check of a feature some CPUs lack, with the check
#                         of what uhv does without it on the others
#   include FILE          FILE's directives (a group file in this folder), as
#                         if written here; a group that runs another on a
#                         different machine says what differs, then includes it
#   global KEY=VALUE      a global uhv.cfg line
#   config FILE           FILE's lines go into uhv.cfg (after global lines,
#                         before the guest sections)
#   files DIR             DIR's files (relative to the repository) go into \uhv\
#   type-on REGEX TEXT    type TEXT (printf %b escapes) on uhv's console when a
#                         line matches REGEX (no spaces in REGEX; use '.')
#   stop-on REGEX         end the run at a console line matching REGEX
#   guest FILE [name=N] [mem=SIZE] [cmdline=TEXT...]
#                         a VM; cmdline takes the rest of the line
#   capture NETWORK[,snaplen=N]
#                         uhv streams NETWORK as pcap on COM3 (config key
#                         capture); saved as capture.pcap in the group's logs
#   ends HOW              how the run is meant to end: summary (the default:
#                         uhv's result lines and poweroff, uhv-run's verdict
#                         PASS or FAIL), returned (uhv returns to the firmware,
#                         as after a bad config), poweroff (uhv powers off
#                         without result lines, as after a panic). A group with
#                         stop-on may also end at its stop-on line.
# Checks: each directive below is one counted check, reported as a line
# "PASS system/GROUP/CHECK" or "FAIL system/GROUP/CHECK: why"; a CHECK name
# that several directives share is numbered: CHECK#1, CHECK#2, ...
#   pass VM                     = result VM exit 1, a line "[VM] PASS ...",
#                                 and no line "[VM] FAIL ..." (CHECK is VM)
#   result CHECK VM KIND [VAL]  a line "uhv: result VM KIND VAL" (also given to
#                               uhv-run as --expect, so its verdict agrees)
#   match CHECK REGEX           some console line matches REGEX (grep -E)
#   nomatch CHECK REGEX         no console line matches REGEX
#   run-tool CHECK REGEX        a line uhv-run printed itself ("uhv-run: ...",
#                               not the console's) matches REGEX, e.g. how
#                               the emulator ended
#   interleave CHECK VM1 VM2 [N]
#                               the lines of VM1 and VM2 alternate >= N times (default 3)
#   status CHECK CODE           uhv-run's exit status is CODE
#   tshark CHECK FILTER REGEX   a line of `tshark -r CAPTURE -Y FILTER` (its
#                               one-line summaries) matches REGEX (grep -E);
#                               FILTER is a display filter without spaces
#   tshark-count CHECK FILTER N exactly N frames match FILTER
#   tshark-sum CHECK FILTER FIELD N
#                               FIELD (e.g. frame.len) summed over the frames
#                               matching FILTER is N
#                               (N: a number, >=NUMBER for at least, or /REGEX/:
#                               the number its first group matches in the last
#                               console line it matches). tshark reads the file
#                               twice (-2), so icmp.resp_in and the like work
# Rules that hold whatever a group's checks say:
#   - How the run ended is a check of every group, run-ended: uhv-run's verdict
#     line and exit status show the end that `ends` asks for. A timeout, an
#     emulator that died, uhv-run without a verdict, or "no summary" where the
#     group did not ask for that fails it.
#   - nomatch holds only on a run that ended as it should (run-ended holds):
#     an empty or cut-off console has no bad line, and proves nothing.
#   - A group with no checks fails (run-ended: "has no checks"); it is not run.
#   - A group that is not run (a missing guest, an unknown directive) fails
#     run-ended and every check, with the reason.
#   - tshark-count or tshark-sum wanting 0 (nothing of a kind got through)
#     holds only beside a positive control in the same capture: another tshark
#     check of the group that wants frames (tshark, or a count or sum of at
#     least 1) and whose filter matched at least one frame. A capture that
#     holds only its pcap header proves nothing.
# Paths: a guest FILE without '/' is in guest-tests/build/, a config FILE
# without '/' is beside the .test files; paths with '/' are relative to the
# repository.
#
# Output: one line per check, then (last) "N passed, M failed"; exit status
# 1 if M > 0. Logs: build/test-logs/GROUP/ (output.log is the console).
# Environment: UHV_RUN replaces tools/uhv-run (tests/harness/ gives a stub);
# UHV_EFI and UHV_GUESTS set the defaults of --efi and --guests.
set -u
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
UHV_RUN=${UHV_RUN:-$ROOT/tools/uhv-run}
EFI=${UHV_EFI:-$ROOT/build/BOOTX64.EFI}
GUESTS=${UHV_GUESTS:-$ROOT/guest-tests/build}
GROUPS_DIR=$HERE
LOGS=$ROOT/build/test-logs
JOBS=2
ONLY=()
EMU_OVERRIDE=
LIST=0
LONG=0

usage() { sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die_usage() { echo "run.sh: $*" >&2; exit 3; }
while [ $# -gt 0 ]; do
    case $1 in
        --only)     [ $# -ge 2 ] || die_usage "--only needs a group"; IFS=, read -ra gl <<< "$2"; ONLY+=("${gl[@]}"); shift 2;;
        --jobs|-j)  [ $# -ge 2 ] || die_usage "--jobs needs a number"; JOBS=$2; shift 2;;
        --efi)      [ $# -ge 2 ] || die_usage "--efi needs a path"; EFI=$2; shift 2;;
        --guests)   [ $# -ge 2 ] || die_usage "--guests needs a directory"; GUESTS=$2; shift 2;;
        --logs)     [ $# -ge 2 ] || die_usage "--logs needs a directory"; LOGS=$2; shift 2;;
        --groups)   [ $# -ge 2 ] || die_usage "--groups needs a directory"; GROUPS_DIR=$2; shift 2;;
        --emulator) [ $# -ge 2 ] || die_usage "--emulator needs a name"; EMU_OVERRIDE=$2; shift 2;;
        --list)     LIST=1; shift;;
        --long)     LONG=1; shift;;
        -h|--help)  usage; exit 0;;
        *)          die_usage "unknown argument: $1";;
    esac
done
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die_usage "--jobs wants a positive number"
case $EMU_OVERRIDE in ''|auto|bochs|qemu-kvm|qemu-tcg) ;; *) die_usage "unknown emulator $EMU_OVERRIDE";; esac
[ -d "$GROUPS_DIR" ] || die_usage "no directory $GROUPS_DIR"
GROUPS_DIR=$(cd "$GROUPS_DIR" && pwd)

# The Bochs CPU models with VT-x and EPT (the 'models' directive), the
# default (uhv-run's) first: short name -> Bochs model.
MODEL_NAMES=(haswell sandybridge ivybridge broadwell skylake-x cannonlake icelake tigerlake)
declare -A MODELS=([haswell]=corei7_haswell_4770 [sandybridge]=corei7_sandy_bridge_2600k
    [ivybridge]=corei7_ivy_bridge_3770k [broadwell]=broadwell_ult [skylake-x]=corei7_skylake_x
    [cannonlake]=corei3_cnl [icelake]=corei7_icelake_u [tigerlake]=tigerlake)

# group_models FILE: the models its own 'models' lines name, one a line
# ('all': every model but the default); an unknown name is a usage error.
group_models() {
    local m
    for m in $(sed -n 's/^[[:space:]]*models[[:space:]]//p' "$1"); do
        if [ "$m" = all ]; then printf '%s\n' "${MODEL_NAMES[@]:1}"
        elif [ -n "${MODELS[$m]:-}" ]; then echo "$m"
        else die_usage "$(basename "$1"): unknown model '$m' (have: all ${MODEL_NAMES[*]})"; fi
    done
}

ALL=()
for f in "$GROUPS_DIR"/*.test; do
    [ -e "$f" ] || continue
    g=$(basename "$f" .test)
    # with --long, a group's 'models' run it on other CPU models as GROUP@M
    if [ "$LONG" = 1 ]; then
        ms=$(group_models "$f") || exit 3
        for m in $ms; do ALL+=("$g@$m"); done
    fi
    # a 'long' group runs with --long only (make test-long), or by name
    if grep -qx 'long' "$f"; then [ "$LONG" = 1 ] || continue
    elif [ "$LONG" = 1 ]; then continue; fi
    ALL+=("$g")
done
if [ "$LIST" = 1 ]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
GROUPS_TO_RUN=()
if [ ${#ONLY[@]} -gt 0 ]; then
    for g in "${ONLY[@]}"; do
        [ -f "$GROUPS_DIR/${g%@*}.test" ] || die_usage "no such group: $g (have: ${ALL[*]})"
        [[ $g != *@* ]] || [ -n "${MODELS[${g#*@}]:-}" ] ||
            die_usage "no such model: ${g#*@} (have: ${MODEL_NAMES[*]})"
        GROUPS_TO_RUN+=("$g")
    done
else
    GROUPS_TO_RUN=("${ALL[@]}")
fi
mkdir -p "$LOGS" || exit 2
EFI=$(realpath -m "$EFI"); GUESTS=$(realpath -m "$GUESTS"); LOGS=$(realpath -m "$LOGS")

# ---------------------------------------------------------------- captures
# expect_value SPEC CONSOLE: SPEC itself if it is a number; for /REGEX/, the
# first group of REGEX in the last console line that matches it.
expect_value() {
    local spec=$1 re l v=
    [[ $spec =~ ^/(.*)/$ ]] || { echo "$spec"; return; }
    re=${BASH_REMATCH[1]}
    while IFS= read -r l; do
        [[ $l =~ $re ]] && v=${BASH_REMATCH[1]}
    done < "$2"
    echo "$v"
}

# tshark_check KIND ARGS CAPTURE CONSOLE DIR: sets TS_WHY to why the check
# fails (empty if it holds), TS_FRAMES to the number of frames FILTER matched
# and TS_WANT to what the check wants: "zero" (a count or sum of 0: nothing
# got through), "some" (at least one frame) or empty (it could not tell).
# tshark's outputs go to DIR/tshark.log.
tshark_check() {
    local kind=$1 filter=${2%%[[:space:]]*} arg cap=$3 out err got want field=
    TS_WHY= TS_FRAMES=0 TS_WANT=
    arg=${2#"$filter"}; arg=${arg#"${arg%%[![:space:]]*}"}
    [ -s "$cap" ] || { TS_WHY="no capture file ${cap#"$ROOT"/}"; return; }
    case $kind in
        tshark)       out=$(tshark -2 -r "$cap" -Y "$filter" 2>"$5/tshark.err");;
        tshark-count) out=$(tshark -2 -r "$cap" -Y "$filter" -T fields -e frame.number 2>"$5/tshark.err");;
        tshark-sum)   field=${arg%%[[:space:]]*}; arg=${arg#"$field"}; arg=${arg#"${arg%%[![:space:]]*}"}
                      out=$(tshark -2 -r "$cap" -Y "$filter" -T fields -e frame.number -e "$field" 2>"$5/tshark.err");;
    esac
    err=$(grep -v '^Running as user' "$5/tshark.err" | head -n 1)
    printf '== %s %s\n%s\n' "$kind" "$2" "$out" >> "$5/tshark.log"
    [ -z "$err" ] || { TS_WHY="tshark -Y '$filter': $err"; return; }
    TS_FRAMES=$(grep -c . <<< "$out")
    case $kind in
        tshark)
            TS_WANT=some
            grep -qE -- "$arg" <<< "$out" ||
                TS_WHY="no frame of '$filter' shows '$arg' ($TS_FRAMES matched the filter)";;
        tshark-count|tshark-sum)
            if [ "$kind" = tshark-count ]; then got=$TS_FRAMES
            else got=$(awk '{ s += $2 } END { print s + 0 }' <<< "$out"); fi
            local least=; [[ $arg != '>='* ]] || { least='at least '; arg=${arg#>=}; }
            want=$(expect_value "$arg" "$4")
            [[ $want =~ ^[0-9]+$ ]] || { TS_WHY="no console line gives a number for '$arg'"; return; }
            if [ "$want" -gt 0 ]; then TS_WANT=some; else TS_WANT=zero; fi
            if [ -n "$least" ]; then [ "$got" -ge "$want" ]; else [ "$got" = "$want" ]; fi ||
                TS_WHY="${field:-frames}: $got for '$filter', wanted $least$want";;
    esac
}

# ---------------------------------------------------------------- how it ended
# run_ended ENDS HAS_STOP VERDICT STATUS: prints why the run did not end as
# the group asks (nothing if it did). uhv-run prints its verdict last:
# "PASS: ..." (status 0) or "FAIL: ..." (1) after uhv's summary, or a reason
# for having none, "TIMEOUT ..." or "NO SUMMARY: ..." (2).
run_ended() {
    local ends=$1 has_stop=$2 v=${3#uhv-run: } status=$4 how= code=2
    case $v in
        "PASS: "*)                                           how=summary code=0;;
        "FAIL: "*)                                           how=summary code=1;;
        "NO SUMMARY: uhv returned to firmware"*)             how=returned;;
        "NO SUMMARY: uhv powered off without result lines"*) how=poweroff;;
        "NO SUMMARY: stopped at a --stop-on line"*)          how=stop-on;;
    esac
    if [ -z "$how" ]; then
        echo "the run did not end as it should: $v"
    elif [ "$status" != "$code" ]; then
        echo "uhv-run's verdict '$v' with exit status $status (wanted $code)"
    elif [ "$how" != "$ends" ] && ! { [ "$how" = stop-on ] && [ "$has_stop" = 1 ]; }; then
        local want
        case $ends in
            summary)  want="uhv's summary";;
            returned) want="uhv returning to the firmware";;
            poweroff) want="uhv powering off without result lines";;
        esac
        echo "the run ended with '$v', wanted $want"
    fi
}

# ---------------------------------------------------------------- one group
# Runs in a subshell; writes $LOGS/GROUP/results (PASS/FAIL lines) and prints
# them in one piece when done.
# expand_includes FILE: FILE's lines, each 'include OTHER' replaced by the
# lines of GROUPS_DIR/OTHER (one level: an included file includes nothing).
# A group that is another one on a different machine says what differs,
# then includes it (linux-icelake.test).
expand_includes() {
    local l
    while IFS= read -r l || [ -n "$l" ]; do
        if [[ $l =~ ^include[[:space:]]+([^[:space:]]+)$ ]]; then
            if [ -f "$GROUPS_DIR/${BASH_REMATCH[1]}" ]; then
                grep -v '^[[:space:]]*include[[:space:]]' "$GROUPS_DIR/${BASH_REMATCH[1]}"
            else
                echo "missing-include ${BASH_REMATCH[1]}"
            fi
        else
            printf '%s\n' "$l"
        fi
    done < "$1"
}

# on_models GROUP LIST: whether GROUP (GROUP@MODEL, or the default model)
# runs on one of LIST's comma-separated models: 0 yes, 1 no, 2 LIST names
# a model run.sh does not know (a problem of the group, so a typo cannot
# silently drop a check).
on_models() {
    local model=${MODEL_NAMES[0]} m
    [[ $1 != *@* ]] || model=${1#*@}
    IFS=, read -ra ml <<< "$2"
    for m in "${ml[@]}"; do [ -n "${MODELS[$m]:-}" ] || return 2; done
    for m in "${ml[@]}"; do [ "$m" != "$model" ] || return 0; done
    return 1
}

run_group() {
    local group=$1 file=$GROUPS_DIR/${1%@*}.test dir=$LOGS/$1
    # Survive ^C and TERM (uhv-run gets them, stops its emulator and returns)
    # so that the checks are still reported.
    trap '' INT TERM
    rm -rf "$dir"; mkdir -p "$dir"
    local -a args=() names=() conds=() problems=()
    local -A uses=()         # check name -> how many directives give it
    local emulator=auto timeout=300 lineno=0 line kw rest capture= ends=summary has_stop=0
    add_check() {            # add_check CHECK CONDITION...: one counted check
        local c=$1 s=; shift
        [ -n "$c" ] || { problems+=("${group%@*}.test:$lineno: $kw needs a check name"); return; }
        local x; for x in "$@"; do s+=$x$'\n'; done
        names+=("$c"); conds+=("$s"); uses[$c]=$(( ${uses[$c]:-0} + 1 ))
    }
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line=${line#"${line%%[![:space:]]*}"}; line=${line%"${line##*[![:space:]]}"}
        [ -z "$line" ] || [ "${line:0:1}" = "#" ] && continue
        kw=${line%%[[:space:]]*}; rest=${line:${#kw}}; rest=${rest#"${rest%%[![:space:]]*}"}
        if [ "$kw" = on-models ]; then
            local onm=${rest%%[[:space:]]*} onrc=0
            on_models "$group" "$onm" || onrc=$?
            [ $onrc != 2 ] || problems+=("${group%@*}.test:$lineno: on-models: unknown model in '$onm' (have: ${MODEL_NAMES[*]})")
            [ $onrc = 0 ] || continue
            line=${rest#*[[:space:]]}; line=${line#"${line%%[![:space:]]*}"}
            kw=${line%%[[:space:]]*}; rest=${line:${#kw}}; rest=${rest#"${rest%%[![:space:]]*}"}
        fi
        local -a w; read -ra w <<< "$rest"
        case $kw in
            emulator) emulator=$rest;;
            timeout)  timeout=$rest;;
            cpus)     args+=(--cpus "$rest");;
            cpu-model) args+=(--cpu-model "$rest");;
            mem)      args+=(--mem "$rest");;
            global)   args+=(--global "$rest");;
            stop-on)  args+=(--stop-on "$rest"); has_stop=1;;
            ends)
                case $rest in
                    summary|returned|poweroff) ends=$rest;;
                    *) problems+=("${group%@*}.test:$lineno: ends wants summary, returned or poweroff");;
                esac;;
            capture)
                capture=$dir/capture.pcap
                args+=(--global "capture=$rest" --capture "$capture");;
            type-on)
                local tre=${w[0]:-} ttext=${rest#"${w[0]:-}"}
                ttext=${ttext#"${ttext%%[![:space:]]*}"}
                args+=(--type-on "$tre" "$ttext");;
            files)
                local fd=$ROOT/$rest
                [ -d "$fd" ] || problems+=("missing directory $rest (tools/mk-linux-guest.sh builds build/linux)")
                args+=(--files "$fd");;
            config)
                local cf=$rest
                if [[ $cf == */* ]]; then cf=$ROOT/$cf; else cf=$GROUPS_DIR/$cf; fi
                [ -f "$cf" ] || problems+=("missing config $cf")
                args+=(--config "$cf");;
            guest)
                local gf=${w[0]:-} spec opt
                if [[ $gf == */* ]]; then gf=$ROOT/$gf; else gf=$GUESTS/$gf; fi
                [ -f "$gf" ] || problems+=("missing guest ${gf#"$ROOT"/} (build the guest tests)")
                spec=$gf
                local r2=${rest#"${w[0]}"}
                r2=${r2#"${r2%%[![:space:]]*}"}
                while [ -n "$r2" ]; do
                    if [[ $r2 == cmdline=* ]]; then spec+=",$r2"; break; fi
                    opt=${r2%%[[:space:]]*}; spec+=",$opt"
                    r2=${r2:${#opt}}; r2=${r2#"${r2%%[![:space:]]*}"}
                done
                args+=(--guest "$spec");;
            pass)
                add_check "${w[0]:-}" "result ${w[0]:-} exit 1" "match ^\\[${w[0]:-}\\] PASS" \
                    "nomatch ^\\[${w[0]:-}\\] FAIL";;
            result)     add_check "${w[0]:-}" "result ${w[*]:1}"
                        # uhv-run's verdict then agrees (the check is ours)
                        args+=(--expect "${w[1]:-}=${w[*]:2}");;
            match|nomatch|run-tool)
                local re=${rest#"${w[0]:-}"}; re=${re#"${re%%[![:space:]]*}"}
                add_check "${w[0]:-}" "$kw $re";;
            interleave) add_check "${w[0]:-}" "interleave ${w[*]:1}";;
            status)     add_check "${w[0]:-}" "status ${w[1]:-}";;
            tshark|tshark-count|tshark-sum)
                local targs=${rest#"${w[0]:-}"}; targs=${targs#"${targs%%[![:space:]]*}"}
                [ -n "$capture" ] || problems+=("${group%@*}.test:$lineno: $kw before any capture directive")
                command -v tshark >/dev/null || problems+=("tshark not installed (run tools/deps.sh)")
                add_check "${w[0]:-}" "$kw $targs";;
            long|models) ;;
            missing-include) problems+=("${group%@*}.test: include of a missing file $rest");;
            *) problems+=("${group%@*}.test:$lineno: unknown directive '$kw'");;
        esac
    done < <(expand_includes "$file")
    # GROUP@M: the model wins over the file's own cpu-model (uhv-run takes the last)
    [[ $group != *@* ]] || args+=(--cpu-model "${MODELS[${group#*@}]}")
    [ -n "$EMU_OVERRIDE" ] && [ "$emulator" = auto ] && emulator=$EMU_OVERRIDE
    [ -f "$EFI" ] || problems+=("missing $EFI (build uhv first)")
    [ ${#names[@]} -gt 0 ] || problems+=("${group%@*}.test has no checks")

    local out=$dir/output.log console=$dir/console.log status=2 verdict t0=$SECONDS
    if [ ${#problems[@]} -eq 0 ]; then
        ( trap - INT TERM; exec "$UHV_RUN" --efi "$EFI" --emulator "$emulator" --timeout "$timeout" \
              --keep "$dir/run" "${args[@]}" ) > "$out" 2> "$dir/uhv-run.err" &
        local upid=$!
        echo "$upid" > "$dir/uhv-run.pid"
        wait "$upid"; status=$?
        rm -f "$dir/uhv-run.pid"
        grep -v '^uhv-run: ' "$out" > "$console"
        verdict=$(grep '^uhv-run: ' "$out" | tail -n 1)
        verdict=${verdict:-"uhv-run: no verdict (status $status)"}
    else
        : > "$out"; : > "$console"
        verdict="not run: ${problems[0]}"
    fi
    echo "$verdict" > "$dir/verdict"

    # How the run ended: the first check of every group.
    local ended res=$dir/results
    if [ ${#problems[@]} -gt 0 ]; then ended="not run: ${problems[*]}"
    else ended=$(run_ended "$ends" "$has_stop" "$verdict" "$status"); fi
    if [ -z "$ended" ]; then echo "PASS system/$group/run-ended" > "$res"
    else echo "FAIL system/$group/run-ended: $ended (log: ${dir#"$ROOT"/}/output.log)" > "$res"; fi

    # Evaluate the checks: why[i] is empty where check i holds. A tshark
    # check that wants nothing (zero[i]) holds only beside a positive control.
    local i c cl kind why positive=0 nth
    local -a whys=() zero=() a
    local -A seen=()
    for i in "${!names[@]}"; do
        why=
        zero[i]=0
        if [ ${#problems[@]} -gt 0 ]; then
            why="${problems[*]}"
        else
            while IFS= read -r cl; do
                [ -n "$cl" ] || continue
                kind=${cl%% *}; rest=${cl#"$kind"}; rest=${rest# }
                case $kind in
                    result)
                        read -ra a <<< "$rest"
                        local want="uhv: result ${a[0]:-} ${a[1]:-}${a[2]:+ ${a[2]}}" got
                        got=$(grep -E "^uhv: result ${a[0]:-} " "$console" | tail -n 1)
                        if [ -z "$got" ]; then why="no result line for ${a[0]:-} (wanted '$want')"
                        elif [[ "$got" != "$want" && "$got" != "$want "* ]]; then why="got '$got', wanted '$want'"
                        fi;;
                    match)
                        grep -qE -- "$rest" "$console" || why="no console line matches '$rest'";;
                    run-tool)
                        grep '^uhv-run: ' "$out" | grep -qE -- "$rest" ||
                            why="no line of uhv-run's own matches '$rest'";;
                    nomatch)
                        if [ -n "$ended" ]; then
                            why="counts only on a run that reached its end (see run-ended)"
                        else
                            local bad; bad=$(grep -E -m1 -- "$rest" "$console")
                            [ -z "$bad" ] || why="unexpected line '$bad'"
                        fi;;
                    interleave)
                        read -ra a <<< "$rest"
                        local n
                        n=$(awk -v a="[${a[0]:-}]" -v b="[${a[1]:-}]" '
                            { w = (index($0, a) == 1) ? "a" : (index($0, b) == 1) ? "b" : "" }
                            w != "" && w != last { if (last != "") n++; last = w }
                            END { print n + 0 }' "$console")
                        [ "$n" -ge "${a[2]:-3}" ] ||
                            why="lines of ${a[0]:-} and ${a[1]:-} alternate $n times, wanted ${a[2]:-3}";;
                    status)
                        [ "$status" = "$rest" ] || why="uhv-run status $status, wanted $rest";;
                    tshark*)
                        tshark_check "$kind" "$rest" "$capture" "$console" "$dir"
                        why=$TS_WHY
                        [ "$TS_WANT" != zero ] || zero[i]=1
                        [ "$TS_WANT" != some ] || [ "$TS_FRAMES" -eq 0 ] || positive=1;;
                esac
                [ -z "$why" ] || break
            done <<< "${conds[i]}"
        fi
        whys[i]=$why
    done
    for i in "${!names[@]}"; do
        c=${names[i]}
        if [ "${uses[$c]}" -gt 1 ]; then
            nth=$(( ${seen[$c]:-0} + 1 )); seen[$c]=$nth; c+="#$nth"
        fi
        why=${whys[i]}
        if [ -z "$why" ] && [ "${zero[i]}" = 1 ] && [ "$positive" = 0 ]; then
            why="nothing to compare with: no other tshark check of the group wants frames and finds one in ${capture#"$ROOT"/} (a positive control)"
        fi
        if [ -z "$why" ]; then
            echo "PASS system/$group/$c" >> "$res"
        else
            case $verdict in
                *PASS:*|*FAIL:*) ;;
                *) [ ${#problems[@]} -gt 0 ] || why="$why [$verdict]";;
            esac
            echo "FAIL system/$group/$c: $why (log: ${dir#"$ROOT"/}/output.log)" >> "$res"
        fi
    done
    printf '# %s: %ss, %s\n%s\n' "$group" $((SECONDS - t0)) "$verdict" "$(cat "$res")"
}

# ---------------------------------------------------------------- run the groups
STOPPING=0
stop_all() {
    STOPPING=1
    local p
    for p in "$LOGS"/*/uhv-run.pid; do
        [ -f "$p" ] && kill -TERM "$(cat "$p")" 2>/dev/null
    done
}
trap 'stop_all' INT TERM

for g in "${GROUPS_TO_RUN[@]}"; do rm -f "$LOGS/$g/results"; done
echo "# system tests: ${GROUPS_TO_RUN[*]} ($JOBS at a time; logs in ${LOGS#"$ROOT"/}/)"
running=0
for g in "${GROUPS_TO_RUN[@]}"; do
    [ "$STOPPING" = 0 ] || break
    while [ "$running" -ge "$JOBS" ]; do
        wait -n; running=$((running - 1))
        [ "$STOPPING" = 0 ] || break
    done
    [ "$STOPPING" = 0 ] || break
    run_group "$g" &
    running=$((running + 1))
done
while [ "$(jobs -pr | wc -l)" -gt 0 ]; do wait; done

passed=0 failed=0
for g in "${GROUPS_TO_RUN[@]}"; do
    r=$LOGS/$g/results
    if [ -f "$r" ]; then
        passed=$((passed + $(grep -c '^PASS ' "$r")))
        failed=$((failed + $(grep -c '^FAIL ' "$r")))
    else
        echo "FAIL system/$g: not run$([ "$STOPPING" = 0 ] || echo " (interrupted)")"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
