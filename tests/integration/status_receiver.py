"""A status endpoint on loopback for the integration tests: each POST body becomes one line of OUT.

    status_receiver.py OUT PORT_FILE [CERT_DIR]

Listens on 127.0.0.1 on a free port, written to PORT_FILE once it listens; with CERT_DIR it speaks
https with CERT_DIR/good.crt and good.key (tests/integration/certs.sh makes them).
"""
import http.server
import ssl
import sys

out, port_file = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 3:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{sys.argv[3]}/good.crt", f"{sys.argv[3]}/good.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
