#!/usr/bin/env python3
"""rawhttp.py: raw HTTP/1.1 clients for limits.sh, what curl cannot send.

ADDR is unix:/path/to/socket or tcp:HOST:PORT. Every command is bounded in
bytes and in time; none needs the network beyond loopback.

  rawhttp.py ADDR request          send stdin as is, print the answer
  rawhttp.py ADDR flood BYTES      an unterminated header line of BYTES
  rawhttp.py ADDR slowloris N SECONDS
                                   N connections sending a byte a second
  rawhttp.py ADDR hold N SECONDS   N idle connections, held SECONDS

request and flood print the status code on the first line and the body
after it (nothing when the server closed without answering); flood and
slowloris print their figures on stderr as name=value.
"""
import errno
import select
import socket
import sys
import time


def connect(addr, blocking=True):
    kind, _, rest = addr.partition(":")
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = rest
    else:
        host, _, port = rest.rpartition(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = (host, int(port))
    if blocking:
        s.settimeout(10)
        s.connect(target)
        return s
    s.setblocking(False)
    try:
        s.connect(target)
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return None
    return s


def read_answer(s, deadline):
    """Reads until the server closes or answers fully, or the deadline."""
    data = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and \
                        len(body) >= int(value.strip()):
                    return data
    return data


def show(data):
    if not data:
        print("none")
        return
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].split(b" ")
    print(status[1].decode() if len(status) > 1 else "none")
    sys.stdout.write(body.decode(errors="replace"))


def request(addr):
    payload = sys.stdin.buffer.read()
    s = connect(addr)
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    show(read_answer(s, time.monotonic() + 10))


def flood(addr, total):
    s = connect(addr)
    s.setblocking(False)
    start = time.monotonic()
    pending = b"GET /metrics HTTP/1.1\r\nHost: halle\r\nX-Flood: "
    sent, block = 0, b"a" * 65536
    data = b""
    deadline = start + 60
    while sent < total and time.monotonic() < deadline:
        r, w, _ = select.select([s], [s], [], 1)
        if r:
            break   # the server answers (or closes): stop sending
        if w:
            try:
                sent += s.send(pending or block[:total - sent])
                pending = b""
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                break
    data = read_answer(s, time.monotonic() + 10)
    print("sent=%d seconds=%.2f" % (sent, time.monotonic() - start),
          file=sys.stderr)
    show(data)


def open_many(addr, n):
    conns = []
    for _ in range(n):
        s = connect(addr, blocking=False)
        if s is not None:
            conns.append(s)
    return conns


def slowloris(addr, n, seconds):
    """Sends a byte a second on each connection until the server closes it."""
    start = time.monotonic()
    conns = open_many(addr, n)
    opened, closed, last = len(conns), 0, 0.0
    line = b"GET /v1/status HTTP/1.1\r\nX-Slow: " + b"a" * 10000
    pos = {s: 0 for s in conns}
    while conns and time.monotonic() - start < seconds:
        for s in list(conns):
            try:
                if s.recv(4096, socket.MSG_DONTWAIT) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                pass
            except OSError:
                conns.remove(s)
                s.close()
                closed += 1
                last = time.monotonic() - start
                continue
            try:
                s.send(line[pos[s]:pos[s] + 1])
                pos[s] += 1
            except (BlockingIOError, OSError) as e:
                if getattr(e, "errno", None) not in (errno.EAGAIN, errno.ENOTCONN):
                    conns.remove(s)
                    s.close()
                    closed += 1
                    last = time.monotonic() - start
        time.sleep(1)
    print("opened=%d closed_by_server=%d last_close=%.1f left_open=%d"
          % (opened, closed, last, len(conns)), file=sys.stderr)
    for s in conns:
        s.close()


def hold(addr, n, seconds):
    conns = open_many(addr, n)
    print("opened=%d" % len(conns), file=sys.stderr, flush=True)
    time.sleep(seconds)
    for s in conns:
        s.close()


def main():
    addr, cmd = sys.argv[1], sys.argv[2]
    if cmd == "request":
        request(addr)
    elif cmd == "flood":
        flood(addr, int(sys.argv[3]))
    elif cmd == "slowloris":
        slowloris(addr, int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "hold":
        hold(addr, int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
