#!/usr/bin/python3
"""faultproxy.py - an HTTP(S) proxy on loopback that injects faults.

    /usr/bin/python3 faultproxy.py --upstream 127.0.0.1:PORT [--tls-cert C
        --tls-key K --upstream-ca CA] [--reset F] [--stall F] [--error F]
        [--truncate F] [--stall-seconds S] [--seed N] [--max-seconds S]
        [--port-file FILE] [--log FILE]

Listens on 127.0.0.1 (a free port, written to --port-file and stdout).
For each request, with the given probabilities: --reset closes the
connection with a TCP reset before forwarding, --stall holds it without an
answer for --stall-seconds then closes it, --error answers 500.  Otherwise
the request is forwarded with "Connection: close" (one request per
connection keeps the parsing trivial); --truncate cuts that fraction of the
200 responses to GET requests after half of their body (206 answers to
Range requests pass whole, so a resumed download completes).  With
--tls-cert/--tls-key it speaks TLS to the client, and with --upstream-ca
TLS to the upstream.  Standard library only; exits by itself after
--max-seconds (default 300).  One line per request goes to --log.
"""
import argparse
import asyncio
import random
import socket
import ssl
import struct
import sys

args = None
rng = random.Random()
logf = None


def log(msg):
    if logf is not None:
        logf.write(msg + "\n")
        logf.flush()


async def read_head(reader):
    data = await reader.readuntil(b"\r\n\r\n")
    if len(data) > 65536:
        raise ValueError("head too large")
    return data


def set_header(head, name, value):
    lines = head.split(b"\r\n")
    out = [lines[0]]
    for line in lines[1:]:
        if line.lower().startswith(name.lower() + b":"):
            continue
        if line:
            out.append(line)
    out.append(name + b": " + value)
    return b"\r\n".join(out) + b"\r\n\r\n"


def reset(writer):
    sock = writer.get_extra_info("socket")
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


async def pipe(reader, writer, limit=None):
    """Copy reader to writer (limit bytes at most); True if limit was hit."""
    sent = 0
    while True:
        n = 65536 if limit is None else min(65536, limit - sent)
        if n <= 0:
            return True
        data = await reader.read(n)
        if not data:
            return False
        writer.write(data)
        await writer.drain()
        sent += len(data)


async def handle(creader, cwriter):
    try:
        head = await read_head(creader)
    except (asyncio.IncompleteReadError, ValueError, ConnectionError,
            asyncio.LimitOverrunError, ssl.SSLError):
        cwriter.transport.abort()
        return
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    method = line.split(" ", 1)[0]
    r = rng.random()
    if r < args.reset:
        log("reset " + line)
        reset(cwriter)
        return
    r -= args.reset
    if r < args.stall:
        log("stall " + line)
        await asyncio.sleep(args.stall_seconds)
        cwriter.transport.abort()
        return
    r -= args.stall
    if r < args.error:
        log("500 " + line)
        body = b"injected fault\n"
        cwriter.write(b"HTTP/1.1 500 Internal Server Error\r\n"
                      b"Content-Type: text/plain\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
        try:
            await cwriter.drain()
        except ConnectionError:
            pass
        cwriter.transport.abort()
        return
    truncate = method == "GET" and rng.random() < args.truncate
    host, port = args.upstream.rsplit(":", 1)
    ctx = None
    if args.upstream_ca:
        ctx = ssl.create_default_context(cafile=args.upstream_ca)
    try:
        ureader, uwriter = await asyncio.open_connection(
            host, int(port), ssl=ctx, server_hostname=host if ctx else None)
    except OSError as e:
        log("upstream down %s: %s" % (line, e))
        cwriter.transport.abort()
        return
    uwriter.write(set_header(head, b"Connection", b"close"))
    up = asyncio.ensure_future(pipe(creader, uwriter))
    try:
        rhead = await read_head(ureader)
        status = rhead.split(b"\r\n", 1)[0]
        # an interim 100 Continue: pass it and read the real answer
        while b" 100 " in status + b" ":
            cwriter.write(rhead)
            await cwriter.drain()
            rhead = await read_head(ureader)
            status = rhead.split(b"\r\n", 1)[0]
        clen = None
        for h in rhead.split(b"\r\n")[1:]:
            if h.lower().startswith(b"content-length:"):
                clen = int(h.split(b":", 1)[1])
        cwriter.write(rhead)
        if truncate and b" 200 " in status + b" " and clen and clen > 1:
            log("truncate %s at %d of %d" % (line, clen // 2, clen))
            await pipe(ureader, cwriter, clen // 2)
            reset(cwriter)
        else:
            log("pass " + line + " -> " + status.decode("latin-1"))
            await pipe(ureader, cwriter)
            await cwriter.drain()
            cwriter.close()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError,
            asyncio.LimitOverrunError, ssl.SSLError, OSError) as e:
        log("error %s: %r" % (line, e))
        cwriter.transport.abort()
    finally:
        up.cancel()
        uwriter.transport.abort()


async def main():
    ctx = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
    server = await asyncio.start_server(handle, "127.0.0.1", args.port,
                                        ssl=ctx, limit=1 << 20)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    print(port, flush=True)
    async with server:
        try:
            await asyncio.wait_for(server.serve_forever(), args.max_seconds)
        except asyncio.TimeoutError:
            pass


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True, help="HOST:PORT")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--upstream-ca", help="speak TLS upstream, verified")
    p.add_argument("--reset", type=float, default=0.0)
    p.add_argument("--stall", type=float, default=0.0)
    p.add_argument("--error", type=float, default=0.0)
    p.add_argument("--truncate", type=float, default=0.0)
    p.add_argument("--stall-seconds", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--max-seconds", type=float, default=300.0)
    p.add_argument("--log")
    a = p.parse_args()
    host = a.upstream.rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "::1"):
        p.error("--upstream must be on loopback")
    return a


if __name__ == "__main__":
    args = parse()
    if args.seed is not None:
        rng.seed(args.seed)
    if args.log:
        logf = open(args.log, "a")
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    sys.exit(0)
