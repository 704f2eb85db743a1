"""Loading the causal LM for in-context learning.

A GGUF checkpoint is read once through transformers (``gguf_file=``: the weights are
de-quantised to float32, 15-60 s on a laptop CPU) and saved as a plain safetensors folder under
``TAGTUNE_HOME/cache/lm/`` so every later load takes about a second. Loaded models are kept in a
process-level cache: the worker, the CLI and the Streamlit server each load a model once.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.base import settings

Progress = Callable[[float, str], None]

_LOADED: dict[str, LoadedLM] = {}
_LOCK = threading.Lock()


@dataclass
class LoadedLM:
    model: object  # a transformers *ForCausalLM in eval mode
    tokenizer: object
    name: str  # what the config asked for ("" = packaged default), resolved for display
    source: str  # "gguf" (converted now), "cache" (converted earlier), "hub-or-dir"
    seconds: float  # how long this load took
    params: int

    @property
    def device(self) -> str:
        return str(next(self.model.parameters()).device)

    @property
    def chat(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))


@dataclass(frozen=True)
class LmSource:
    """Where the weights come from: a .gguf file, or an HF id / local folder."""

    ref: str
    gguf: Path | None = None


def resolve(lm: str) -> LmSource:
    """``""`` -> the packaged GGUF; ``*.gguf`` or a folder holding only a .gguf -> GGUF; else HF id/dir."""
    if not lm:
        path = settings.default_lm_gguf()
        return LmSource(str(path), path)
    path = Path(lm).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"expected a GGUF file at {path}, found none; check --lm")
        return LmSource(str(path), path)
    if path.is_dir() and not (path / "config.json").exists():
        ggufs = sorted(path.glob("*.gguf"))
        if not ggufs:
            raise FileNotFoundError(
                f"expected a model folder with config.json or a .gguf file in {path}, found neither; check --lm"
            )
        return LmSource(str(ggufs[0]), ggufs[0])
    return LmSource(str(path) if path.exists() else lm)


def cache_folder(gguf: Path) -> Path:
    """Safetensors copy of a GGUF file, keyed by its path, size and mtime (a new file -> a new copy)."""
    stat = gguf.stat()
    key = hashlib.sha1(f"{gguf.resolve()}|{stat.st_size}|{int(stat.st_mtime)}".encode()).hexdigest()[:12]
    return settings.cache_dir() / "lm" / f"{gguf.stem}-{key}"


def load_lm(lm: str = "", progress: Progress | None = None) -> LoadedLM:
    """The model and tokenizer for ``lm`` (see resolve), loaded once per process."""
    report = progress or (lambda fraction, message: None)
    source = resolve(lm)
    with _LOCK:
        key = f"{settings.home()}|{source.ref}"
        if key in _LOADED:
            report(1.0, "model already loaded")
            return _LOADED[key]
        start = time.perf_counter()
        if source.gguf is not None:
            folder = cache_folder(source.gguf)
            if not (folder / "config.json").exists():
                _convert_gguf(source.gguf, folder, report)
                kind = "gguf"
            else:
                kind = "cache"
            model, tokenizer = _load_folder(str(folder), report)
        else:
            kind = "hub-or-dir"
            model, tokenizer = _load_folder(source.ref, report)
        loaded = LoadedLM(
            model=model,
            tokenizer=tokenizer,
            name=source.ref,
            source=kind,
            seconds=time.perf_counter() - start,
            params=sum(p.numel() for p in model.parameters()),
        )
        _LOADED[key] = loaded
        report(1.0, f"model ready ({loaded.seconds:.1f} s, {kind})")
        return loaded


def forget_loaded() -> None:
    """Drop the process cache (tests; or to free memory)."""
    with _LOCK:
        _LOADED.clear()


def _load_folder(ref: str, report: Progress):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report(0.85, f"loading {ref}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(ref)
        model = AutoModelForCausalLM.from_pretrained(ref)
    except OSError as exc:
        raise FileNotFoundError(
            f"could not load a causal LM from {ref!r} ({str(exc).splitlines()[0]}); expected a Hugging Face "
            "model id available offline, a local model folder or a .gguf file"
        ) from exc
    _prepare(model, tokenizer)
    return model, tokenizer


def _prepare(model, tokenizer) -> None:
    import torch

    if torch.cuda.is_available() and os.environ.get("TAGTUNE_ICL_DEVICE", "auto") != "cpu":
        model.to("cuda")
    model.eval()
    if tokenizer.pad_token is None:
        # Padding positions are masked out, so any token will do; EOS is the usual choice.
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    model.generation_config.pad_token_id = tokenizer.pad_token_id


def _convert_gguf(gguf: Path, folder: Path, report: Progress) -> None:
    """De-quantise the GGUF once and save model + tokenizer as safetensors, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report(0.05, f"reading the tokenizer from {gguf.name}")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    report(0.2, f"de-quantising {gguf.name} to float32 (once; 15-60 s)")
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights are plain float32 tensors now; transformers still marks the model as GGUF-quantised
    # and refuses to save it, so drop the marker (and its config entry) before saving.
    if getattr(getattr(model, "hf_quantizer", None), "packed_modules", None):
        raise RuntimeError(
            f"{gguf.name} loaded with packed GGUF layers, which cannot be saved as safetensors; "
            "uninstall the `kernels` package so transformers de-quantises it, or pass --lm a model folder"
        )
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    report(0.7, "saving a safetensors copy for fast later loads")
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    try:
        tmp.rename(folder)
    except OSError:
        # Another process finished the same conversion first; its copy is as good as ours.
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / "config.json").exists():
            raise
