#!/usr/bin/env bash
# System tests: boot uhv with groups of guests (several VMs per boot) through
# tools/uhv-run and check each VM's result and console lines from outside.
#
# usage: tests/system/run.sh [--only GROUP[,GROUP]]... [--jobs N] [--list]
#                            [--efi PATH] [--guests DIR] [--logs DIR]
#                            [--emulator auto|bochs|qemu-kvm|qemu-tcg]
#
# Each group is a file tests/system/GROUP.test; one directive per line, '#'
# at the start of a line is a comment:
#   emulator E            auto (default; --emulator overrides it), bochs, qemu-kvm, qemu-tcg
#   timeout SECS          uhv-run timeout (default 300)
#   cpus N / mem MB       machine processors / memory
#   cpu-model M           the Bochs CPU model (uhv-run --cpu-model)
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
# Checks (each CHECK name gives one line "PASS system/GROUP/CHECK"; the
# conditions given for the same CHECK must all hold):
#   pass VM                     = result VM exit 1, a line "[VM] PASS ...",
#                                 and no line "[VM] FAIL ..." (CHECK is VM)
#   result CHECK VM KIND [VAL]  a line "uhv: result VM KIND VAL"
#   match CHECK REGEX           some console line matches REGEX (grep -E)
#   nomatch CHECK REGEX         no console line matches REGEX
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
# Paths: a guest FILE without '/' is in guest-tests/build/, a config FILE
# without '/' is in tests/system/; paths with '/' are relative to the repository.
#
# Output: one line per check, then (last) "N passed, M failed"; exit status
# 1 if M > 0. Logs: build/test-logs/GROUP/ (output.log is the console).
set -u
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
UHV_RUN=$ROOT/tools/uhv-run
EFI=${UHV_EFI:-$ROOT/build/BOOTX64.EFI}
GUESTS=${UHV_GUESTS:-$ROOT/guest-tests/build}
LOGS=$ROOT/build/test-logs
JOBS=2
ONLY=()
EMU_OVERRIDE=
LIST=0

usage() { sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die_usage() { echo "run.sh: $*" >&2; exit 3; }
while [ $# -gt 0 ]; do
    case $1 in
        --only)     [ $# -ge 2 ] || die_usage "--only needs a group"; IFS=, read -ra gl <<< "$2"; ONLY+=("${gl[@]}"); shift 2;;
        --jobs|-j)  [ $# -ge 2 ] || die_usage "--jobs needs a number"; JOBS=$2; shift 2;;
        --efi)      [ $# -ge 2 ] || die_usage "--efi needs a path"; EFI=$2; shift 2;;
        --guests)   [ $# -ge 2 ] || die_usage "--guests needs a directory"; GUESTS=$2; shift 2;;
        --logs)     [ $# -ge 2 ] || die_usage "--logs needs a directory"; LOGS=$2; shift 2;;
        --emulator) [ $# -ge 2 ] || die_usage "--emulator needs a name"; EMU_OVERRIDE=$2; shift 2;;
        --list)     LIST=1; shift;;
        -h|--help)  usage; exit 0;;
        *)          die_usage "unknown argument: $1";;
    esac
done
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die_usage "--jobs wants a positive number"
case $EMU_OVERRIDE in ''|auto|bochs|qemu-kvm|qemu-tcg) ;; *) die_usage "unknown emulator $EMU_OVERRIDE";; esac

ALL=()
for f in "$HERE"/*.test; do
    [ -e "$f" ] || continue
    g=$(basename "$f" .test); ALL+=("$g")
done
if [ "$LIST" = 1 ]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
GROUPS_TO_RUN=()
if [ ${#ONLY[@]} -gt 0 ]; then
    for g in "${ONLY[@]}"; do
        [ -f "$HERE/$g.test" ] || die_usage "no such group: $g (have: ${ALL[*]})"
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

# tshark_check KIND ARGS CAPTURE CONSOLE DIR: prints why the check fails
# (nothing if it holds). tshark's outputs go to DIR/tshark.log.
tshark_check() {
    local kind=$1 filter=${2%%[[:space:]]*} arg cap=$3 out err got want field
    arg=${2#"$filter"}; arg=${arg#"${arg%%[![:space:]]*}"}
    [ -s "$cap" ] || { echo "no capture file ${cap#"$ROOT"/}"; return; }
    case $kind in
        tshark)       out=$(tshark -2 -r "$cap" -Y "$filter" 2>"$5/tshark.err");;
        tshark-count) out=$(tshark -2 -r "$cap" -Y "$filter" -T fields -e frame.number 2>"$5/tshark.err");;
        tshark-sum)   field=${arg%%[[:space:]]*}; arg=${arg#"$field"}; arg=${arg#"${arg%%[![:space:]]*}"}
                      out=$(tshark -2 -r "$cap" -Y "$filter" -T fields -e "$field" 2>"$5/tshark.err");;
    esac
    err=$(grep -v '^Running as user' "$5/tshark.err" | head -n 1)
    printf '== %s %s\n%s\n' "$kind" "$2" "$out" >> "$5/tshark.log"
    [ -z "$err" ] || { echo "tshark -Y '$filter': $err"; return; }
    case $kind in
        tshark)
            grep -qE -- "$arg" <<< "$out" ||
                echo "no frame of '$filter' shows '$arg' ($(grep -c . <<< "$out") matched the filter)";;
        tshark-count|tshark-sum)
            if [ "$kind" = tshark-count ]; then got=$(grep -c . <<< "$out")
            else got=$(awk '{ s += $1 } END { print s + 0 }' <<< "$out"); fi
            local least=; [[ $arg != '>='* ]] || { least='at least '; arg=${arg#>=}; }
            want=$(expect_value "$arg" "$4")
            [[ $want =~ ^[0-9]+$ ]] || { echo "no console line gives a number for '$arg'"; return; }
            if [ -n "$least" ]; then [ "$got" -ge "$want" ]; else [ "$got" = "$want" ]; fi ||
                echo "${field:-frames}: $got for '$filter', wanted $least$want";;
    esac
}

# ---------------------------------------------------------------- one group
# Runs in a subshell; writes $LOGS/GROUP/results (PASS/FAIL lines) and prints
# them in one piece when done.
run_group() {
    local group=$1 file=$HERE/$1.test dir=$LOGS/$1
    # Survive ^C and TERM (uhv-run gets them, stops its emulator and returns)
    # so that the checks are still reported.
    trap '' INT TERM
    rm -rf "$dir"; mkdir -p "$dir"
    local -a args=() checks=() problems=()
    local -A cond=()         # check -> newline-separated conditions
    local emulator=auto timeout=300 lineno=0 line kw rest capture=
    add_cond() {             # add_cond CHECK CONDITION...
        local c=$1; shift
        [[ -v "cond[$c]" ]] || { checks+=("$c"); cond[$c]=; }
        cond[$c]+="$*"$'\n'
    }
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line=${line#"${line%%[![:space:]]*}"}; line=${line%"${line##*[![:space:]]}"}
        [ -z "$line" ] || [ "${line:0:1}" = "#" ] && continue
        kw=${line%%[[:space:]]*}; rest=${line:${#kw}}; rest=${rest#"${rest%%[![:space:]]*}"}
        local -a w; read -ra w <<< "$rest"
        case $kw in
            emulator) emulator=$rest;;
            timeout)  timeout=$rest;;
            cpus)     args+=(--cpus "$rest");;
            cpu-model) args+=(--cpu-model "$rest");;
            mem)      args+=(--mem "$rest");;
            global)   args+=(--global "$rest");;
            stop-on)  args+=(--stop-on "$rest");;
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
                if [[ $cf == */* ]]; then cf=$ROOT/$cf; else cf=$HERE/$cf; fi
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
                add_cond "${w[0]}" result "${w[0]}" exit 1
                add_cond "${w[0]}" match "^\\[${w[0]}\\] PASS"
                add_cond "${w[0]}" nomatch "^\\[${w[0]}\\] FAIL";;
            result)     add_cond "${w[0]}" result "${w[@]:1}"
                        # uhv-run's verdict then agrees (the check is ours)
                        args+=(--expect "${w[1]}=${w[*]:2}");;
            match|nomatch)
                local re=${rest#"${w[0]}"}; re=${re#"${re%%[![:space:]]*}"}
                add_cond "${w[0]}" "$kw" "$re";;
            interleave) add_cond "${w[0]}" interleave "${w[@]:1}";;
            status)     add_cond "${w[0]}" status "${w[1]}";;
            tshark|tshark-count|tshark-sum)
                local targs=${rest#"${w[0]}"}; targs=${targs#"${targs%%[![:space:]]*}"}
                [ -n "$capture" ] || problems+=("$group.test:$lineno: $kw before any capture directive")
                command -v tshark >/dev/null || problems+=("tshark not installed (run tools/deps.sh)")
                add_cond "${w[0]}" "$kw" "$targs";;
            *) problems+=("$group.test:$lineno: unknown directive '$kw'");;
        esac
    done < "$file"
    [ -n "$EMU_OVERRIDE" ] && [ "$emulator" = auto ] && emulator=$EMU_OVERRIDE
    [ -f "$EFI" ] || problems+=("missing $EFI (build uhv first)")
    [ ${#checks[@]} -gt 0 ] || problems+=("$group.test has no checks")

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

    # Evaluate the checks.
    local c kind res=$dir/results why
    : > "$res"
    local -a a
    for c in "${checks[@]}"; do
        why=
        if [ ${#problems[@]} -gt 0 ]; then
            why="${problems[*]}"
        else
            while IFS= read -r cl; do
                [ -n "$cl" ] || continue
                kind=${cl%% *}; rest=${cl#"$kind"}; rest=${rest# }
                case $kind in
                    result)
                        read -ra a <<< "$rest"
                        local want="uhv: result ${a[0]} ${a[1]}${a[2]:+ ${a[2]}}" got
                        got=$(grep -E "^uhv: result ${a[0]} " "$console" | tail -n 1)
                        if [ -z "$got" ]; then why="no result line for ${a[0]} (wanted '$want')"
                        elif [[ "$got" != "$want" && "$got" != "$want "* ]]; then why="got '$got', wanted '$want'"
                        fi;;
                    match)
                        grep -qE -- "$rest" "$console" || why="no console line matches '$rest'";;
                    nomatch)
                        local bad; bad=$(grep -E -m1 -- "$rest" "$console")
                        [ -z "$bad" ] || why="unexpected line '$bad'";;
                    interleave)
                        read -ra a <<< "$rest"
                        local n
                        n=$(awk -v a="[${a[0]}]" -v b="[${a[1]}]" '
                            { w = (index($0, a) == 1) ? "a" : (index($0, b) == 1) ? "b" : "" }
                            w != "" && w != last { if (last != "") n++; last = w }
                            END { print n + 0 }' "$console")
                        [ "$n" -ge "${a[2]:-3}" ] ||
                            why="lines of ${a[0]} and ${a[1]} alternate $n times, wanted ${a[2]:-3}";;
                    status)
                        [ "$status" = "$rest" ] || why="uhv-run status $status, wanted $rest";;
                    tshark*)
                        why=$(tshark_check "$kind" "$rest" "$capture" "$console" "$dir");;
                esac
                [ -z "$why" ] || break
            done <<< "${cond[$c]}"
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
