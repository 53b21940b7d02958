#!/usr/bin/env python3
"""A fake cloud metadata service on 127.0.0.1 for userdata_unit_tests.

    fake_imds.py DIR [HOST]   prints its port on the first line of stdout, then serves
                              on HOST (default 127.0.0.1; "::" is every address, for the VM
                              tests that run it inside a network namespace of their own)

Files under DIR are the answers: GET /<scenario>/latest/user-data serves
DIR/<scenario>/latest/user-data. A directory is answered with its ".listing"
file. The rules each real service enforces are enforced here too:
  - AWS IMDSv2 (paths with /latest/, in a scenario that has a latest/ directory and
    whose name does not start with "exoscale"):
    PUT …/latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds (1-21600)
    and returns a token; every GET needs X-aws-ec2-metadata-token with it (401 otherwise).
  - GCP (paths with /computeMetadata/): 403 without "Metadata-Flavor: Google";
    answers carry "Metadata-Flavor: Google".
  - Azure (paths with /metadata/instance): 400 without "Metadata: true", or with
    X-Forwarded-For (a request that came through a proxy); 400 without api-version.
  - Oracle (paths with /opc/v2/): 401 without "Authorization: Bearer Oracle".
  - Linode (paths with /v1/, in a scenario that has a v1/ directory): PUT …/v1/token
    needs Metadata-Token-Expiry-Seconds (1-86400) and returns a token; every GET needs
    Metadata-Token with it (401 otherwise). /v1/instance and /v1/ssh-keys answer their
    JSON only to "Accept: application/json", and plain "key: value" lines otherwise.
  - Scaleway (paths with /user_data/): 403 unless asked from a source port below 1024,
    which only root can bind.
  - Exoscale (a scenario whose name starts with "exoscale"): CloudStack's /latest/ paths,
    asked with nothing more.
  - a file holding "!STATUS 500" is answered with that status and no body.
  - a scenario whose name starts with "silent" accepts the connection and never
    answers in time (it gives up after 5 s).
It exits when its standard input closes (the test that started it is gone) or
after 10 minutes, whichever comes first.
"""
import http.server
import json
import os
import secrets
import socket
import sys
import threading
import time

ROOT = os.path.realpath(sys.argv[1])
TOKENS = set()
LINODE_TOKENS = set()


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


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def scenario(self):
        parts = self.path.split("?")[0].lstrip("/").split("/", 1)
        return parts[0], "/" + (parts[1] if len(parts) > 1 else "")

    def file(self, path):
        full = os.path.realpath(os.path.join(ROOT, path.lstrip("/")))
        if not full.startswith(ROOT + os.sep):
            return None
        if os.path.isdir(full):
            full = os.path.join(full, ".listing")
        if not os.path.isfile(full):
            return None
        with open(full, "rb") as f:
            return f.read()

    def do_PUT(self):
        name, rest = self.scenario()
        if name.startswith("silent"):
            time.sleep(5)
            return
        if rest == "/v1/token" and os.path.isdir(os.path.join(ROOT, name, "v1")):
            expiry = self.headers.get("Metadata-Token-Expiry-Seconds", "")
            if not expiry.isdigit() or not 1 <= int(expiry) <= 86400:
                return self.answer(400, b'{"errors": [{"reason": "Invalid Metadata-Token-Expiry-Seconds"}]}')
            token = secrets.token_hex(32)
            LINODE_TOKENS.add(token)
            return self.answer(200, token.encode())
        aws = os.path.isdir(os.path.join(ROOT, name, "latest")) and not name.startswith("exoscale")
        if rest != "/latest/api/token" or not aws:
            return self.answer(404)
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.answer(400, b"missing or invalid X-aws-ec2-metadata-token-ttl-seconds")
        token = secrets.token_hex(16)
        TOKENS.add(token)
        self.answer(200, token.encode())

    def do_GET(self):
        name, rest = self.scenario()
        if name.startswith("silent"):
            time.sleep(5)
            return
        headers = []
        aws = os.path.isdir(os.path.join(ROOT, name, "latest")) and not name.startswith("exoscale")
        if rest.startswith("/latest/") and aws:
            if self.headers.get("X-aws-ec2-metadata-token") not in TOKENS:
                return self.answer(401)
        if rest.startswith("/computeMetadata/"):
            if self.headers.get("Metadata-Flavor") != "Google":
                return self.answer(403, b"Missing Metadata-Flavor:Google header.")
            headers.append(("Metadata-Flavor", "Google"))
        if rest.startswith("/metadata/instance"):
            if self.headers.get("Metadata") != "true" or self.headers.get("X-Forwarded-For"):
                return self.answer(400, b'{"error": "Bad request. Required metadata header not specified"}')
            if "api-version=" not in self.path:
                return self.answer(400, b'{"error": "Bad request. api-version was not specified in the request"}')
        if rest.startswith("/opc/v2/") and self.headers.get("Authorization") != "Bearer Oracle":
            return self.answer(401, b"Unauthorized")
        linode = rest.startswith("/v1/") and os.path.isdir(os.path.join(ROOT, name, "v1"))
        if linode and self.headers.get("Metadata-Token") not in LINODE_TOKENS:
            return self.answer(401, b'{"errors": [{"reason": "Unauthorized"}]}')
        if rest.startswith("/user_data/") and self.client_address[1] >= 1024:
            return self.answer(403, b"user_data is only available from a privileged port")
        body = self.file(self.path.split("?")[0])
        if linode and rest in ("/v1/instance", "/v1/ssh-keys") and body is not None:
            if self.headers.get("Accept") != "application/json":
                body = "\n".join(plain_text(json.loads(body))).encode()
        if body is None:
            return self.answer(404, b"not found", headers)
        if body.startswith(b"!STATUS "):
            return self.answer(int(body.split()[1]), b"", headers)
        self.answer(200, body, headers)


def main():
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    server = Server((host, 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Timer(600, lambda: os._exit(0)).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
