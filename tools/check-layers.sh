#!/usr/bin/env bash
# check-layers.sh: uhv's layering rules, checked on the source (make test
# runs it through tests/layering/run.sh; docs/layering.md explains the
# folders). Every include is root-relative (-I.), so an include names the
# file it pulls in, and a rule is a rule about include lines:
#
#  1 (pure)    A file in vmm/dev/, vmm/virtio/, vmm/net/ or vmm/trace/
#              includes only its own folder, the headers of the others of
#              these folders, lib/ and vmm/gmem.h: never arch/, drivers/, boot/, the VMM
#              proper (a file directly in vmm/) or vmm/ctl/. Why: these
#              parts are pure C over guest memory, built as they are into
#              the host unit tests and the fuzzers; one include of the VMM
#              or of the CPU code and they no longer build there.
#  2 (drivers) A file in drivers/ includes nothing from vmm/. Why: drivers
#              drive uhv's own hardware; the VMM uses them, not the other
#              way round (a driver that needs a VMM type gets it through
#              an interface of its own).
#  3 (arch)    Nothing in arch/ names a vmm/ symbol: no include of vmm/
#              (C or a nasm %include), no `extern NAME` in a .asm file for
#              a NAME that a vmm/ .c file defines, and, where build/ holds
#              objects at least as new as their sources, no undefined
#              symbol of an arch/ object that a vmm/ object defines (nm).
#              Why: arch/ is VT-x and the CPU; the VMM calls it and hands
#              it its handlers, so arch/ can be read, tested and ported
#              without the VMM (arch/x86/vcpu.h).
#  4 (vmcs)    The VMM proper (vmm/*.c, vmm/*.h) and vmm/ctl/ include no
#              arch header that names VMCS field encodings: the headers
#              under arch/ with a `#define VMCS_...`/`GUEST_...`/`HOST_...`
#              encoding, an enumerator `VMCS_... = 0x...` or an
#              `enum vmcs_field` (VMREAD/VMWRITE's argument), found by
#              grep each run, not listed here (today arch/x86/vmx.h and
#              arch/x86/vmx_ops.h), and every arch header that includes
#              one of those, directly or not. Why: arch/x86/ owns the VMCS; the VMM
#              reads and writes guest state by name (arch_vcpu_get/set).
#  5 (tools)   A C file in tools/ or agent/ includes only lib/, its own
#              folder and the protocol headers in PROTOCOL_HEADERS below.
#              Why: uhvctl and the guest agent are host and guest
#              programs; they share the wire format with uhv, not its code.
#              tests/ is exempt (tests/uhvctl/fake_uhv.c uses the VMM's
#              control-protocol code on purpose).
#
# An include is resolved as the compiler would: a quoted one against the
# including file's folder first, then the root (so "../../arch/x86/cpu.h"
# cannot dodge a rule), an <angle> one against the root when it names a
# file of the tree or starts with one of its top folders. System headers
# (<stdarg.h>, <efi.h>) are not checked.
#
# usage: tools/check-layers.sh [--root DIR] [--no-nm] [-v]
#   --root DIR  check the tree at DIR (default: this script's tree)
#   --no-nm     skip the object-file check of rule 3
#   -v          also say which headers rule 4 found and whether nm ran
# Output: one line per violation, "FILE:LINE: rule N (NAME): what", then
# "layering: N files checked, M violations". Exit status 0 if none, 1 if
# any, 2 on a usage error.
set -u
export LC_ALL=C

# Protocol headers tools/ and agent/ may include. None today: uhvctl
# speaks the protocol through lib/json.h alone, and vmm/ctl/ctl.h is not
# one (it includes vmm/config.h, the VMM's configuration).
PROTOCOL_HEADERS=""

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
USE_NM=1
VERBOSE=0
while [ $# -gt 0 ]; do
    case $1 in
        --root) [ $# -ge 2 ] || { echo "check-layers.sh: --root wants a folder" >&2; exit 2; }
                ROOT=$2; shift 2 ;;
        --no-nm) USE_NM=0; shift ;;
        -v) VERBOSE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "check-layers.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
    esac
done
cd "$ROOT" 2>/dev/null || { echo "check-layers.sh: no folder '$ROOT'" >&2; exit 2; }

TOPS="vmm arch drivers lib boot tools agent"
T=$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT

# The files checked, and every file of the tree an include could name.
# shellcheck disable=SC2086
find $TOPS -type f \( -name '*.c' -o -name '*.h' -o -name '*.asm' \) 2>/dev/null |
    sort > "$T/files"
find . -path ./build -prune -o -path ./.git -prune -o -type f \
    \( -name '*.[ch]' -o -name '*.asm' -o -name '*.inc' -o -name '*.mac' \) -print |
    sed 's|^\./||' | sort > "$T/tree"
nfiles=$(wc -l < "$T/files")

# Rule 4's headers: those under arch/ that name VMCS field encodings.
find arch -type f -name '*.h' 2>/dev/null | sort |
    xargs -r grep -lE '^[[:space:]]*#[[:space:]]*define[[:space:]]+(VMCS|GUEST|HOST)_[A-Z0-9_]+[[:space:]]+\(?0x[0-9a-fA-F]{4}\b|\bVMCS_[A-Z0-9_]+[[:space:]]*=[[:space:]]*0x|\benum[[:space:]]+vmcs_field\b' \
    > "$T/vmcs" || true
# ... and those that include one of them, directly or through others:
# the VMM must not reach an encoding through an innocent-looking header.
while :; do
    added=0
    for h in $(find arch -type f -name '*.h' 2>/dev/null | sort); do
        grep -qxF "$h" "$T/vmcs" && continue
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$h"); do
            if grep -qxF "$inc" "$T/vmcs"; then
                echo "$h" >> "$T/vmcs"; added=1; break
            fi
        done
    done
    [ "$added" = 0 ] && break
done
[ "$VERBOSE" = 1 ] && echo "layering: rule 4's headers (VMCS encodings): $(tr '\n' ' ' < "$T/vmcs")"

# ---- the include lines: rules 1-5
# shellcheck disable=SC2016
xargs -r awk -v tops="$TOPS" -v proto="$PROTOCOL_HEADERS" \
    -v treelist="$T/tree" -v vmcslist="$T/vmcs" '
function norm(p,   n, a, i, k, st, out) {   # "" if it leaves the root
    n = split(p, a, "/"); k = 0
    for (i = 1; i <= n; i++) {
        if (a[i] == "" || a[i] == ".") continue
        if (a[i] == "..") { if (k == 0) return ""; k--; continue }
        st[++k] = a[i]
    }
    out = ""
    for (i = 1; i <= k; i++) out = out (i > 1 ? "/" : "") st[i]
    return out
}
function dir(p) { return p ~ /\// ? substr(p, 1, match(p, /\/[^\/]*$/) - 1) : "" }
function top(p) { return p ~ /\// ? substr(p, 1, index(p, "/") - 1) : "" }
function pure(p) { return p ~ /^vmm\/(dev|virtio|net|trace)\// }
function what(t) {          # a few words on what an include target is
    if (t ~ /^\//) return "a file outside the tree"
    if (pure(t)) return "a file of " dir(t) "/ that is not a header"
    if (t ~ /^vmm\/ctl\//) return "vmm/ctl/, the management protocol"
    if (t ~ /^vmm\//) return "the VMM proper"
    if (top(t) in istop) return top(t) "/"
    return "a file outside uhv'"'"'s folders"
}
function opens(s,   c) {   # 1 if C line s leaves a /* comment open
    while (match(s, /["'"'"']|\/\/|\/\*/)) {
        c = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
        if (c == "//") return 0
        if (c == "/*") {
            if (!match(s, /\*\//)) return 1
            s = substr(s, RSTART + 2); continue
        }
        # a string or character literal: on after its closing quote
        if (c == "\"") { if (!match(s, /^([^"\\]|\\.)*"/)) return 0 }
        else if (!match(s, /^([^'"'"'\\]|\\.)*'"'"'/)) return 0
        s = substr(s, RLENGTH + 1)
    }
    return 0
}
function bad(rule, why) {
    printf "%s:%d: rule %s: %s\n", FILENAME, FNR, rule, why
}
BEGIN {
    while ((getline l < treelist) > 0) exists[l] = 1
    while ((getline l < vmcslist) > 0) vmcs[l] = 1
    n = split(tops, a, " "); for (i = 1; i <= n; i++) istop[a[i]] = 1
    n = split(proto, a, " "); for (i = 1; i <= n; i++) protocol[a[i]] = 1
}
FNR == 1 { incomment = 0 }
{
    line = $0
    if (FILENAME !~ /\.asm$/) {   # C: a commented-out include is no include
        if (incomment) {
            if (!match(line, /\*\//)) next
            line = substr(line, RSTART + 2); incomment = 0
        }
        incomment = opens(line)
        gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, " ", line)
    }

    angle = 0
    if (FILENAME ~ /\.asm$/) {
        if (!match(line, /^[ \t]*%[ \t]*include[ \t]+"[^"]+"/)) next
        p = substr(line, RSTART, RLENGTH); sub(/^[^"]*"/, "", p); sub(/"$/, "", p)
    } else if (match(line, /^[ \t]*#[ \t]*include[ \t]*"[^"]+"/)) {
        p = substr(line, RSTART, RLENGTH); sub(/^[^"]*"/, "", p); sub(/"$/, "", p)
    } else if (match(line, /^[ \t]*#[ \t]*include[ \t]*<[^>]+>/)) {
        p = substr(line, RSTART, RLENGTH); sub(/^[^<]*</, "", p); sub(/>$/, "", p)
        angle = 1
    } else next

    # resolve it as gcc -I. (or nasm from the root) would
    f = FILENAME; d = dir(f)
    if (p ~ /^\//) t = p
    else {
        rel = norm((d != "" ? d "/" : "") p); root = norm(p)
        if (!angle && rel != "" && (rel in exists)) t = rel
        else if (root != "" && (root in exists)) t = root
        else if (angle && !(top(root) in istop)) next          # a system header
        else if (!angle && p ~ /^\.\.?\//) t = (rel != "" ? rel : "/" p)
        else t = (root != "" ? root : "/" p)
    }

    if (pure(f)) {
        if (!(top(t) == "lib" || t == "vmm/gmem.h" || dir(t) == d || (pure(t) && t ~ /\.h$/)))
            bad("1 (pure)", "includes " t " (" what(t) "); vmm/dev, vmm/virtio, vmm/net and vmm/trace include only their own folder, each other'"'"'s headers, lib/ and vmm/gmem.h")
    } else if (f ~ /^vmm\//) {
        if (t in vmcs)
            bad("4 (vmcs)", "includes " t ", which names VMCS field encodings; the VMM reads guest state through arch/x86/vcpu.h")
    } else if (top(f) == "drivers") {
        if (top(t) == "vmm")
            bad("2 (drivers)", "includes " t "; drivers/ includes nothing from vmm/")
    } else if (top(f) == "arch") {
        if (top(t) == "vmm")
            bad("3 (arch)", "includes " t "; arch/ names nothing of vmm/")
    } else if ((top(f) == "tools" || top(f) == "agent") && f !~ /\.asm$/) {
        if (!(top(t) == "lib" || (t in protocol) || index(t, d "/") == 1))
            bad("5 (tools)", "includes " t " (" what(t) "); tools/ and agent/ include only lib/, their own folder and protocol headers")
    }
}' < "$T/files" > "$T/violations"

# ---- rule 3 in nasm: `extern NAME` where a vmm/ .c file defines NAME
# shellcheck disable=SC2016
grep -E '^arch/.*\.asm$' "$T/files" | xargs -r awk '
{ sub(/;.*/, "") }
tolower($1) == "extern" {
    $1 = ""; n = split($0, a, ",")
    for (i = 1; i <= n; i++) {
        s = a[i]; gsub(/[ \t]/, "", s); sub(/:.*/, "", s)
        if (s != "") print FILENAME "\t" FNR "\t" s
    }
}' > "$T/externs"
grep -E '^vmm/.*\.c$' "$T/files" > "$T/vmm_c"
while IFS=$'\t' read -r file line name; do
    [ -s "$T/vmm_c" ] || break
    # a file-scope definition (or declaration) in a vmm/ .c file, not static
    defs=$(xargs -r grep -nHE "^[A-Za-z_][^;=]*[ *]${name}[[:space:]]*(\(|=|;|\[)" < "$T/vmm_c" |
           grep -vE '^[^:]+:[0-9]+:(static|extern|typedef|return)\b')
    [ -n "$defs" ] || continue
    # point at the definition rather than a prototype where there is one
    def=$(printf '%s\n' "$defs" | grep -vE '\)[[:space:]]*;[[:space:]]*$' | head -n 1)
    [ -n "$def" ] || def=$(printf '%s\n' "$defs" | head -n 1)
    def=$(printf '%s' "$def" | cut -d: -f1,2)
    echo "$file:$line: rule 3 (arch): extern $name, a vmm/ symbol (defined at $def); arch/ is handed what it calls"
done < "$T/externs" >> "$T/violations"

# ---- rule 3 on the objects (optional): arch/ objects' undefined symbols
# that vmm/ objects define. Only objects at least as new as their source.
fresh_objs() {   # fresh_objs PREFIX: build/core objects of PREFIX's .c files
    local src obj
    grep -E "^$1/.*\\.c\$" "$T/files" | while read -r src; do
        obj=build/core/${src%.c}.o
        [ -f "$obj" ] && ! [ "$src" -nt "$obj" ] && echo "$obj"
    done
}
nm_ran=0
if [ "$USE_NM" = 1 ] && command -v nm > /dev/null && [ -d build/core ]; then
    fresh_objs vmm > "$T/vmm_objs"
    fresh_objs arch > "$T/arch_objs"
    if [ -s "$T/vmm_objs" ] && [ -s "$T/arch_objs" ]; then
        nm_ran=1
        xargs -r nm --defined-only -A < "$T/vmm_objs" 2>/dev/null |
            awk '$(NF-1) ~ /^[A-Z]$/ { o = $1; sub(/:.*/, "", o); print $NF "\t" o }' |
            sort -u -k1,1 > "$T/vmm_syms"
        xargs -r nm -u -A < "$T/arch_objs" 2>/dev/null |
            awk '{ o = $1; sub(/:.*/, "", o); print $NF "\t" o }' | sort -u -k1,1 -k2,2 |
            join -t $'\t' - "$T/vmm_syms" |
            while IFS=$'\t' read -r sym obj vobj; do
                src=${obj#build/core/}; src=${src%.o}.c
                line=$(grep -nwm1 -- "$sym" "$src" | cut -d: -f1)
                echo "$src:${line:-1}: rule 3 (arch): uses $sym, a vmm/ symbol (defined in $vobj, found by nm)"
            done >> "$T/violations"
    fi
fi
[ "$VERBOSE" = 1 ] && echo "layering: object check (nm): $([ $nm_ran = 1 ] && echo ran || echo skipped: no fresh build/core objects)"

sort -t: -k1,1 -k2,2n -u "$T/violations" > "$T/sorted"
cat "$T/sorted"
nviol=$(wc -l < "$T/sorted")
echo "layering: $nfiles files checked, $nviol violations"
[ "$nviol" -eq 0 ]
