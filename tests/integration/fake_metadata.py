#!/usr/bin/env python3
"""A metadata service that answers as AWS (IMDSv2), GCP, DigitalOcean and Scaleway at once, the
way someone who answers 169.254.169.254 (or Scaleway's 169.254.42.42) on a host's network could.
For test_metadata_trust.sh, which runs it inside a private network namespace.

Usage: fake_metadata.py --bind ADDR --port N --user-data FILE --log FILE --ready FILE

Every request is appended to --log as one line, "METHOD PATH FLAVOR" (FLAVOR is the
Metadata-Flavor header, or "-"), before it is answered. --ready is written once listening.
Each service enforces what the real one does (AWS's session token, GCP's header, Scaleway's
source port below 1024 for user-data), so a client that gets the user-data has asked as that
service would.
"""
import argparse
import http.server
import json
import secrets
import threading

TOKENS = set()
LOCK = threading.Lock()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user-data", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--ready", required=True)
    args = p.parse_args()
    user_data = open(args.user_data, "rb").read()
    key = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH13MGrvsr4AXjK0QWPmuhQsIyYojfvUAL97QMfvw8/h eve@attacker\n"
    aws = {"/latest/user-data": user_data, "/latest/meta-data/public-keys/": b"0=eve",
           "/latest/meta-data/public-keys/0/openssh-key": key,
           "/latest/meta-data/local-hostname": b"attacker-aws"}
    gcp = {"/computeMetadata/v1/instance/hostname": b"attacker-gcp",
           "/computeMetadata/v1/instance/attributes/user-data": user_data,
           "/computeMetadata/v1/instance/attributes/ssh-keys": b"eve:" + key}
    do = {"/metadata/v1/id": b"3164444", "/metadata/v1/user-data": user_data,
          "/metadata/v1/public-keys": key, "/metadata/v1/hostname": b"attacker-do"}
    scaleway_conf = json.dumps({"id": "5a33b4ab-57dd-4eb6-8b0a-d95eb63492ce", "hostname": "attacker-scw",
                                "ssh_public_keys": [{"key": key.decode().strip()}]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def record(self):
            with LOCK, open(args.log, "a") as f:
                f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Metadata-Flavor", "-")))

        def answer(self, status, body=b"", headers=()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            self.record()
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
            if self.path != "/latest/api/token" or not ttl.isdigit():
                return self.answer(400)
            token = secrets.token_hex(16)
            TOKENS.add(token)
            self.answer(200, token.encode())

        def do_GET(self):
            self.record()
            if self.path in aws:
                if self.headers.get("X-aws-ec2-metadata-token") not in TOKENS:
                    return self.answer(401)
                return self.answer(200, aws[self.path])
            if self.path.startswith("/computeMetadata/"):
                if self.headers.get("Metadata-Flavor") != "Google":
                    return self.answer(403)
                flavor = [("Metadata-Flavor", "Google")]
                if self.path in gcp:
                    return self.answer(200, gcp[self.path], flavor)
                return self.answer(404, b"", flavor)
            if self.path in do:
                return self.answer(200, do[self.path])
            if self.path == "/conf?format=json":
                return self.answer(200, scaleway_conf)
            if self.path == "/user_data/cloud-init":
                if self.client_address[1] >= 1024:
                    return self.answer(403)
                return self.answer(200, user_data)
            self.answer(404)

    server = http.server.ThreadingHTTPServer((args.bind, args.port), Handler)
    server.daemon_threads = True
    threading.Timer(600, server.shutdown).start()  # never outlives a stuck test by long
    with open(args.ready, "w") as f:
        f.write("ready\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
