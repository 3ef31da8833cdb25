#!/usr/bin/env python3
"""Prints N distinct free TCP ports on 127.0.0.1, one per line (bound together, then released).

The ports are taken below the kernel's range for outgoing connections: a port from that range,
released here and bound by a server a few seconds later, may meanwhile have become the source
port of some client's connection ("address already in use")."""
import random
import socket
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
candidates = list(range(10000, max(10000 + 4 * count, low)))
random.shuffle(candidates)
sockets = []
for port in candidates:
    if len(sockets) == count:
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        continue
    sockets.append(s)
if len(sockets) < count:
    sys.exit(f"free-ports: only {len(sockets)} of {count} ports free below {low}")
for s in sockets:
    print(s.getsockname()[1])
for s in sockets:
    s.close()
