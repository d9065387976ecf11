#!/usr/bin/env python3
"""sse.py: clients of GET /v1/events (Server-Sent Events) for events.sh.

SOCK is the node's control socket. Each client speaks HTTP/1.1 as a
browser's EventSource does (the answer is chunked) and reads the stream by
the SSE rules. Every command is bounded in time.

  sse.py SOCK follow OUT [SINCE]
      follows the stream (after SINCE, else from now) and appends one JSON
      line per thing read to OUT, flushed at once, until the stream ends
      or the process is killed:
        {"start": N}                   the id the stream starts after
        {"id": N, "type": T, "data": {...}}   an event (id null if none)
        {"comment": "keepalive"}
        {"end": "closed"}
  sse.py SOCK fetch SINCE
      reads the stream after SINCE until it is silent for 1.5 s, and
      prints its events as one JSON array of {"id", "type", "data"}
  sse.py SOCK stall GOFILE
      opens a stream from now and reads nothing until GOFILE exists (at
      most 300 s), then reads to the end (at most 60 s) and prints
      {"bytes", "events", "first_id", "last_id", "contiguous", "dropped",
       "eof"}
  sse.py SOCK slow SINCE RATE SECONDS
      opens a stream after SINCE and reads it at RATE bytes a second for
      SECONDS, then prints {"bytes", "eof"} (eof: the node closed it) and
      closes it
  sse.py SOCK cap N
      opens N streams at once and prints the status of each answer, the
      body of the first refused, and the status of GET /v1/status asked
      while they are all open.
"""
import json
import os
import socket
import sys
import time


def connect(sock, target, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock)
    s.sendall(("GET %s HTTP/1.1\r\nHost: halle\r\n"
               "Accept: text/event-stream\r\n\r\n" % target).encode())
    return s


class Reader:
    """The bytes of one answer: its head, then its body, dechunked."""

    def __init__(self, s):
        self.s, self.buf, self.eof = s, b"", False

    def fill(self):
        if self.eof:
            return False
        try:
            data = self.s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def line(self):
        while b"\r\n" not in self.buf:
            if not self.fill():
                return None
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def take(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def head(self):
        status = self.line()
        headers = {}
        while True:
            line = self.line()
            if not line:
                break
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode()
        code = int(status.split(b" ")[1]) if status else 0
        return code, headers

    def chunks(self):
        """Yields the body's chunks; ends at the last chunk or EOF."""
        while True:
            size = self.line()
            if size is None:
                return
            n = int(size.split(b";")[0], 16)
            if n == 0:
                return
            data = self.take(n)
            if data is None:
                return
            yield data
            self.take(2)

    def body(self, length):
        return self.take(length) or b""


def sse_events(chunks):
    """Yields (kind, value) from a stream: start, event, comment."""
    pending, data, etype, eid = b"", [], None, None
    for chunk in chunks:
        pending += chunk
        while b"\n" in pending:
            raw, _, pending = pending.partition(b"\n")
            line = raw.rstrip(b"\r").decode()
            if line == "":
                if data:
                    yield "event", (eid, etype, "\n".join(data))
                elif eid is not None:
                    yield "start", eid
                data, etype, eid = [], None, None
            elif line.startswith(":"):
                yield "comment", line[1:].strip()
            else:
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    data.append(value)
                elif name == "event":
                    etype = value
                elif name == "id":
                    eid = int(value)


def follow(sock, out, since):
    target = "/v1/events" + ("?since=%s" % since if since else "")
    s = connect(sock, target, timeout=None)
    r = Reader(s)
    code, headers = r.head()
    with open(out, "a") as f:
        def put(obj):
            f.write(json.dumps(obj) + "\n")
            f.flush()
        if code != 200:
            put({"status": code, "body": r.body(
                int(headers.get("content-length", "0"))).decode()})
            return
        for kind, value in sse_events(r.chunks()):
            if kind == "start":
                put({"start": value})
            elif kind == "comment":
                put({"comment": value})
            else:
                eid, etype, data = value
                put({"id": eid, "type": etype, "data": json.loads(data)})
        put({"end": "closed"})


def fetch(sock, since):
    s = connect(sock, "/v1/events?since=%s" % since, timeout=10)
    r = Reader(s)
    code, _ = r.head()
    s.settimeout(1.5)
    got = []
    try:
        for kind, value in sse_events(r.chunks()):
            if kind == "event":
                eid, etype, data = value
                got.append({"id": eid, "type": etype,
                            "data": json.loads(data)})
    except socket.timeout:
        pass
    print(json.dumps(got if code == 200 else {"status": code}))


def stall(sock, gofile):
    s = connect(sock, "/v1/events", timeout=None)
    deadline = time.monotonic() + 300
    while not os.path.exists(gofile) and time.monotonic() < deadline:
        time.sleep(0.1)
    s.settimeout(60)
    r = Reader(s)
    got = {"bytes": 0, "events": 0, "first_id": None, "last_id": None,
           "contiguous": True, "dropped": None, "eof": False}
    code, _ = r.head()
    got["status"] = code

    def counted():
        for chunk in r.chunks():
            got["bytes"] += len(chunk)
            yield chunk
    try:
        for kind, value in sse_events(counted()):
            if kind != "event":
                continue
            eid, etype, data = value
            if etype == "dropped":
                got["dropped"] = json.loads(data)
                continue
            if got["last_id"] is not None and eid != got["last_id"] + 1:
                got["contiguous"] = False
            if got["first_id"] is None:
                got["first_id"] = eid
            got["last_id"] = eid
            got["events"] += 1
        while r.fill():
            pass
        got["eof"] = r.eof
    except socket.timeout:
        pass
    print(json.dumps(got))


def slow(sock, since, rate, seconds):
    s = connect(sock, "/v1/events?since=%s" % since, timeout=30)
    got = {"bytes": 0, "eof": False}
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        due = int(rate * (time.monotonic() - start)) - got["bytes"]
        if due < 1024:
            time.sleep(0.05)
            continue
        data = s.recv(min(due, 4096))
        if not data:
            got["eof"] = True
            break
        got["bytes"] += len(data)
    print(json.dumps(got))
    s.close()


def cap(sock, n):
    conns, statuses, refused = [], [], None
    for _ in range(n):
        s = connect(sock, "/v1/events")
        r = Reader(s)
        code, headers = r.head()
        statuses.append(code)
        if code != 200 and refused is None:
            refused = json.loads(r.body(int(headers.get("content-length",
                                                         "0"))))
        conns.append(s)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock)
    s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: halle\r\n"
              b"Connection: close\r\n\r\n")
    code, _ = Reader(s).head()
    print(json.dumps({"statuses": statuses, "refused": refused,
                      "status_while_full": code}))
    for c in conns + [s]:
        c.close()


def main():
    sock, cmd = sys.argv[1], sys.argv[2]
    if cmd == "follow":
        follow(sock, sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    elif cmd == "fetch":
        fetch(sock, sys.argv[3])
    elif cmd == "stall":
        stall(sock, sys.argv[3])
    elif cmd == "slow":
        slow(sock, sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    elif cmd == "cap":
        cap(sock, int(sys.argv[3]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
