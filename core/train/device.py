"""Where training and inference run: CUDA when present, else the CPU with as many threads as
this process may use; ``bf16`` says whether the hardware computes bf16 natively (GPUs that
support it; CPUs with AVX512-BF16 or AMX), which training uses for autocast (TrainConfig's
``precision``) and GPU inference too. CPU inference stays fp32, so its results match an fp32
``transformers.pipeline`` on the exported model."""
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

    def describe(self, bf16: bool | None = None) -> str:
        """``cpu: cpu (fp32, 2 threads)``; ``bf16``: the precision used (default: what inference uses)."""
        precision = "bf16" if (self.inference_bf16 if bf16 is None else bf16) else "fp32"
        extra = f", {self.threads} threads" if self.kind == "cpu" else ""
        return f"{self.kind}: {self.name} ({precision}{extra})"

    @property
    def inference_bf16(self) -> bool:
        """Inference runs under bf16 autocast on GPUs that support it; on the CPU in fp32."""
        return self.kind == "cuda" and self.bf16


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


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matrix products run in hardware (elsewhere they are emulated
    and slower than fp32)."""
    import torch

    checks = (getattr(torch.cpu, "_is_avx512_bf16_supported", None), getattr(torch.cpu, "_is_amx_tile_supported", None))
    return any(bool(check()) for check in checks if check is not None)


def choose_device(prefer_cpu: bool = False) -> Device:
    import torch

    if not prefer_cpu and torch.cuda.is_available():
        return Device("cuda", torch.cuda.get_device_name(0), bool(torch.cuda.is_bf16_supported()), cpu_threads())
    threads = training_threads()
    torch.set_num_threads(threads)
    return Device("cpu", "cpu", cpu_has_native_bf16(), threads)


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
