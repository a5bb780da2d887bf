#!/usr/bin/env bash
# The examples of README.md and docs/*.md, checked against the code so that
# they cannot drift (make test runs this; no emulator, a few seconds). A
# fenced block that follows a line "<!-- doc-test: KIND ... -->" is checked
# by its KIND:
#   uhv.cfg   uhv's own config parser (vmm/config.c, built here as
#             tests/docs/cfgcheck.c) accepts it
#   console   each "uhv: ..." line (an annotation "  <- ..." dropped) is one
#             that uhv prints: it matches a format string of printk (or the
#             loader's say) in boot/, vmm/, arch/ or drivers/
#   control   run as a user would, but with tools/uhv-run --build-esp in
#             place of the boot: its lines that make files run in a
#             scratch folder, the ESP holds the `images =` folder and every
#             `uhvctl create --image FILE`, uhv.cfg parses, and uhvctl
#             accepts every command line (no usage error); a gdb line's
#             file exists (gdb is not run)
#   linux     the Linux guest recipe: its uhv-run line builds an ESP whose
#             uhv.cfg parses and has the initrd and uhv.shell, and the test
#             init knows uhv.shell
# Also: the version in docs/protocol.md's examples is the greeting's
# (UHV_VERSION_MAJOR.UHV_VERSION_MINOR of lib/version.h), and each file
# keeps its marked blocks.
# docs/walkthrough.md: every reference resolves. A reference has one form,
# a markdown link relative to docs/: "[PATH](../PATH)" names a file that
# must exist, "[PATH: NAME](../PATH)" a function NAME that PATH must define
# (a C definition, an asm label, a shell function); every option of its
# tools/uhv-run lines is one that tools/uhv-run --help lists
# (tests/docs/refcheck.sh, shared with its self-test here, which plants a
# bad function name, a bad path and a bad option in a copy and wants all
# three reported).
#
# Output: "PASS docs/FILE/BLOCK" or "FAIL docs/...: why", then (last)
# "N passed, M failed, K skipped"; exit status 1 if M > 0.
# UHV_DOCS_ROOT checks another tree's docs (to show that old docs fail).
set -u
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DOCS=${UHV_DOCS_ROOT:-$ROOT}
T=$(mktemp -d "${TMPDIR:-/tmp}/uhv-docs.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
pass=0 fail=0 skip=0
ok()  { echo "PASS docs/$1"; pass=$((pass + 1)); }
bad() { echo "FAIL docs/$1: $2"; fail=$((fail + 1)); }
UHVCTL=$ROOT/build/tools/uhvctl

# ---- uhv's config parser, for the host
RENAME="-Dmemcpy=uhv_memcpy -Dmemset=uhv_memset -Dmemmove=uhv_memmove -Dmemcmp=uhv_memcmp
        -Dstrlen=uhv_strlen -Dstrcmp=uhv_strcmp -Dstrncmp=uhv_strncmp"
CC=${CC:-cc}
# shellcheck disable=SC2086
if ! { $CC -std=gnu11 -O1 -I"$ROOT" -fno-builtin -fno-tree-loop-distribute-patterns $RENAME \
          -c "$ROOT/lib/string.c" -o "$T/string.o" &&
       $CC -std=gnu11 -O1 -I"$ROOT" "$HERE/cfgcheck.c" "$ROOT/vmm/config.c" "$ROOT/lib/fmt.c" \
          "$T/string.o" -o "$T/cfgcheck"; } 2> "$T/cc.err"; then
    bad cfgcheck "does not build: $(head -n 3 "$T/cc.err")"
fi

# ---- the marked blocks: $T/blocks/FILE.N.KIND
mkdir -p "$T/blocks"
extract() {   # extract FILE: writes its blocks, prints their names
    awk -v out="$T/blocks/$(basename "$1")" '
        /^<!-- doc-test: [a-z.]+/ { kind = $3; want = 1; next }
        want && /^```/ && !inblock { inblock = 1; n++; f = out "." n "." kind; printf "" > f; next }
        inblock && /^```/ { inblock = 0; want = 0; close(f); print f; next }
        inblock { print > f }' "$1"
}

# ---- printk formats, as regexes (adjacent literals joined)
perl -0777 -ne '
    while (/\b(?:printk|say|fail)\s*\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)/g) {
        my $lits = $1; my $s = "";
        $s .= $1 while $lits =~ /"((?:[^"\\]|\\.)*)"/g;
        print "$s\n";
    }' $(find "$ROOT/boot" "$ROOT/vmm" "$ROOT/arch" "$ROOT/drivers" -name '*.c') > "$T/formats"
# a format to an ERE: its conversions match anything, "\n" ends it
perl -ne '
    chomp; my $f = $_; my $end = ($f =~ s/(\\n)+$//) ? "\$" : "";
    $f =~ s/^(\\n)+//; next if $f eq "";
    my @p = split /(%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t)?[a-zA-Z%])/, $f; my $re = ""; my $lit = 0;
    for my $x (@p) { if ($x =~ /^%/) { $re .= ($x eq "%%" ? "%" : ".*") }
                     else { $x =~ s/\\"/"/g; $x =~ s/\\\\/\\/g; (my $q = $x) =~ s/([][.(){}*+?|^\$\\])/\\$1/g; $re .= $q;
                            $lit += length($x) } }
    # "%s", "uhv: %s" and the like would match any line
    print "^$re$end\n" if $lit >= 7;' "$T/formats" > "$T/formats.re"

check_console() {   # check_console NAME BLOCK
    local l n=0 badl=
    while IFS= read -r l; do
        l=${l%%  <-*}; l=${l%"${l##*[![:space:]]}"}
        [[ $l == uhv:* ]] || continue
        n=$((n + 1))
        # the loader's say() and the core's printk both put "uhv: " first
        if ! grep -qEf "$T/formats.re" <<< "$l" && ! grep -qEf "$T/formats.re" <<< "${l#uhv: }"; then
            badl=$l; break
        fi
    done < "$2"
    if [ "$n" = 0 ]; then bad "$1" "no uhv: lines"
    elif [ -n "$badl" ]; then bad "$1" "uhv prints no line like '$badl'"
    else ok "$1"; fi
}

check_cfg() {   # check_cfg NAME FILE
    local r
    if r=$("$T/cfgcheck" "$2" 2>&1); then ok "$1"; else bad "$1" "uhv's parser: ${r#"$2"}"; fi
}

# scratch W: the repository's tools and guests, a build/ of its own with
# uhvctl and stand-ins for the Linux guest's files
scratch() {
    W=$(mktemp -d "$T/w.XXXX")
    ln -s "$ROOT/tools" "$W/tools"; ln -s "$ROOT/guest-tests" "$W/guest-tests"
    mkdir -p "$W/build/linux" "$W/build/tools"
    ln -s "$ROOT/build/BOOTX64.EFI" "$W/build/BOOTX64.EFI"
    [ ! -e "$UHVCTL" ] || ln -s "$UHVCTL" "$W/build/tools/uhvctl"
    : > "$W/build/linux/vmlinuz"; : > "$W/build/linux/initrd.gz"
}

# esp_of LINE: runs a tools/uhv-run line with --build-esp W/esp instead of
# booting (its --ctl-port, --ctl-log, --timeout, --interactive dropped)
esp_of() {
    local -a a=() keep=()
    eval "a=(${1%&})"
    local i=1
    while [ $i -lt ${#a[@]} ]; do
        case ${a[i]} in
            --ctl-port|--ctl-log|--timeout) i=$((i + 2)); continue;;
            --interactive) i=$((i + 1)); continue;;
        esac
        keep+=("${a[i]}"); i=$((i + 1))
    done
    (cd "$W" && UHV_UHVCTL=$UHVCTL "$ROOT/tools/uhv-run" --efi "$ROOT/build/BOOTX64.EFI" \
        "${keep[@]}" --build-esp "$W/esp") > "$W/esp.out" 2>&1
}

check_control() {   # check_control NAME BLOCK
    local name=$1 l cmd why= ctl=0 ran=0 rc img
    scratch
    while IFS= read -r l; do
        l=${l%%[[:space:]]#*}; l=${l%"${l##*[![:space:]]}"}
        [ -n "$l" ] || continue
        if [[ $l == tools/uhv-run* ]]; then
            esp_of "$l" || { why="'$l' as --build-esp: $(tail -n 2 "$W/esp.out" | tr '\n' ' ')"; break; }
            ran=1
        elif [[ $l =~ (^|/)uhvctl[[:space:]] ]]; then
            # each uhvctl command of the line (a && b; c), against a port
            # where nothing listens: any status but a usage error (2)
            local IFS_=$IFS piece
            while IFS= read -r piece; do
                piece=${piece#"${piece%%[![:space:]]*}"}
                piece=${piece%&}        # run in the background: as it is
                [ -n "$piece" ] || continue
                local -a a=(); eval "a=($piece)"
                (cd "$W" && timeout 3 "$UHVCTL" --connect 127.0.0.1:1 --timeout 1 "${a[@]:1}") > /dev/null 2> "$W/ctl.err"
                rc=$?
                if [ "$rc" = 2 ]; then why="uhvctl refuses '$piece': $(head -n 1 "$W/ctl.err")"; break 2; fi
                ctl=$((ctl + 1))
                if [[ $piece =~ (^|[[:space:]])create[[:space:]].*--image[[:space:]]+([^[:space:]]+) ]]; then
                    img=${BASH_REMATCH[2]}
                    [ -f "$W/esp/uhv/$img" ] || { why="create --image $img: no \\uhv\\$img on the ESP that uhv-run builds (has: $(cd "$W/esp/uhv" 2>/dev/null && find . -type f | sed 's|^\./||' | tr '\n' ' '))"; break 2; }
                fi
            done < <(sed 's/&&/\n/g; s/;/\n/g' <<< "$l")
            IFS=$IFS_
        elif [[ $l == gdb\ * ]]; then
            # gdb itself is not run: its file (the last word) must exist
            [ -f "$ROOT/${l##* }" ] || { why="'$l': no file ${l##* } (make all builds it)"; break; }
        elif [[ $l =~ ^(export|printf|mkdir|cp|echo) ]]; then
            (cd "$W" && eval "$l") > "$W/sh.out" 2>&1 || { why="'$l' fails: $(head -n 1 "$W/sh.out")"; break; }
        else
            why="a line the check does not know: '$l'"; break
        fi
    done < "$2"
    if [ -z "$why" ] && [ "$ran" = 0 ]; then why="no tools/uhv-run line"; fi
    if [ -z "$why" ]; then
        local r images
        r=$("$T/cfgcheck" "$W/esp/uhv/uhv.cfg" 2>&1) || why="uhv's parser: $r"
        images=$(sed -n "s/.*images '\(.*\)')$/\1/p" <<< "$r")
        [ -n "$why" ] || [ -z "$images" ] || [ -d "$W/esp/uhv/$images" ] ||
            why="images = $images: no folder \\uhv\\$images on the ESP (--files copies the folder's contents)"
    fi
    if [ -n "$why" ]; then bad "$name" "$why"; else ok "$name"; fi
}

check_linux() {   # check_linux NAME BLOCK
    local name=$1 l why= ran=0
    scratch
    while IFS= read -r l; do
        l=${l%%[[:space:]]#*}
        [[ $l == tools/uhv-run* ]] || continue
        esp_of "$l" || { why="'$l' as --build-esp: $(tail -n 2 "$W/esp.out" | tr '\n' ' ')"; break; }
        ran=1
    done < "$2"
    [ -n "$why" ] || [ "$ran" = 1 ] || why="no tools/uhv-run line"
    if [ -z "$why" ]; then
        local r
        r=$("$T/cfgcheck" "$W/esp/uhv/uhv.cfg" 2>&1) || why="uhv's parser: $r"
        [ -n "$why" ] || grep -q '^initrd *= ' "$W/esp/uhv/uhv.cfg" || why="no initrd in the ESP's uhv.cfg"
        [ -n "$why" ] || grep -q '^cmdline *= .*uhv\.shell' "$W/esp/uhv/uhv.cfg" || why="no uhv.shell on the cmdline"
        [ -n "$why" ] || grep -q 'uhv\.shell' "$ROOT/guest-tests/linux/init" || why="the test init does not know uhv.shell"
    fi
    if [ -n "$why" ]; then bad "$name" "$why"; else ok "$name"; fi
}

# ---- the files and the blocks each must keep
declare -A WANT=([README.md]="console uhv.cfg control linux" [docs/uhvctl.md]="control"
                 [docs/interfaces.md]="uhv.cfg" [docs/gdb.md]="control"
                 [docs/networking.md]="console uhv.cfg")
for f in README.md docs/uhvctl.md docs/interfaces.md docs/gdb.md docs/networking.md; do
    have=()
    while IFS= read -r b; do
        kind=${b##*.}; [ "$kind" != cfg ] || kind=uhv.cfg
        n=${b%.*}; [ "$kind" != uhv.cfg ] || n=${n%.uhv}; n=${n##*.}
        have+=("$kind")
        case $kind in
            uhv.cfg) check_cfg "$f/$n-uhv.cfg" "$b";;
            console) check_console "$f/$n-console" "$b";;
            control) check_control "$f/$n-control" "$b";;
            linux)   check_linux "$f/$n-linux" "$b";;
            *)       bad "$f/$n" "unknown doc-test kind '$kind'";;
        esac
    done < <(extract "$DOCS/$f")
    for k in ${WANT[$f]}; do
        [[ " ${have[*]+"${have[*]}"} " == *" $k "* ]] && ok "$f/has-$k" || bad "$f/has-$k" "no block marked doc-test: $k"
    done
done

# ---- the protocol's version in docs/protocol.md is the greeting's
v=$(awk '$1 == "#define" && $2 == "UHV_VERSION_MAJOR" { a = $3 }
         $1 == "#define" && $2 == "UHV_VERSION_MINOR" { b = $3 }
         END { if (a != "" && b != "") print a "." b }' "$ROOT/lib/version.h" 2>/dev/null)
shown=$(grep -oE '"uhv":"[^"]*"' "$DOCS/docs/protocol.md" | sort -u | sed 's/"uhv":"\(.*\)"/\1/' | tr '\n' ' ')
if [ -z "$v" ]; then bad protocol.md/version "no UHV_VERSION_MAJOR/MINOR in lib/version.h"
elif [ -z "$shown" ]; then bad protocol.md/version "no \"uhv\":\"...\" in docs/protocol.md"
elif [ "$shown" = "$v " ]; then ok protocol.md/version
else bad protocol.md/version "docs/protocol.md shows \"uhv\": $shown; uhv says $v"; fi

# ---- docs/walkthrough.md: its references resolve (tests/docs/refcheck.sh;
# a reference is a markdown link "[PATH](../PATH)" to a file, or
# "[PATH: NAME](../PATH)" to a function NAME defined in PATH), and each
# tools/uhv-run line uses only options of tools/uhv-run --help. Then the
# checker's self-test: a copy with a function renamed, a link to a missing
# file and an unknown option planted must be reported, all three.
WT=$DOCS/docs/walkthrough.md
if [ ! -f "$WT" ]; then
    for c in files functions uhv-run-options refcheck-selftest; do
        bad "docs/walkthrough.md/$c" "no docs/walkthrough.md"
    done
else
    "$HERE/refcheck.sh" --root "$ROOT" "$WT" > "$T/refs.out" 2>&1
    refs_line=$(grep '^refs: ' "$T/refs.out" | tail -n 1)
    refs_count() { sed -nE "s/.* ([0-9]+) $1.*/\\1/p" <<< "$refs_line"; }
    walk_check() {   # walk_check NAME PROBLEM-REGEX COUNT-WORD
        local why
        why=$(grep -E "^($2) " "$T/refs.out" | head -n 3 | tr '\n' ';')
        if [ -z "$refs_line" ]; then bad "docs/walkthrough.md/$1" "refcheck.sh failed: $(head -n 2 "$T/refs.out" | tr '\n' ' ')"
        elif [ -n "$why" ]; then bad "docs/walkthrough.md/$1" "${why%;}"
        elif [ "$(refs_count "$3")" = 0 ]; then bad "docs/walkthrough.md/$1" "no $3 referenced (${refs_line#refs: })"
        else ok "docs/walkthrough.md/$1"; fi
    }
    walk_check files bad-file files
    walk_check functions bad-function functions
    walk_check uhv-run-options 'bad-option|bad-env' options

    # the self-test, on a scratch copy
    cp "$WT" "$T/walkthrough.md"
    fn_link=$(grep -oE '\[[^]]+: [A-Za-z_][A-Za-z0-9_]*\]\(\.\./[^)]+\)' "$WT" | head -n 1)
    if [ -z "$fn_link" ]; then
        bad docs/walkthrough.md/refcheck-selftest "no function link to plant a bad name in"
    else
        fn_path=${fn_link#[}; fn_path=${fn_path%%: *}
        fn_name=${fn_link#*: }; fn_name=${fn_name%%]*}
        planted=${fn_name}_planted_nowhere
        FN_LINK=$fn_link PLANTED="[$fn_path: $planted](../$fn_path)" \
            perl -0777 -i -pe 's/\Q$ENV{FN_LINK}\E/$ENV{PLANTED}/' "$T/walkthrough.md"
        printf '\n[vmm/planted_nowhere.c](../vmm/planted_nowhere.c)\n\n`tools/uhv-run --planted-nowhere`\n' >> "$T/walkthrough.md"
        "$HERE/refcheck.sh" --root "$ROOT" "$T/walkthrough.md" > "$T/refs-planted.out" 2>&1
        rc=$? why=
        [ "$rc" = 1 ] || why="refcheck.sh exit status $rc, not 1;"
        grep -q "^bad-function $fn_path: $planted:" "$T/refs-planted.out" || why+=" the bad function $fn_path: $planted not reported;"
        grep -q "^bad-file vmm/planted_nowhere.c:" "$T/refs-planted.out" || why+=" the bad path vmm/planted_nowhere.c not reported;"
        grep -q "^bad-option --planted-nowhere:" "$T/refs-planted.out" || why+=" the bad option --planted-nowhere not reported;"
        if [ -n "$why" ]; then bad docs/walkthrough.md/refcheck-selftest "${why%;}"
        else ok docs/walkthrough.md/refcheck-selftest; fi
    fi
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
