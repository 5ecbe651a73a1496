#!/usr/bin/python3
"""A minimal /ws/metrics client for the benchmarks (Debian 12 has no
WebSocket module for Python in the base install): handshake, then read
frames for SECONDS and count them by type; prints JSON.

    ws-client.py HOST:PORT SECONDS
"""
import base64
import json
import os
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
seconds = float(sys.argv[2])
s = socket.create_connection((host, int(port)))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /ws/metrics HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
if b" 101 " not in head.split(b"\r\n")[0]:
    sys.exit(f"handshake refused: {head[:200]!r}")
counts, size = {}, {}
end = time.monotonic() + seconds
s.settimeout(0.5)


def need(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk


while time.monotonic() < end:
    try:
        need(2)
        n = buf[1] & 0x7F
        off = 2
        if n == 126:
            need(4)
            n, off = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            need(10)
            n, off = int.from_bytes(buf[2:10], "big"), 10
        need(off + n)
        payload, buf = buf[off:off + n], buf[off + n:]
    except socket.timeout:
        continue
    if buf is not None and (payload[:1] == b"{"):
        t = json.loads(payload).get("type", "?")
        counts[t] = counts.get(t, 0) + 1
        size[t] = size.get(t, 0) + len(payload)
print(json.dumps({"frames": counts, "bytes": size}))
