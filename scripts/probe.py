#!/usr/bin/env python3
"""Ask a local service whether it answers, speaking just enough of its protocol.

    scripts/probe.py KIND HOST PORT [--timeout SECONDS]

KIND is one of:
  tcp    something accepts a TCP connection
  amqp   an AMQP 0-9-1 broker sends Connection.Start after the protocol header
  mongo  a MongoDB-wire server answers {ping: 1} with ok: 1 (OP_MSG, no driver needed)
  smtp   an SMTP server greets with 220

Exits 0 when the service answered as expected, 1 otherwise (the reason goes to stderr).
Only the standard library is used, so it runs before any package is installed.
"""

import argparse
import socket
import struct
import sys


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def probe_tcp(sock):
    return None


def probe_amqp(sock):
    sock.sendall(b"AMQP\x00\x00\x09\x01")
    # Frame header: type (1 = method), channel (2), size (4); then class 10, method 10 = Connection.Start.
    head = recv_exact(sock, 11)
    if head[0] != 1 or head[7:11] != b"\x00\x0a\x00\x0a":
        return f"no Connection.Start (got {head!r})"
    return None


def bson_ping():
    elems = b"\x10ping\x00" + struct.pack("<i", 1)
    elems += b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00"
    return struct.pack("<i", 4 + len(elems) + 1) + elems + b"\x00"


def probe_mongo(sock):
    body = struct.pack("<I", 0) + b"\x00" + bson_ping()  # flagBits, section kind 0, document
    request_id = 1
    header = struct.pack("<iiii", 16 + len(body), request_id, 0, 2013)  # 2013 = OP_MSG
    sock.sendall(header + body)
    length, _, response_to, opcode = struct.unpack("<iiii", recv_exact(sock, 16))
    if not 21 <= length <= 48_000_000:
        return f"not a MongoDB reply (message length {length})"
    reply = recv_exact(sock, length - 16)
    if opcode != 2013 or response_to != request_id:
        return f"unexpected reply (opcode {opcode}, responseTo {response_to})"
    doc = reply[5:]  # skip flagBits and the section kind
    # `ok` comes back as a double (mongod) or an int32; 1 means the command succeeded.
    if b"\x01ok\x00" + struct.pack("<d", 1.0) in doc or b"\x10ok\x00" + struct.pack("<i", 1) in doc:
        return None
    return f"ping was not ok: {doc!r}"


def probe_smtp(sock):
    greeting = sock.makefile("rb").readline()
    sock.sendall(b"QUIT\r\n")
    if not greeting.startswith(b"220"):
        return f"no 220 greeting (got {greeting!r})"
    return None


PROBES = {"tcp": probe_tcp, "amqp": probe_amqp, "mongo": probe_mongo, "smtp": probe_smtp}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(PROBES))
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args()
    try:
        with socket.create_connection((args.host, args.port), timeout=args.timeout) as sock:
            sock.settimeout(args.timeout)
            problem = PROBES[args.kind](sock)
    except (OSError, ConnectionError, struct.error) as exc:
        problem = str(exc) or type(exc).__name__
    if problem:
        print(f"{args.kind} {args.host}:{args.port}: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
