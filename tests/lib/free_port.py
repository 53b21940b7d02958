#!/usr/bin/env python3
"""free_port.py: prints a TCP port on 127.0.0.1 that was free a moment ago.

The socket is closed again before this exits, so nothing listens there: a connection to the port is
refused (what the tests that use it want), unless another process takes the port in between.
"""
import socket

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
