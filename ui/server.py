"""The web server in front of the pages: Streamlit's own (Starlette), plus a Host check.

`streamlit run app.py` finds ``app = st.App(...)`` in app.py and serves it with this
middleware first in the stack, for every HTTP request and websocket handshake.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from core.base import settings

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
REFUSAL = (
    "Refused: this Tagtune server answers only for the host names {allowed}; the request named "
    "{found!r}. To reach it under another name, add that name to TAGTUNE_ALLOWED_HOSTS.\n"
)


def host_name(header: str) -> str:
    """The host part of a Host header, lower-case, without the port: ``[::1]:8501`` -> ``[::1]``."""
    header = header.strip().lower()
    if header.startswith("["):  # IPv6 literal: the port comes after the closing bracket
        end = header.find("]")
        return header[: end + 1] if end > 0 else header
    name, _, port = header.rpartition(":")
    return name if name and port.isdigit() else header


def is_allowed(header: str | None, allowed: Iterable[str]) -> bool:
    allowed = tuple(allowed)
    if "*" in allowed:
        return True
    return header is not None and host_name(header) in allowed


class AllowedHosts:
    """ASGI middleware: a request or websocket handshake whose Host is not allowed gets a 400
    (websockets: the handshake is denied before Streamlit sees it)."""

    def __init__(self, app, allowed: Iterable[str] | None = None) -> None:
        self.app = app
        self.allowed = tuple(allowed) if allowed is not None else settings.allowed_hosts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
        if is_allowed(header, self.allowed):
            await self.app(scope, receive, send)
            return
        body = REFUSAL.format(allowed=", ".join(self.allowed), found=header or "").encode()
        prefix = "websocket." if scope["type"] == "websocket" else ""  # the websocket denial response
        await send({"type": prefix + "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": prefix + "http.response.body", "body": body})


def middleware() -> list:
    from starlette.middleware import Middleware

    return [Middleware(AllowedHosts)]
