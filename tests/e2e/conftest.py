"""Browser tests: a real `streamlit run app.py` on a free port against a temp home, driven
by Playwright (from PyPI) in Debian's /usr/bin/chromium.

Skipped when chromium is absent, unless TAGTUNE_REQUIRE_BROWSER=1 (set by .ci/run), where
a missing browser fails the suite instead of hiding it.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("TAGTUNE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"expected Debian chromium at {CHROMIUM}, found none; `apt-get install chromium`")
        pytest.skip("Debian chromium is not installed (`apt-get install chromium`)")


class App:
    """A running Tagtune server with its own home; ``url(path, **query)`` builds links."""

    def __init__(self, home: Path, port: int, proc: subprocess.Popen, log: Path):
        self.home, self.port, self.proc, self.log = home, port, proc, log
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str = "", **query) -> str:
        from urllib.parse import urlencode

        return f"{self.base}/{path.lstrip('/')}" + (f"?{urlencode(query)}" if query else "")

    def sessions(self):
        from db.engine import session_factory

        return session_factory(f"sqlite:///{self.home / 'tagtune.db'}")


def start_app(home: Path, extra_env: dict | None = None) -> App:
    port = _free_port()
    log = home / "streamlit.log"
    env = {
        **os.environ, "TAGTUNE_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1", **(extra_env or {}),
    }
    env.pop("TAGTUNE_DB_URL", None)
    proc = subprocess.Popen(
        # Only the port on the command line: address, usage statistics, file watching, XSRF and
        # the Host check come from the repository's .streamlit/config.toml and app.py, as in `make run`.
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return App(home, port, proc, log)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not become healthy in 90 s:\n{log.read_text()}")


def stop_app(app: App) -> None:
    import signal

    try:
        os.killpg(app.proc.pid, signal.SIGTERM)
        app.proc.wait(timeout=15)
    except Exception:
        os.killpg(app.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def app_home(tmp_path) -> Path:
    home = tmp_path / "apphome"
    home.mkdir()
    return home


@pytest.fixture
def app(app_home):
    """A fresh server per test. Seed the database through ``app.sessions()`` before loading pages
    (the demo seeding is skipped with TAGTUNE_NO_DEMO=1 so tests start empty)."""
    _require_chromium()
    server = start_app(app_home, {"TAGTUNE_NO_DEMO": "1"})
    yield server
    stop_app(server)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def wait_for_app(page) -> None:
    """Wait until Streamlit finished running the script: connected, a run done (the app's
    ``data-test-script-state`` is ``initial`` until the first run starts) and no status widget."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        """() => {
          const app = document.querySelector('[data-testid="stApp"]');
          const state = app && app.getAttribute('data-test-script-state');
          return (state === 'notRunning' || state === 'compilationError')
            && !document.querySelector('[data-testid="stStatusWidget"]');
        }""",
        timeout=60_000,
    )
