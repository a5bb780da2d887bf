#!/usr/bin/env bash
# refcheck.sh: do the file and function references of a walkthrough
# (docs/walkthrough.md) resolve in the source tree, and does every
# tools/uhv-run option it uses exist?  tests/docs/run.sh runs it on the
# walkthrough, and on a copy with bad references planted (to show that it
# fails).
#
# usage: tests/docs/refcheck.sh [--root DIR] FILE.md
#   --root DIR   the source tree the references name (default: this
#                repository); FILE.md may lie anywhere (a scratch copy)
#
# The one reference form, a markdown link to a path of the tree relative
# to docs/ (where the walkthrough lives):
#   [vmm/sched.c](../vmm/sched.c)                   a file
#   [vmm/sched.c: sched_run](../vmm/sched.c)        a function in that file
# A function reference's text is "PATH: NAME", and PATH must be the link's
# target. NAME resolves if the file defines it:
#   .c .h      a C definition: NAME at the start of a line or after its
#              return type (and attributes), its parameter list closed by
#              ")" and then "{" (a prototype, whose ")" is followed by
#              ";", does not count; nor a macro, nor a call)
#   .asm       a label "NAME:" at the start of a line
#   otherwise  a shell function "NAME() {" (tools/uhv-run and the like)
# Links to anything but "../PATH" (web pages, sections) are not references.
# A path in a code span of the prose (`tests/docs/run.sh`), whose first
# folder is one of the tree's, must exist too (but for build outputs: a
# path with a build/ folder in it).
# Every line that runs tools/uhv-run (a line with "\" at its end goes on
# on the next one) may use only options that `tools/uhv-run --help` shows,
# and only the UHV_* environment variables it names.
#
# Output: one line per problem, "bad-file PATH: ...", "bad-function
# PATH: NAME: ...", "bad-option --OPT: ..." or "bad-env NAME: ...", then
# "refs: F files, N functions, O options checked, P problems".
# Exit status: 0 all resolve, 1 some do not, 2 usage or a missing FILE.md.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "${1:-}" = --root ]; then
    [ $# -ge 2 ] || { echo "usage: $0 [--root DIR] FILE.md" >&2; exit 2; }
    ROOT=$(cd "$2" && pwd) || exit 2
    shift 2
fi
[ $# -eq 1 ] || { echo "usage: $0 [--root DIR] FILE.md" >&2; exit 2; }
MD=$1
[ -f "$MD" ] || { echo "refcheck: no such file: $MD" >&2; exit 2; }

problems=0 nfiles=0 nfuncs=0 nopts=0
problem() { echo "$*"; problems=$((problems + 1)); }

# defines FILE NAME: does FILE define the function (or label) NAME?
defines() {
    local f=$1 name=$2
    case $f in
        *.asm)
            grep -qE "^[[:space:]]*${name}:" "$f";;
        *.c|*.h)
            NAME=$name perl -0777 -ne '
                my $n = $ENV{NAME};
                s{/\*.*?\*/}{ }gs;                    # comments
                s{//[^\n]*}{}g;
                s{^[ \t]*#[^\n]*(?:\\\n[^\n]*)*}{}mg;  # preprocessor lines
                # attributes, whose parentheses would hide the return type
                1 while s{__attribute__\s*\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\)}{ }g;
                my $found = 0;
                while (/^(?:[A-Za-z_][\w \t\*]*?[ \t\*])?\Q$n\E[ \t]*\(/mg) {
                    my $p = pos($_); my $depth = 1;
                    while ($depth && $p < length) {   # to the matching ")"
                        my $c = substr($_, $p++, 1);
                        $depth++ if $c eq "("; $depth-- if $c eq ")";
                    }
                    if (substr($_, $p) =~ /^\s*\{/) { $found = 1; last }
                }
                exit($found ? 0 : 1);' "$f";;
        *)
            grep -qE "^[[:space:]]*(function[[:space:]]+)?${name}[[:space:]]*\(\)" "$f";;
    esac
}

# ---- markdown links to ../PATH: "TEXT<TAB>TARGET" per link
links=$(perl -ne 'while (/\[([^\]\n]+)\]\((\.\.\/[^)\s#]+)(?:#[^)]*)?\)/g) { print "$1\t$2\n" }' "$MD")
while IFS=$'\t' read -r text target; do
    [ -n "$target" ] || continue
    path=${target#../}
    while [[ $path == ./* ]]; do path=${path#./}; done
    nfiles=$((nfiles + 1))
    if [[ $path == *..* ]] || [ ! -e "$ROOT/$path" ]; then
        problem "bad-file $path: no such file in the tree (link '[$text]($target)')"
        continue
    fi
    if [[ $text == *": "* ]]; then
        tpath=${text%%: *} name=${text#*: }
        name=${name%"()"}
        nfuncs=$((nfuncs + 1))
        if [ "$tpath" != "$path" ]; then
            problem "bad-function $tpath: $name: the link's text names $tpath, its target is $path"
        elif ! [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
            problem "bad-function $path: $name: not a function name"
        elif [ -d "$ROOT/$path" ]; then
            problem "bad-function $path: $name: $path is a folder"
        elif ! defines "$ROOT/$path" "$name"; then
            problem "bad-function $path: $name: $path does not define $name"
        fi
    fi
done <<< "$links"

# ---- paths of the tree named in prose: a code span outside code blocks
# such as `tests/docs/run.sh`, whose first folder is one of the tree's
# (build outputs, under a build/ folder, are not checked)
spans=$(perl -ne '
    if (/^\s*```/) { $fence = !$fence; next } next if $fence;
    while (/`([^`\s]+)`/g) { print "$1\n" }' "$MD" | sort -u)
while IFS= read -r span; do
    [[ $span == */* && $span != /* && $span != *build/* && $span != *'*'* ]] || continue
    top=${span%%/*}
    [ -n "$top" ] && [ "$top" != . ] && [ "$top" != .. ] && [ -d "$ROOT/$top" ] || continue
    nfiles=$((nfiles + 1))
    [ -e "$ROOT/${span%/}" ] || problem "bad-file ${span}: no such file in the tree (code span \`$span\`)"
done <<< "$spans"

# ---- tools/uhv-run command lines: options and environment variables
help=$("$ROOT/tools/uhv-run" --help 2>&1)
# the options it lists: lines "  --opt ARG  text" and "  -q, --quiet  text"
opts=$(sed -nE 's/^[[:space:]]+((-[a-z], )?--?[a-z][a-z0-9-]*).*/\1/p' <<< "$help" | sed 's/, /\n/' | sort -u)
cmds=$(perl -ne '
    chomp; s/\r$//;
    $cont = defined $cont ? "$cont $_" : $_;
    next if $cont =~ s/\\$//;
    print "$cont\n" if $cont =~ /tools\/uhv-run/;
    undef $cont;
    END { print "$cont\n" if defined $cont && $cont =~ /tools\/uhv-run/ }' "$MD")
while IFS= read -r cmd; do
    [ -n "$cmd" ] || continue
    # only the uhv-run command itself: from the env assignments before it
    # to the end of it (a pipe, ;, && or the end of a code span)
    # (quoted arguments, cmdlines, REGEXes, debugger scripts, hold none)
    run=$(perl -pe 's/"(?:[^"\\]|\\.)*"/""/g; s/'"'"'[^'"'"']*'"'"'/""/g' <<< "$cmd")
    run=$(perl -ne 'if (/((?:\bUHV_[A-Z_]+=\S+\s+)*\S*tools\/uhv-run\b[^|;&`]*)/) { print $1 }' <<< "$run")
    for o in $(grep -oE -- '(^|[[:space:]])(--[a-z][a-z0-9-]*|-[a-z])\b' <<< "$run" | tr -d ' \t'); do
        nopts=$((nopts + 1))
        grep -qxF -- "$o" <<< "$opts" || problem "bad-option $o: tools/uhv-run --help has no such option (in: ${run:0:120})"
    done
    for e in $(grep -oE '\bUHV_[A-Z_]+=' <<< "$run" | tr -d '='); do
        grep -qw -- "$e" <<< "$help" || problem "bad-env $e: tools/uhv-run --help does not name it (in: ${run:0:120})"
    done
done <<< "$cmds"

echo "refs: $nfiles files, $nfuncs functions, $nopts options checked, $problems problems"
[ "$problems" -eq 0 ]
