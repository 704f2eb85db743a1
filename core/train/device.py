"""Where training runs: CUDA (bf16 where the GPU supports it) when present, else the CPU with
as many threads as this process may use."""
from __future__ import annotations

import math
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path


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
    """How many of this process's cores other work keeps busy, from two /proc/stat samples
    ``seconds`` apart; the 1-minute load average where /proc/stat is missing."""
    first = _cpu_times()
    if first is None:
        try:
            return os.getloadavg()[0]
        except OSError:  # pragma: no cover - no load average on this platform
            return 0.0
    time.sleep(seconds)
    second = _cpu_times() or first
    busy = total = 0
    for cpu, (b1, t1) in first.items():
        b2, t2 = second.get(cpu, (b1, t1))
        busy, total = busy + b2 - b1, total + t2 - t1
    return len(first) * busy / total if total else 0.0


def _cpu_times() -> dict[int, tuple[int, int]] | None:
    """(busy, total) jiffies per CPU this process may run on."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
        allowed = os.sched_getaffinity(0)
    except (OSError, AttributeError):
        return None
    out = {}
    for line in lines:
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in allowed:
            v = [int(x) for x in values[:8]]
            idle = v[3] + v[4]  # idle + iowait
            out[int(name[3:])] = (sum(v) - idle, sum(v))
    return out or None


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
