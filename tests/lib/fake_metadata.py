#!/usr/bin/env python3
"""A fake cloud metadata service, for every test tier: the unit tests (userdata_resolve_test.cc), the
integration tests (test_metadata_trust.sh, through tests/lib/serve.sh's imds_start) and the VM tests.

    fake_metadata.py DIR [--host HOST] [--port N] [--log FILE] [--one-service]

prints its port on the first line of stdout, then serves on HOST (default 127.0.0.1; "::" is every
address, for tests that run it in a network namespace of their own) and PORT (default 0: any free one).

Files under DIR are the answers. By default each folder of DIR is a scenario: GET /<scenario>/latest/user-data
serves DIR/<scenario>/latest/user-data, so that one server stands for many instances. With --one-service,
DIR itself is the one service and answers at /, as the real ones do at 169.254.169.254 (a test that has
bootrino ask the real addresses). A directory is answered with its ".listing" file; the query string plays
no part in finding the file (GET /conf?format=json serves DIR/conf). With --log, every request is appended to
FILE as one line, "METHOD PATH FLAVOR" (FLAVOR is the Metadata-Flavor header, or "-"), before it is answered.

The rules each real service enforces are enforced here too, so that a client that gets an answer has asked
as that service wants (see SERVICES below for each one):
  - AWS IMDSv2: a session token for every GET; GCP: "Metadata-Flavor: Google"; Azure: "Metadata: true", no
    proxy, an api-version; Oracle: "Authorization: Bearer Oracle"; Linode: a token of its own, and JSON only
    when asked for; Scaleway: user-data only to a source port below 1024, which only root can bind.
  - DigitalOcean, Hetzner, OpenStack, Vultr, Exoscale (CloudStack's /latest/ paths, in a scenario whose name
    starts with "exoscale"): plain files, asked with nothing more.
  - a file holding "!STATUS 500" is answered with that status and no body.
  - a scenario whose name starts with "silent" accepts the connection and never answers in time (it gives up
    after 5 s).
It exits when its standard input closes (whoever started it is gone) or after 10 minutes, whichever comes
first.
"""
import argparse
import http.server
import json
import os
import secrets
import socket
import sys
import threading
import time


class Request:
    """What the rules look at: the handler, the scenario's folder and name, and the path within it."""

    def __init__(self, handler, root, one_service):
        self.handler = handler
        self.headers = handler.headers
        path = handler.path.split("?")[0]
        if one_service:
            self.scenario, self.rest = "", path
        else:
            parts = path.lstrip("/").split("/", 1)
            self.scenario, self.rest = parts[0], "/" + (parts[1] if len(parts) > 1 else "")
        self.folder = os.path.join(root, self.scenario) if self.scenario else root

    def has(self, subfolder):
        return os.path.isdir(os.path.join(self.folder, subfolder))


class Service:
    """One cloud's rules. owns: whether a request is this service's (by default, its path starts with prefix).
    refuse: (status, body) for a GET the real service would refuse, or None (by default, one without the
    required header, answered with refusal). put: (status, body) for a PUT (a session token). render: the
    answer's body as the service would give it. headers: what its answers carry."""

    prefix = None
    required = None  # (header, value)
    refusal = None   # (status, body)
    headers = ()

    def owns(self, request):
        return self.prefix is not None and request.rest.startswith(self.prefix)

    def refuse(self, request):
        if self.required and request.headers.get(self.required[0]) != self.required[1]:
            return self.refusal
        return None

    def put(self, request):
        return None

    def render(self, request, body):
        return body


class TokenService(Service):
    """A service whose every GET needs a session token in token_header, handed out by a PUT to token_path whose
    lifetime_header is a number of seconds from 1 to longest."""

    token_path = token_header = lifetime_header = ""
    longest = token_bytes = 0
    bad_lifetime = unauthorized = b""

    def __init__(self):
        self.issued = set()
        self.lock = threading.Lock()

    def put(self, request):
        if request.rest != self.token_path:
            return None
        lifetime = request.headers.get(self.lifetime_header, "")
        if not lifetime.isdigit() or not 1 <= int(lifetime) <= self.longest:
            return 400, self.bad_lifetime
        token = secrets.token_hex(self.token_bytes)
        with self.lock:
            self.issued.add(token)
        return 200, token.encode()

    def refuse(self, request):
        with self.lock:
            if request.headers.get(self.token_header) in self.issued:
                return None
        return 401, self.unauthorized


class Aws(TokenService):
    """IMDSv2: PUT /latest/api/token with a TTL (1-21600 s) gives a token; every GET must carry it. A scenario
    is AWS's when it has a latest/ folder and is not Exoscale's (CloudStack's paths, without a token)."""

    token_path, token_header = "/latest/api/token", "X-aws-ec2-metadata-token"
    lifetime_header, longest, token_bytes = "X-aws-ec2-metadata-token-ttl-seconds", 21600, 16
    bad_lifetime = b"missing or invalid X-aws-ec2-metadata-token-ttl-seconds"

    def owns(self, request):
        return request.rest.startswith("/latest/") and request.has("latest") and \
            not request.scenario.startswith("exoscale")


class Gcp(Service):
    """403 without "Metadata-Flavor: Google"; every answer, a 404 too, carries that header back."""

    prefix = "/computeMetadata/"
    required, refusal = ("Metadata-Flavor", "Google"), (403, b"Missing Metadata-Flavor:Google header.")
    headers = (required,)


class Azure(Service):
    """400 without "Metadata: true", with X-Forwarded-For (a request that came through a proxy), or without
    an api-version."""

    prefix = "/metadata/instance"

    def refuse(self, request):
        if request.headers.get("Metadata") != "true" or request.headers.get("X-Forwarded-For"):
            return 400, b'{"error": "Bad request. Required metadata header not specified"}'
        if "api-version=" not in request.handler.path:
            return 400, b'{"error": "Bad request. api-version was not specified in the request"}'
        return None


class Oracle(Service):
    """401 without "Authorization: Bearer Oracle"."""

    prefix = "/opc/v2/"
    required, refusal = ("Authorization", "Bearer Oracle"), (401, b"Unauthorized")


def plain_text(document, prefix=""):
    """Linode's default rendering of a JSON answer: one "key: value" line per leaf."""
    lines = []
    items = document.items() if isinstance(document, dict) else enumerate(document)
    for key, value in items:
        name = "%s%s" % (prefix, key)
        if isinstance(value, (dict, list)):
            lines += plain_text(value, name + ".")
        else:
            lines.append("%s: %s" % (name, value))
    return lines


class Linode(TokenService):
    """PUT /v1/token with Metadata-Token-Expiry-Seconds (1-86400) gives a token; every GET needs it in
    Metadata-Token. /v1/instance and /v1/ssh-keys answer JSON only to "Accept: application/json", "key: value"
    lines otherwise. A scenario is Linode's when it has a v1/ folder."""

    token_path, token_header = "/v1/token", "Metadata-Token"
    lifetime_header, longest, token_bytes = "Metadata-Token-Expiry-Seconds", 86400, 32
    bad_lifetime = b'{"errors": [{"reason": "Invalid Metadata-Token-Expiry-Seconds"}]}'
    unauthorized = b'{"errors": [{"reason": "Unauthorized"}]}'

    def owns(self, request):
        return request.rest.startswith("/v1/") and request.has("v1")

    def render(self, request, body):
        if request.rest in ("/v1/instance", "/v1/ssh-keys") and request.headers.get("Accept") != "application/json":
            return "\n".join(plain_text(json.loads(body))).encode()
        return body


class Scaleway(Service):
    """User-data only to a request from a source port below 1024."""

    prefix = "/user_data/"

    def refuse(self, request):
        if request.handler.client_address[1] >= 1024:
            return 403, b"user_data is only available from a privileged port"
        return None


# Checked in order; the first that owns a request applies its rules. Paths no service owns (DigitalOcean's
# /metadata/v1/, Hetzner's, OpenStack's, Vultr's, Exoscale's, Scaleway's /conf) are plain files.
SERVICES = (Aws(), Gcp(), Azure(), Oracle(), Linode(), Scaleway())


def service_of(request):
    return next((s for s in SERVICES if s.owns(request)), Service())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = ""           # set by main: DIR, resolved
    one_service = False
    log = None          # a file name, or None
    log_lock = threading.Lock()

    def log_message(self, *args):
        pass

    def record(self):
        if self.log:
            with self.log_lock, open(self.log, "a") as f:
                f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Metadata-Flavor", "-")))

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def file(self, request):
        """DIR's answer for the request's path (a folder's .listing), or None."""
        full = os.path.realpath(os.path.join(request.folder, request.rest.lstrip("/")))
        if full != self.root and not full.startswith(self.root + os.sep):
            return None
        if os.path.isdir(full):
            full = os.path.join(full, ".listing")
        if not os.path.isfile(full):
            return None
        with open(full, "rb") as f:
            return f.read()

    def incoming(self):
        """The request, or None when its scenario never answers."""
        self.record()
        request = Request(self, self.root, self.one_service)
        if request.scenario.startswith("silent"):
            time.sleep(5)
            return None
        return request

    def do_PUT(self):
        request = self.incoming()
        if request is None:
            return
        answer = service_of(request).put(request)
        self.answer(*(answer or (404, b"")))

    def do_GET(self):
        request = self.incoming()
        if request is None:
            return
        service = service_of(request)
        refused = service.refuse(request)
        if refused:
            return self.answer(*refused)
        body = self.file(request)
        if body is None:
            return self.answer(404, b"not found", service.headers)
        if body.startswith(b"!STATUS "):
            return self.answer(int(body.split()[1]), b"", service.headers)
        self.answer(200, service.render(request, body), service.headers)


def main():
    p = argparse.ArgumentParser(description="A fake cloud metadata service (see this file's docstring).")
    p.add_argument("dir", help="the answers: a folder per scenario, or with --one-service the service's own")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", help='append "METHOD PATH FLAVOR" for each request to this file')
    p.add_argument("--one-service", action="store_true", help="DIR answers at / (no scenario in the path)")
    args = p.parse_args()
    Handler.root = os.path.realpath(args.dir)
    Handler.one_service = args.one_service
    Handler.log = args.log

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET

    server = Server((args.host, args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Timer(600, lambda: os._exit(0)).start()  # never outlives a stuck test by long
    server.serve_forever()


if __name__ == "__main__":
    main()
