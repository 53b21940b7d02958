#!/usr/bin/env python3
"""Loopback HTTP/1.1 file server with fault injection, for bootrino's integration tests.

Usage: fault_server.py --root DIR [--port 0] [--port-file F] [--log F] [--host 127.0.0.1]

GET/HEAD /PATH             serves DIR/PATH (Content-Length, Range bytes=N- / N-M / -S, 404).
GET/HEAD /_f/SPEC/PATH     serves the same file with the faults in SPEC applied.
GET /_stats                JSON {"total": N, "counts": {"<request target>": N, ...}}.
GET /_reset                clears the counters (answers the same JSON, taken before clearing).

SPEC is comma-separated items; each value is percent-decoded after splitting (write ',' '/'
'%' inside a value as %2C %2F %25):
  status=CODE[xK]     answer CODE (body "injected fault\n", no Retry-After) to the first K
                      requests of this URL (to every request if no xK), then serve normally.
  retryafter=S        add "Retry-After: S" to status= answers.
  redirect=URL        302 to URL (percent-encode it).       redirectloop: 302 to itself.
  redirectchain=N     302 to the same URL with redirectchain=N-1; at 0 the file is served.
  drop=P% | drop=N    send full headers, then P% of the body (or N bytes) and close (FIN).
  rst                 end the connection of drop/len/big with a TCP reset instead of a FIN.
  slow=BPS            throttle the body to BPS bytes/second.
  stall=S[@OFF]       send OFF bytes of body (default 1024), pause S seconds, send the rest.
  len=+N              declare Content-Length N too big, send the real body, close: short body.
  len=-N              declare Content-Length N too small, send the whole body anyway, close.
  norange             ignore Range: always 200 with the whole file, no Accept-Ranges.
  big[=N]             200 without Content-Length (close-delimited): the file, then zero bytes
                      forever (or until N body bytes in all); stops when the client goes away.
  once | times=N      drop, stall and len (the faults that break one transfer) apply only to
                      the first (N) request(s) of this URL that get past status=; norange,
                      slow and big describe the server and always apply.
Counters are per process, keyed by the request target (path plus query string, so "?run=2"
gives fresh counters); every request (GET or HEAD) to a URL counts.  Each request is logged
to --log, when it ends, as one JSON line: ts (start) method path range status bytes (body bytes
sent) faults (applied) count (0-based index for its URL) secs client (the peer's address; an IPv4
peer of an IPv6 socket without its ::ffff: prefix), plus error / dropped_at.

--host :: listens on every IPv6 and IPv4 address (VM tests inside a network namespace of their own).
"""
import argparse, http.server, json, os, re, signal, socket, struct, sys, threading, time
import urllib.parse

CHUNK = 256 * 1024
BODY_FAULTS = ("drop", "slow", "stall", "len", "norange", "big")  # logged when applied
TRANSIENT = ("drop", "stall", "len")  # gated by once / times=N
GRAMMAR = {  # item -> regex its value must fully match ("" = flag, written without "=")
    "status": r"\d{3}(x\d+)?", "retryafter": r"\S+", "redirect": r".+", "redirectloop": "",
    "redirectchain": r"\d+", "drop": r"\d+(\.\d+)?%|\d+", "slow": r"[1-9]\d*",
    "stall": r"\d+(\.\d+)?(@\d+)?", "len": r"[+-]\d+", "norange": "", "big": r"(\d+)?",
    "once": "", "times": r"[1-9]\d*", "rst": ""}


class Spec(dict):
    """Parsed fault SPEC: item name -> value string ("" for flags)."""

    @classmethod
    def parse(cls, text):
        spec = cls()
        for item in filter(None, text.split(",")):
            name, _, value = item.partition("=")
            value = urllib.parse.unquote(value)
            if name not in GRAMMAR or not re.fullmatch(GRAMMAR[name], value):
                raise ValueError("bad fault item: %r" % item)
            spec[name] = value
        return spec

    def encode(self):
        return ",".join(k + ("=" + urllib.parse.quote(str(v), safe="") if v != "" else "")
                        for k, v in self.items())


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, root, log_path):
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        super().__init__(addr, Handler)
        self.root = os.path.realpath(root)
        self.counts, self.lock = {}, threading.Lock()
        self.log_file = open(log_path, "a", buffering=1) if log_path else None

    def count(self, key):
        with self.lock:
            n = self.counts.get(key, 0)
            self.counts[key] = n + 1
            return n

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is normal
            super().handle_error(request, client_address)

    def log(self, rec):
        if self.log_file:
            with self.lock:
                self.log_file.write(json.dumps(rec) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bootrino-fault-server/1"

    def log_message(self, *args):  # silence the default stderr access log
        pass

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def handle_request(self, head):
        t0 = time.monotonic()
        self.rec = {"ts": round(time.time(), 3), "method": self.command, "path": self.path,
                    "range": self.headers.get("Range"), "status": None, "bytes": 0,
                    "faults": [], "count": None, "client": self.client_address[0].removeprefix("::ffff:")}
        try:
            self.route(head)
        except ConnectionError:  # broken pipe, reset, aborted
            self.rec["error"] = "client disconnected"
            self.close_connection = True
        finally:
            self.rec["secs"] = round(time.monotonic() - t0, 3)
            self.server.log(self.rec)

    def reply(self, code, body=b"", headers=(), head=False):
        self.rec["status"] = code
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
            self.rec["bytes"] = len(body)

    def route(self, head):
        target = self.path
        raw = target.split("?", 1)[0]
        if raw in ("/_stats", "/_reset"):
            with self.server.lock:
                body = json.dumps({"total": sum(self.server.counts.values()),
                                   "counts": self.server.counts}).encode()
                if raw == "/_reset":
                    self.server.counts.clear()
            return self.reply(200, body, [("Content-Type", "application/json")], head)
        spec = Spec()
        m = re.match(r"^/_f/([^/]*)(/.*)$", raw)
        if m:
            try:
                spec = Spec.parse(m.group(1))
            except ValueError as e:
                return self.reply(400, (str(e) + "\n").encode(), head=head)
            raw = m.group(2)
        n = self.rec["count"] = self.server.count(target)
        if "status" in spec:
            code, _, k = spec["status"].partition("x")
            if not k or n < int(k):
                self.rec["faults"].append("status=" + spec["status"])
                hdrs = [("Retry-After", spec["retryafter"])] if "retryafter" in spec else []
                return self.reply(int(code), b"injected fault\n", hdrs, head)
            n -= int(k)
        location = None
        if "redirect" in spec:
            location = spec["redirect"]
        elif "redirectloop" in spec:
            location = target
        elif int(spec.get("redirectchain", 0)) > 0:
            nxt = Spec(spec, redirectchain=int(spec["redirectchain"]) - 1)
            location = "/_f/%s%s" % (nxt.encode(), target[m.end(1):])
        if location is not None:
            self.rec["faults"].append("redirect")
            return self.reply(302, b"", [("Location", location)], head)
        limit = 1 if "once" in spec else int(spec.get("times", 0)) or None
        if limit is not None and n >= limit:
            spec = Spec((k, v) for k, v in spec.items() if k not in TRANSIENT)
        self.rec["faults"] += [k for k in spec if k in BODY_FAULTS]
        self.serve_file(urllib.parse.unquote(raw), spec, head)

    def serve_file(self, rel, spec, head):
        path = os.path.realpath(os.path.join(self.server.root, rel.lstrip("/")))
        if not path.startswith(self.server.root + os.sep) or not os.path.isfile(path):
            return self.reply(404, b"not found\n", head=head)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            start, end, code = 0, size, 200
            hdrs = [("Content-Type", "application/octet-stream")]
            rng = None if "norange" in spec or "big" in spec else self.headers.get("Range")
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip()) if rng else None
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(size, int(m.group(2)) + 1) if m.group(2) else size
                else:
                    start = max(0, size - int(m.group(2)))
                if start >= size or start >= end:
                    return self.reply(416, b"", [("Content-Range", "bytes */%d" % size)], head)
                code = 206
                hdrs.append(("Content-Range", "bytes %d-%d/%d" % (start, end - 1, size)))
            if "norange" not in spec:
                hdrs.append(("Accept-Ranges", "bytes"))
            length = end - start
            declared, cut = length, None
            if "len" in spec:
                declared = max(0, length + int(spec["len"]))
                self.close_connection = True
            if "drop" in spec:
                d = spec["drop"]
                cut = length * float(d[:-1]) / 100 if d.endswith("%") else int(d)
                cut = min(length, int(cut))
                self.close_connection = True
            total = None  # body length for big: None = endless
            if "big" in spec:
                total = int(spec["big"]) if spec["big"] else None
                hdrs.append(("Connection", "close"))
                self.close_connection = True
            else:
                hdrs.append(("Content-Length", str(declared)))
            self.rec["status"] = code
            self.send_response(code)
            for k, v in hdrs:
                self.send_header(k, v)
            self.end_headers()
            if head:
                return
            f.seek(start)
            if "big" in spec:
                length = total
            self.send_body(f, length, cut, spec)
        if cut is not None or "len" in spec or "big" in spec:
            if "rst" in spec:  # linger 0: close() sends RST
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_WR)

    def send_body(self, f, length, cut, spec):
        """Write up to `length` body bytes (None: endless) from f, then zeros past EOF."""
        rate = int(spec["slow"]) if "slow" in spec else None
        stall_s, stall_at = None, None
        if "stall" in spec:
            s, _, off = spec["stall"].partition("@")
            stall_s, stall_at = float(s), int(off or 1024)
            if length is not None:
                stall_at = min(stall_at, max(0, length - 1))
        sent, t0 = 0, time.monotonic()
        while length is None or sent < length:
            if cut is not None and sent >= cut:
                self.rec["dropped_at"] = sent
                return
            if stall_at is not None and sent >= stall_at:
                time.sleep(stall_s)
                stall_at = None
            n = CHUNK if rate is None else max(1, min(CHUNK, rate // 20))
            for lim in (length, cut, stall_at):
                if lim is not None:
                    n = min(n, lim - sent)
            data = f.read(n) or (bytes(n) if "big" in spec else b"")
            if not data:
                return
            self.wfile.write(data)
            sent += len(data)
            self.rec["bytes"] = sent
            if rate is not None:
                delay = t0 + sent / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    args = ap.parse_args()
    server = Server((args.host, args.port), args.root, args.log)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as pf:
            pf.write("%d\n" % server.server_address[1])
        os.replace(args.port_file + ".tmp", args.port_file)
    # shutdown() blocks until serve_forever() returns, so call it from another thread
    stop = lambda *_: threading.Thread(target=server.shutdown).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.1)
    server.server_close()


if __name__ == "__main__":
    main()
