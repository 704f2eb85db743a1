"""CPU thread choice: cores idle now, not the 1-minute load average."""
import subprocess
import sys
import time

from core.train.device import busy_cores, cpu_threads, training_threads


def test_busy_cores_sees_a_process_spinning_now():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        assert busy_cores() >= 0.8
        assert 1 <= training_threads() <= max(1, cpu_threads() - 1)  # the spinner keeps one core
    finally:
        spinner.kill()
        spinner.wait()


def test_threads_override_and_bounds(monkeypatch):
    monkeypatch.setenv("TAGTUNE_THREADS", "3")
    assert training_threads() == 3
    monkeypatch.delenv("TAGTUNE_THREADS")
    assert 1 <= training_threads() <= cpu_threads()


def test_inference_is_fp32_on_the_cpu_and_bf16_on_gpus_that_support_it():
    from core.train.device import Device

    cpu = Device("cpu", "cpu", True, 2)
    assert not cpu.inference_bf16 and cpu.describe() == "cpu: cpu (fp32, 2 threads)"
    assert cpu.describe(bf16=True) == "cpu: cpu (bf16, 2 threads)"
    assert Device("cuda", "H100", True, 8).inference_bf16
    assert not Device("cuda", "T4", False, 8).inference_bf16
