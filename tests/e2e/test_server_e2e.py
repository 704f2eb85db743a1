"""The running server as `make run` starts it: loopback only, Host names checked on every
request and websocket handshake (DNS rebinding), no Deploy button."""
from __future__ import annotations

import base64
import os
import socket

import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def _request(port: int, host: str, websocket: bool = False) -> str:
    """The status line the server answers to a GET / (or a websocket handshake) naming ``host``."""
    lines = [f"GET {'/_stcore/stream' if websocket else '/'} HTTP/1.1", f"Host: {host}", "Connection: close"]
    if websocket:
        key = base64.b64encode(os.urandom(16)).decode()
        lines[-1] = "Connection: Upgrade"
        lines += ["Upgrade: websocket", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
                  f"Origin: http://{host}"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = sock.recv(65536)
        while not websocket and (chunk := sock.recv(65536)):  # the body may come in later packets
            answer += chunk
    return answer.decode("latin-1")


def test_requests_naming_another_host_are_refused(app):
    port = app.port
    assert _request(port, f"127.0.0.1:{port}").startswith("HTTP/1.1 200")
    assert _request(port, f"localhost:{port}").startswith("HTTP/1.1 200")
    assert _request(port, f"[::1]:{port}").startswith("HTTP/1.1 200")
    refused = _request(port, f"evil.example:{port}")
    assert refused.startswith("HTTP/1.1 400") and "TAGTUNE_ALLOWED_HOSTS" in refused
    assert _request(port, f"127.0.0.1:{port}", websocket=True).startswith("HTTP/1.1 101")
    assert _request(port, f"evil.example:{port}", websocket=True).startswith("HTTP/1.1 400")


def test_listens_on_loopback_only(app):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outward interface
            outward = probe.getsockname()[0]
        except OSError:
            pytest.skip("this machine has no non-loopback interface")
    if outward.startswith("127."):
        pytest.skip("this machine has no non-loopback interface")
    with pytest.raises(OSError):
        socket.create_connection((outward, app.port), timeout=5).close()


def test_no_deploy_button(app, page):
    page.goto(app.url())
    wait_for_app(page)
    page.get_by_text("Tagtune", exact=True).first.wait_for()
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    assert page.get_by_text("Deploy", exact=True).count() == 0
