#!/usr/bin/env python3
"""cache-disk.py: an NBD server whose disk forgets what was not flushed.

A disk with a volatile write cache, for the storage tests' power cuts: a
write goes into a cache in this process's memory and reaches IMAGE only
when the client sends NBD_CMD_FLUSH (QEMU does that when its guest's AHCI
or IDE disk gets FLUSH CACHE). The power is cut, and the cache lost, when

  - the client's connection ends without NBD_CMD_DISC (the emulator was
    killed with SIGKILL: its socket closes), or with it (a client that
    wants its data kept flushes first, as QEMU does when it exits), or
  - this process gets SIGTERM or SIGINT (it then exits), also in the middle
    of a flush that has not completed: such a flush never happened.

So IMAGE holds exactly what was flushed before the cut (with --keep-random,
that plus a random part of the rest, as a real disk may have written part
of its cache when the power went).

usage: tests/nbd/cache-disk.py IMAGE [--port N] [--port-file FILE]
           [--flush-delay SECS] [--keep-random SEED] [--log FILE]
           [--fail-write N] [--stall-write N]
       tests/nbd/cache-disk.py --selftest     (tests of this server itself)

  IMAGE              the disk's stable contents (its size is the disk's)
  --port N           listen on 127.0.0.1:N (default 0: the kernel picks one)
  --port-file FILE   write the port to FILE once the server listens
  --flush-delay SECS a flush takes SECS seconds before its data reaches IMAGE
                     and it completes (a slow disk: a uhv that does not wait
                     for FLUSH CACHE to complete is cut before it has)
  --keep-random SEED at a power cut, each cached 512-byte block reaches IMAGE
                     with probability 1/2 (random.Random(SEED)), instead of none
  --fail-write N     the Nth write request (from 1) fails with EIO (a disk's
                     media error, which the emulator passes on to its guest)
  --stall-write N    the Nth write request is never answered, nor anything
                     after it (a disk that hangs: the emulator's guest waits)
  --log FILE         log connections, flushes and power cuts to FILE (default:
                     stderr)

Protocol (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md):
fixed newstyle handshake; NBD_OPT_EXPORT_NAME, NBD_OPT_GO and NBD_OPT_INFO
(any export name: the one disk), NBD_OPT_ABORT, other options refused with
NBD_REP_ERR_UNSUP (structured replies included: simple replies only);
transmission flags HAS_FLAGS | SEND_FLUSH; commands READ, WRITE, FLUSH,
DISC. One client at a time, on 127.0.0.1 only; connections are served one
after the other until the process is stopped. Python 3 standard library only.
"""
import os
import random
import signal
import socket
import struct
import sys
import time

BLOCK = 512

NBDMAGIC = 0x4E42444D41474943          # "NBDMAGIC"
IHAVEOPT = 0x49484156454F5054          # "IHAVEOPT"
REPLY_MAGIC_OPT = 0x0003E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698

FLAG_FIXED_NEWSTYLE = 1 << 0
FLAG_NO_ZEROES = 1 << 1
FLAG_C_NO_ZEROES = 1 << 1

FLAG_HAS_FLAGS = 1 << 0
FLAG_SEND_FLUSH = 1 << 2

OPT_EXPORT_NAME = 1
OPT_ABORT = 2
OPT_INFO = 6
OPT_GO = 7

REP_ACK = 1
REP_INFO = 3
REP_ERR_UNSUP = (1 << 31) + 1
REP_ERR_INVALID = (1 << 31) + 3

INFO_EXPORT = 0

CMD_READ = 0
CMD_WRITE = 1
CMD_DISC = 2
CMD_FLUSH = 3

EIO = 5
EIO = 5
EINVAL = 22
ENOSPC = 28
MAX_REQUEST = 32 << 20


class PowerCut(Exception):
    """SIGTERM or SIGINT: the power goes, now."""


class Gone(Exception):
    """The client's connection ended."""


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            raise Gone()
        buf += chunk
    return bytes(buf)


class CacheDisk:
    def __init__(self, path, flush_delay, keep_seed, log):
        self.fd = os.open(path, os.O_RDWR)
        self.size = os.fstat(self.fd).st_size
        self.cache = {}                       # block number -> 512 bytes
        self.flush_delay = flush_delay
        self.rng = random.Random(keep_seed) if keep_seed is not None else None
        self.log = log

    def _stable(self, blk):
        data = os.pread(self.fd, BLOCK, blk * BLOCK)
        return data + bytes(BLOCK - len(data))

    def _block(self, blk):
        return self.cache.get(blk) or self._stable(blk)

    def read(self, off, n):
        out = bytearray()
        first, last = off // BLOCK, (off + n - 1) // BLOCK
        for blk in range(first, last + 1):
            out += self._block(blk)
        skip = off - first * BLOCK
        return bytes(out[skip:skip + n])

    def write(self, off, data):
        pos = 0
        while pos < len(data):
            blk, within = divmod(off + pos, BLOCK)
            n = min(BLOCK - within, len(data) - pos)
            if n == BLOCK:
                self.cache[blk] = data[pos:pos + n]
            else:
                b = bytearray(self._block(blk))
                b[within:within + n] = data[pos:pos + n]
                self.cache[blk] = bytes(b)
            pos += n

    def _persist(self, blocks):
        # no power cut halfway through writing IMAGE: SIGTERM waits
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        try:
            for blk in sorted(blocks):
                os.pwrite(self.fd, self.cache[blk], blk * BLOCK)
            os.fsync(self.fd)
            for blk in blocks:
                del self.cache[blk]
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def flush(self):
        self.log(f"flush requested: {len(self.cache)} block(s) cached")
        if self.flush_delay:
            time.sleep(self.flush_delay)      # a SIGTERM here: the flush never completes
        n = len(self.cache)
        self._persist(list(self.cache))
        self.log(f"flush: {n} cached block(s) written to the image")

    def power_cut(self, why):
        kept = []
        if self.rng is not None:
            kept = [b for b in sorted(self.cache) if self.rng.random() < 0.5]
            self._persist(kept)
        lost = len(self.cache)
        self.cache.clear()
        self.log(f"power cut ({why}): {lost} unflushed block(s) lost, "
                 f"{len(kept)} reached the image")


def send_opt_reply(sock, opt, rtype, data=b""):
    sock.sendall(struct.pack(">QIII", REPLY_MAGIC_OPT, opt, rtype, len(data)) + data)


def handshake(sock, disk):
    """Fixed newstyle negotiation; True once in the transmission phase."""
    sock.sendall(struct.pack(">QQH", NBDMAGIC, IHAVEOPT,
                             FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES))
    (cflags,) = struct.unpack(">I", recv_exact(sock, 4))
    tflags = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH
    while True:
        magic, opt, length = struct.unpack(">QII", recv_exact(sock, 16))
        if magic != IHAVEOPT:
            return False
        if length > 65536:
            return False
        data = recv_exact(sock, length)
        if opt == OPT_EXPORT_NAME:
            reply = struct.pack(">QH", disk.size, tflags)
            if not cflags & FLAG_C_NO_ZEROES:
                reply += bytes(124)
            sock.sendall(reply)
            return True
        if opt == OPT_ABORT:
            send_opt_reply(sock, opt, REP_ACK)
            return False
        if opt in (OPT_INFO, OPT_GO):
            if length < 6:
                send_opt_reply(sock, opt, REP_ERR_INVALID)
                continue
            (namelen,) = struct.unpack(">I", data[:4])
            if 4 + namelen + 2 > length:
                send_opt_reply(sock, opt, REP_ERR_INVALID)
                continue
            send_opt_reply(sock, opt, REP_INFO,
                           struct.pack(">HQH", INFO_EXPORT, disk.size, tflags))
            send_opt_reply(sock, opt, REP_ACK)
            if opt == OPT_GO:
                return True
            continue
        send_opt_reply(sock, opt, REP_ERR_UNSUP)


def transmission(sock, disk):
    """Serve requests until NBD_CMD_DISC (True) or the connection ends."""
    writes = 0
    while True:
        magic, _flags, cmd, handle, off, length = struct.unpack(
            ">IHHQQI", recv_exact(sock, 28))
        if magic != REQUEST_MAGIC:
            return False
        payload = recv_exact(sock, length) if cmd == CMD_WRITE else b""
        err, data = 0, b""
        if cmd == CMD_DISC:
            return True
        if cmd in (CMD_READ, CMD_WRITE) and (length > MAX_REQUEST or off + length > disk.size):
            err = EINVAL if cmd == CMD_READ else ENOSPC
        elif cmd == CMD_READ:
            data = disk.read(off, length) if length else b""
        elif cmd == CMD_WRITE:
            writes += 1
            if writes == disk.stall_write:
                disk.log(f"write {writes}: stalled, never answered")
                while True:              # until SIGTERM cuts the power
                    time.sleep(1)
            if writes == disk.fail_write:
                disk.log(f"write {writes}: failed with EIO")
                err = EIO
            else:
                disk.write(off, payload)
        elif cmd == CMD_FLUSH:
            disk.flush()
        else:
            err = EINVAL
        sock.sendall(struct.pack(">IIQ", SIMPLE_REPLY_MAGIC, err, handle) + data)


def serve(args):
    logf = open(args["log"], "a", buffering=1) if args["log"] else sys.stderr

    start = time.monotonic()

    def log(msg):
        logf.write(f"cache-disk: {time.monotonic() - start:8.3f}s {msg}\n")
        logf.flush()

    def on_signal(signum, _frame):
        raise PowerCut(signal.Signals(signum).name)

    disk = CacheDisk(args["image"], args["flush_delay"], args["keep_seed"], log)
    disk.fail_write, disk.stall_write = args["fail_write"], args["stall_write"]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args["port"]))
    srv.listen(1)
    port = srv.getsockname()[1]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args["port_file"]:
        tmp = args["port_file"] + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.rename(tmp, args["port_file"])
    log(f"serving {args['image']} ({disk.size} bytes) on 127.0.0.1:{port}"
        f"{', flush delay %gs' % args['flush_delay'] if args['flush_delay'] else ''}")
    conn = None
    try:
        while True:
            conn, peer = srv.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            log(f"client {peer[0]}:{peer[1]} connected")
            how = "the connection ended"
            try:
                if handshake(conn, disk):
                    if transmission(conn, disk):
                        how = "NBD_CMD_DISC"
            except Gone:
                pass
            conn.close()
            conn = None
            disk.power_cut(how)
    except PowerCut as e:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if conn is not None:
            conn.close()
        disk.power_cut(e.args[0])
        return 0


# ------------------------------------------------------------------ self-test
def selftest():
    """The server forgets unflushed writes at a power cut and keeps flushed ones."""
    import subprocess
    import tempfile

    results = []

    def check(name, ok, why=""):
        ok = bool(ok)
        results.append(ok)
        print(f"PASS nbd/{name}" if ok else f"FAIL nbd/{name}: {why}")

    class Client:
        def __init__(self, port):
            self.s = socket.create_connection(("127.0.0.1", port))
            magic, opt, hflags = struct.unpack(">QQH", recv_exact(self.s, 18))
            assert magic == NBDMAGIC and opt == IHAVEOPT and hflags & FLAG_FIXED_NEWSTYLE
            self.s.sendall(struct.pack(">I", FLAG_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES))
            # an option it refuses, then GO
            self.s.sendall(struct.pack(">QII", IHAVEOPT, 8, 0))
            _, _, rtype, ln = struct.unpack(">QIII", recv_exact(self.s, 20))
            assert rtype == REP_ERR_UNSUP and ln == 0
            self.s.sendall(struct.pack(">QIII", IHAVEOPT, OPT_GO, 6, 0) + b"\0\0")
            _, _, rtype, ln = struct.unpack(">QIII", recv_exact(self.s, 20))
            assert rtype == REP_INFO
            _, self.size, self.flags = struct.unpack(">HQH", recv_exact(self.s, ln))
            _, _, rtype, ln = struct.unpack(">QIII", recv_exact(self.s, 20))
            assert rtype == REP_ACK and ln == 0
            self.handle = 0

        def request(self, cmd, off=0, length=0, data=b"", want_reply=True):
            self.handle += 1
            self.s.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, cmd, self.handle,
                                       off, length) + data)
            if not want_reply:
                return None
            magic, err, handle = struct.unpack(">IIQ", recv_exact(self.s, 16))
            assert magic == SIMPLE_REPLY_MAGIC and handle == self.handle, "bad reply"
            return err, recv_exact(self.s, length) if cmd == CMD_READ and not err else b""

        def write(self, off, data):
            return self.request(CMD_WRITE, off, len(data), data)[0]

        def read(self, off, n):
            return self.request(CMD_READ, off, n)[1]

        def close(self, disc=False):
            if disc:
                self.request(CMD_DISC, want_reply=False)
            self.s.close()

    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "disk.img")
        with open(img, "wb") as f:
            f.truncate(1 << 20)
        procs = []

        def start(*extra):
            pf = os.path.join(tmp, "port")
            if os.path.exists(pf):
                os.unlink(pf)
            p = subprocess.Popen([sys.executable, __file__, img, "--port-file", pf,
                                  "--log", os.path.join(tmp, "log"), *extra])
            procs.append(p)
            for _ in range(200):
                if os.path.exists(pf):
                    return p, int(open(pf).read())
                time.sleep(0.05)
            raise RuntimeError("the server did not start")

        def stop(p):
            p.terminate()
            p.wait(10)

        try:
            a, b, c = bytes([0xa5]) * 4096, bytes([0x5b]) * 1000, bytes([0xc3]) * 512
            p, port = start()
            cl = Client(port)
            check("export-size", cl.size == 1 << 20 and cl.flags & FLAG_SEND_FLUSH,
                  f"size {cl.size}, flags {cl.flags:#x}")
            cl.write(0, a)
            cl.write(8192 + 100, b)                  # unaligned, not flushed
            check("reads-its-cache", cl.read(0, 4096) == a and cl.read(8192 + 100, 1000) == b)
            check("flush-completes", cl.request(CMD_FLUSH)[0] == 0)
            cl.write(8192 + 100, c)                  # over flushed data, not flushed
            cl.write(65536, c)
            cl.close()                               # killed: no DISC, no flush
            stop(p)
            p, port = start()
            cl = Client(port)
            check("keeps-flushed-data", cl.read(0, 4096) == a)
            check("forgets-unflushed-data-at-cut",
                  cl.read(8192 + 100, 1000) == b and cl.read(65536, 512) == bytes(512))
            check("out-of-range-refused", cl.write(cl.size - 512, bytes(1024)) == ENOSPC)
            cl.close(disc=True)
            stop(p)
            # a flush cut before it completes (SIGTERM during the delay) never happened
            p, port = start("--flush-delay", "5")
            cl = Client(port)
            cl.write(65536, c)
            cl.request(CMD_FLUSH, want_reply=False)
            time.sleep(0.5)
            stop(p)
            cl.close()
            with open(img, "rb") as f:
                f.seek(65536)
                check("cut-during-flush-loses-data", f.read(512) == bytes(512))
            # --keep-random: part of the cache reaches the image, part does not
            p, port = start("--keep-random", "1")
            cl = Client(port)
            for i in range(64):
                cl.write(131072 + i * 512, bytes([i + 1]) * 512)
            cl.close()
            stop(p)
            with open(img, "rb") as f:
                f.seek(131072)
                blocks = [f.read(512) for _ in range(64)]
            kept = sum(blk == bytes([i + 1]) * 512 for i, blk in enumerate(blocks))
            zero = sum(blk == bytes(512) for blk in blocks)
            check("keep-random-keeps-a-part", 0 < kept < 64 and kept + zero == 64,
                  f"{kept} of 64 kept, {zero} zero")
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


def main(argv):
    if argv == ["--selftest"]:
        return selftest()
    args = {"image": None, "port": 0, "port_file": None, "flush_delay": 0.0,
            "keep_seed": None, "log": None, "fail_write": 0, "stall_write": 0}
    i = 0
    try:
        while i < len(argv):
            a = argv[i]
            if a in ("-h", "--help"):
                print(__doc__)
                return 0
            if a in ("--port", "--port-file", "--flush-delay", "--keep-random", "--log",
                     "--fail-write", "--stall-write"):
                v = argv[i + 1]
                i += 2
                if a == "--port":
                    args["port"] = int(v)
                elif a == "--port-file":
                    args["port_file"] = v
                elif a == "--flush-delay":
                    args["flush_delay"] = float(v)
                elif a == "--keep-random":
                    args["keep_seed"] = int(v)
                elif a in ("--fail-write", "--stall-write"):
                    args[a[2:].replace("-", "_")] = int(v)
                else:
                    args["log"] = v
                continue
            if a.startswith("-") or args["image"]:
                raise ValueError(a)
            args["image"] = a
            i += 1
        if not args["image"]:
            raise ValueError("no IMAGE")
    except (IndexError, ValueError) as e:
        print(f"cache-disk.py: bad arguments ({e}); see --help", file=sys.stderr)
        return 3
    return serve(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
