#!/usr/bin/env python3
"""The peer of uhv's network self-test (drivers/net_test.c), outside the
emulator. The emulator carries its NIC's frames as UDP datagrams on
127.0.0.1 (tools/uhv-run --nic-port PORT: it takes frames on PORT and sends
them to PORT+1). This peer listens on PORT+1, checks every test frame uhv
sends (broadcast, EtherType 0x88b5, "UHVT", a sequence number, a length and
a payload that follow from it) and answers each good one to uhv's MAC with
"UHVR", the same number and the payload inverted. It never answers a bad
frame, so uhv's check fails too.

usage: echo-peer.py --port PORT --log FILE [--corrupt SEQ]
--corrupt SEQ answers frame SEQ with one payload byte wrong (a test that
uhv's check fails when it should).
On SIGTERM it writes "peer: N test frames checked, M bad, K other" and
one "peer: FAIL ..." line per bad frame (the first 10) to FILE.
"""
import argparse
import signal
import socket
import sys

ETHERTYPE = 0x88B5
LEN_MIN, LEN_MAX, LEN_STEP = 60, 1514, 181
PEER_MAC = bytes.fromhex("020000000fe0")   # locally administered
OFF_TYPE, OFF_MAGIC, OFF_SEQ, OFF_PAYLOAD = 12, 14, 18, 22


def frame_len(seq):
    return LEN_MIN + seq * LEN_STEP % (LEN_MAX - LEN_MIN + 1)


def payload(seq, length):
    return bytes((seq * 7 + i) & 0xFF for i in range(length - OFF_PAYLOAD))


def check(frame):
    """None if frame is a good test frame, else why not."""
    if frame[0:6] != b"\xff" * 6:
        return "not broadcast"
    if frame[OFF_MAGIC:OFF_SEQ] != b"UHVT":
        return "no UHVT magic"
    seq = int.from_bytes(frame[OFF_SEQ:OFF_PAYLOAD], "big")
    if len(frame) != frame_len(seq):
        return f"seq {seq}: {len(frame)} bytes, not {frame_len(seq)}"
    if frame[OFF_PAYLOAD:] != payload(seq, len(frame)):
        return f"seq {seq}: payload differs"
    return None


def answer(frame, corrupt):
    body = bytearray(b ^ 0xFF for b in frame[OFF_PAYLOAD:])
    if corrupt:
        body[-1] ^= 0x01
    return (frame[6:12] + PEER_MAC + frame[OFF_TYPE:OFF_MAGIC] + b"UHVR"
            + frame[OFF_SEQ:OFF_PAYLOAD] + bytes(body))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--corrupt", type=int, default=-1)
    a = ap.parse_args()
    counts = {"good": 0, "bad": 0, "other": 0}
    fails = []
    log = open(a.log, "w", buffering=1)

    def done(*_):
        log.write(f"peer: {counts['good']} test frames checked, "
                  f"{counts['bad']} bad, {counts['other']} other\n")
        for f in fails[:10]:
            log.write(f"peer: FAIL {f}\n")
        sys.exit(0)

    signal.signal(signal.SIGTERM, done)
    signal.signal(signal.SIGINT, done)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a.port + 1))
    log.write(f"peer: listening on 127.0.0.1:{a.port + 1}\n")
    while True:
        frame = s.recv(65536)
        if len(frame) < OFF_PAYLOAD or \
                int.from_bytes(frame[OFF_TYPE:OFF_MAGIC], "big") != ETHERTYPE:
            counts["other"] += 1
            continue
        why = check(frame)
        if why:
            counts["bad"] += 1
            fails.append(why)
            continue
        counts["good"] += 1
        seq = int.from_bytes(frame[OFF_SEQ:OFF_PAYLOAD], "big")
        s.sendto(answer(frame, seq == a.corrupt), ("127.0.0.1", a.port))


if __name__ == "__main__":
    main()
