# Sourced by the control-channel system tests (control.sh, trace.sh): a
# raw client of the relay on 127.0.0.1:$PORT, for requests uhvctl would
# refuse to send. The sourcing script defines ok and bad.

# raw LINE: sends LINE (printf format) to the relay as a client of its own
# and prints uhv's reply (the first line with an "id"), or nothing.
raw() {
    local reply=""
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return
    # shellcheck disable=SC2059
    printf "$1" >&3
    while IFS= read -r -t 60 line <&3; do
        case $line in *'"id"'*) reply=$line; break;; esac
    done
    exec 3<&-
    printf '%s\n' "$reply"
}

expect_error() {   # expect_error NAME CODE LINE
    local r
    r=$(raw "$3")
    case $r in
        *"\"code\":\"$2\""*) ok "$1";;
        *) bad "$1" "wanted error $2, got: ${r:-no reply}";;
    esac
}
