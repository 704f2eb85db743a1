"""Where training runs: CUDA (bf16 where the GPU supports it) when present, else the CPU with
as many threads as this process may use."""
from __future__ import annotations

import math
import os
import resource
from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    kind: str  # "cuda" | "cpu"
    name: str
    bf16: bool
    threads: int

    def describe(self) -> str:
        precision = "bf16" if self.bf16 else "fp32"
        extra = f", {self.threads} threads" if self.kind == "cpu" else ""
        return f"{self.kind}: {self.name} ({precision}{extra})"


def cpu_threads() -> int:
    """Cores this process may run on (cgroup/affinity aware), not the host's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def training_threads() -> int:
    """Threads for CPU training: the cores this process may use that are idle right now, at least 1.

    OpenMP threads that share a core with other busy processes wait on each other at every
    barrier: on a 2-core machine with load 7, two threads ran a MiniLM step 3-4x slower than one.
    Busy-ness is sampled now (``busy_cores``), not taken from the 1-minute load average, which
    still counts a run that finished seconds ago and would starve the next one.
    ``TAGTUNE_THREADS`` overrides.
    """
    override = os.environ.get("TAGTUNE_THREADS")
    if override:
        return max(1, int(override))
    cores = cpu_threads()
    return max(1, min(cores, math.floor(cores - busy_cores() + 0.5)))


def busy_cores(seconds: float = 0.2) -> float:
    """How many of this process's cores other work keeps busy, from psutil's per-CPU
    utilisation over ``seconds`` (the cores in this process's affinity only)."""
    import psutil

    per_cpu = psutil.cpu_percent(interval=seconds, percpu=True)  # % busy per logical CPU
    allowed = _allowed_cpus(len(per_cpu))
    return sum(per_cpu[i] for i in allowed) / 100.0


def _allowed_cpus(n: int) -> list[int]:
    try:
        return sorted(i for i in os.sched_getaffinity(0) if i < n)
    except AttributeError:  # pragma: no cover - not Linux
        return list(range(n))


def choose_device(prefer_cpu: bool = False) -> Device:
    import torch

    if not prefer_cpu and torch.cuda.is_available():
        return Device("cuda", torch.cuda.get_device_name(0), bool(torch.cuda.is_bf16_supported()), cpu_threads())
    threads = training_threads()
    torch.set_num_threads(threads)
    return Device("cpu", "cpu", False, threads)


def reset_peak_memory(device: Device) -> None:
    import torch

    if device.kind == "cuda":
        torch.cuda.reset_peak_memory_stats()


def peak_memory_mb(device: Device) -> float:
    """Peak accelerator memory on CUDA; peak resident set size of this process on CPU."""
    import torch

    if device.kind == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
