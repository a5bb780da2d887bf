#!/usr/bin/env python3
"""A stand-in for gdb in tests/uhvctl/run.sh: connects to `uhvctl gdb
--listen`'s port and speaks the GDB remote protocol to the fake uhv's
stub (tests/uhvctl/fake_uhv.c) through it. Prints "ok STEP" or
"bad STEP: why" per step.

  gdb_client.py session PORT   packets and answers both ways (every byte
                               value, a packet over 512 bytes, an answer
                               that takes "more", a continue whose stop
                               comes as an event, Ctrl-C), then closes
                               without detaching
  gdb_client.py detach PORT    one packet, a detach ($D#44), then closes
  gdb_client.py hold PORT      one packet, then waits for uhvctl to close
  gdb_client.py send PORT      sends one packet, then waits for the close
"""
import socket
import sys
import time

TIMEOUT_S = 5.0         # for each answer, and for the end of the connection
CONNECT_S = 5.0
LONG_DIGITS = 3000      # the fake's answer to qLong
BIG_PACKET = 1500       # bytes in a packet: three requests of 512 at most


def packet(payload):
    """payload as a packet: $payload#checksum"""
    return b"$" + payload + b"#%02x" % (sum(payload) % 256)


def connect(port):
    end = time.monotonic() + CONNECT_S
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def receive(sock, n):
    """n bytes, or what came within TIMEOUT_S"""
    got = b""
    end = time.monotonic() + TIMEOUT_S
    while len(got) < n and time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            chunk = sock.recv(n - len(got))
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
    return got


def step(sock, name, send, want):
    """sends send, wants exactly want back"""
    sock.sendall(send)
    got = receive(sock, len(want))
    if got == want:
        print("ok", name)
    else:
        print("bad %s: wanted %r..., got %r..." % (name, want[:40], got[:40]))
    sys.stdout.flush()


def wait_close(sock, name):
    sock.settimeout(TIMEOUT_S * 2)
    try:
        print("ok" if sock.recv(1) == b"" else "bad", name)
    except socket.timeout:
        print("bad %s: still open" % name)


def session(sock):
    step(sock, "handshake", packet(b"qSupported"), b"+" + packet(b"OK"))
    every = bytes(b for b in range(256) if b not in b"$#")
    step(sock, "every-byte-value", packet(b"E" + every), b"+" + packet(every))
    big = bytes(ord("a") + i % 26 for i in range(BIG_PACKET))
    step(sock, "packet-over-512-bytes", packet(b"E" + big), b"+" + packet(big))
    digits = bytes(ord("0") + i % 10 for i in range(LONG_DIGITS))
    step(sock, "answer-with-more", packet(b"qLong"), b"+" + packet(digits))
    step(sock, "continue-then-stop-event", packet(b"c"),
         b"+" + packet(b"T05thread:01;"))
    step(sock, "ctrl-c", b"\x03", packet(b"S02"))


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    sock = connect(port)
    if mode == "session":
        session(sock)
    elif mode == "detach":
        step(sock, "handshake", packet(b"qSupported"), b"+" + packet(b"OK"))
        step(sock, "detach", packet(b"D"), b"+" + packet(b"OK"))
        sock.sendall(b"+")
    elif mode == "hold":
        step(sock, "handshake", packet(b"qSupported"), b"+" + packet(b"OK"))
        wait_close(sock, "closed-by-uhvctl")
    elif mode == "send":
        sock.sendall(packet(b"qSupported"))
        wait_close(sock, "closed-by-uhvctl")
    sock.close()


if __name__ == "__main__":
    main()
