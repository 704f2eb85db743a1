"""The Host check in front of the pages (ui/server.py) and the repository's Streamlit config."""
from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
import tomllib
from pathlib import Path

import pytest

from ui.server import AllowedHosts, host_name, is_allowed

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


@pytest.mark.parametrize("header, name", [
    ("127.0.0.1:8501", "127.0.0.1"), ("LOCALHOST", "localhost"), ("[::1]:8501", "[::1]"), ("[::1]", "[::1]"),
    ("evil.example:80", "evil.example"), ("evil.example", "evil.example"), ("a:b", "a:b"),
])
def test_host_name_drops_the_port_and_keeps_ipv6_brackets(header, name):
    assert host_name(header) == name


def test_only_the_listed_hosts_are_allowed():
    assert is_allowed("localhost:8501", LOOPBACK) and is_allowed("[::1]:8501", LOOPBACK)
    assert not is_allowed("evil.example:8501", LOOPBACK)
    assert not is_allowed("127.0.0.1.evil.example", LOOPBACK)
    assert not is_allowed(None, LOOPBACK)  # HTTP/1.0 without a Host header
    assert is_allowed("anything", ("*",))


def test_allowed_hosts_come_from_the_environment(monkeypatch):
    from core.base import settings

    monkeypatch.delenv("TAGTUNE_ALLOWED_HOSTS", raising=False)
    assert settings.allowed_hosts() == LOOPBACK
    monkeypatch.setenv("TAGTUNE_ALLOWED_HOSTS", " Tagtune.lan , 127.0.0.1")
    assert settings.allowed_hosts() == ("tagtune.lan", "127.0.0.1")


def _call(scope_type: str, host: str) -> list[dict]:
    """Run the middleware on one request; returns what it sent (empty when it passed it on)."""
    sent, reached = [], []

    async def inner(scope, receive, send):
        reached.append(scope)

    async def send(message):
        sent.append(message)

    async def receive():
        return {}

    scope = {"type": scope_type, "headers": [(b"host", host.encode())], "path": "/"}
    # A thread of its own: Playwright (browser tests in the same session) keeps a loop running here.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, AllowedHosts(inner, LOOPBACK)(scope, receive, send)).result()
    assert bool(reached) != bool(sent)
    return sent


def test_middleware_refuses_http_and_websocket_handshakes_for_other_hosts():
    assert _call("http", "127.0.0.1:8501") == []
    refused = _call("http", "evil.example:8501")
    assert refused[0]["type"] == "http.response.start" and refused[0]["status"] == 400
    assert b"'evil.example:8501'" in refused[1]["body"] and b"TAGTUNE_ALLOWED_HOSTS" in refused[1]["body"]
    denied = _call("websocket", "evil.example")
    assert denied[0]["type"] == "websocket.http.response.start" and denied[0]["status"] == 400
    assert _call("websocket", "localhost:8501") == []


def test_repository_config_serves_loopback_only_quietly_with_the_upload_cap_the_readme_states():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False
    assert server["fileWatcherType"] == "none" and ".venv" in server["folderWatchBlacklist"]
    assert server["enableXsrfProtection"] is True
    assert config["client"]["toolbarMode"] == "minimal"
    stated = re.search(r"files up to (\d+) MB", (ROOT / "README.md").read_text())
    assert stated and int(stated.group(1)) == server["maxUploadSize"]


def test_no_full_garbage_collection_after_every_script_run():
    """Streamlit's default gc.collect(2) after each run held the GIL for 100-150 ms in a server
    that has imported torch, delaying every rerun's messages (the labeller's save confirmation
    went from 375 to 70 ms median without it; bench/ui_latency.py)."""
    import streamlit.config as st_config

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    assert "runner.postScriptGC" in st_config._config_options_template  # still an option Streamlit reads
