"""The browser harness's server itself: a browser that drops a connection must not leave a file open."""

import gc
import socket
import struct
import sys
import threading
import time
from urllib.parse import urlsplit


def reset_after_asking(address, path):
    """Ask for path, then close the connection with a TCP reset, as Chromium does with a request it abandons."""
    with socket.create_connection(address) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: queqiao\r\n\r\n".encode())
        time.sleep(0.005)  # long enough for the server to send the file, and find the reset when it reads on
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def wait_for_request_threads(timeout=5):
    deadline = time.monotonic() + timeout
    while any("process_request" in thread.name for thread in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_static_file_whose_connection_is_reset_is_closed_all_the_same(live_server, monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", lambda failure: unraisable.append(repr(failure.exc_value)))
    parts = urlsplit(live_server)
    for _ in range(10):
        reset_after_asking((parts.hostname, parts.port), "/static/cards/bridge.svg")
    wait_for_request_threads()
    gc.collect()
    assert unraisable == []
