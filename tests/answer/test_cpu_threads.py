"""llama.cpp's thread count: one per usable physical core."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ctxchat.engines.answer.cpu_threads import (
    CpuTimes,
    cpu_times,
    default_threads,
    free_core_threads,
    others_busy,
    physical_cores,
    threads_beside,
    usable_cpus,
)


def fake_topology(root: Path, cores: list[tuple[int, int]]) -> Path:
    """cpuN/topology/{physical_package_id,core_id} for each (package, core) of cpu N."""
    for cpu, (package, core) in enumerate(cores):
        base = root / f"cpu{cpu}" / "topology"
        base.mkdir(parents=True)
        (base / "physical_package_id").write_text(f"{package}\n")
        (base / "core_id").write_text(f"{core}\n")
    return root


def test_hyperthreads_count_once_and_plain_cores_each(tmp_path: Path) -> None:
    smt = fake_topology(tmp_path / "smt", [(0, 0), (0, 1), (0, 0), (0, 1)])
    assert physical_cores({0, 1, 2, 3}, smt) == 2
    assert physical_cores({0, 2}, smt) == 1  # affinity to one core's two threads
    plain = fake_topology(tmp_path / "plain", [(0, 0), (0, 1)])
    assert physical_cores({0, 1}, plain) == 2  # the old cpu_count() // 2 said 1
    two_sockets = fake_topology(tmp_path / "two", [(0, 0), (1, 0)])
    assert physical_cores({0, 1}, two_sockets) == 2
    assert physical_cores({0, 1}, tmp_path / "missing") is None


def test_default_threads_fit_this_machine() -> None:
    cores = physical_cores()
    expected = cores if cores is not None else max(1, len(usable_cpus()) // 2)
    assert default_threads() == max(1, expected)
    assert 1 <= default_threads() <= len(usable_cpus())


def test_cpu_time_is_read_for_the_usable_cpus_only(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    tick = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    stat.write_text(
        "cpu  900 0 300 9000 50 0 0 0 0 0\n"
        f"cpu0 {tick} 0 {tick} 4000 10 0 0 0 0 0\n"
        f"cpu1 {3 * tick} 0 0 4000 40 0 {tick} 0 0 0\n"
        "intr 12345\n"
    )
    assert cpu_times({0}, stat).busy == 2.0
    assert cpu_times({0, 1}, stat).busy == 6.0
    assert cpu_times({0}, tmp_path / "missing") is None


def test_other_programs_busy_cores_leave_fewer_threads() -> None:
    before = CpuTimes(at=10.0, busy=100.0, own=5.0)
    # in 2 s the CPUs worked 3.2 s, 1.2 s of it this process's own: 1 core busy elsewhere
    after = CpuTimes(at=12.0, busy=103.2, own=6.2)
    assert others_busy(before, after) == pytest.approx(1.0)
    assert threads_beside(2, others_busy(before, after)) == 1
    assert threads_beside(4, 1.0) == 3
    assert threads_beside(4, 0.4) == 4  # a light load (a browser tab) takes no thread
    assert threads_beside(2, 3.0) == 1  # never none
    assert others_busy(after, after) == 0.0
    assert free_core_threads(2, stat=Path("/nonexistent/stat")) == 2  # no /proc: all cores


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads Linux's /proc/stat")
def test_a_busy_program_beside_the_answer_takes_a_thread_away() -> None:
    cores = default_threads()
    if cores < 2:
        pytest.skip("one core: nothing to give up")
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        assert free_core_threads(cores, window=0.5) <= cores - 1
    finally:
        loop.kill()
        loop.wait()
