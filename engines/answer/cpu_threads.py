"""How many threads llama.cpp should use: one per physical core this process may run on.

Measured (benchmarks/llm_speed_bench.py, benchmarks/README.md): on a 2-core CPU without SMT,
two threads read a prompt about twice as fast as one. The old rule, cpu_count() // 2
(llama-cpp-python's own default), assumes two hardware threads per core and halves the
cores of machines that have none. Physical cores are the right unit: a second thread on
the same core shares its vector units and gains little for llama.cpp's matrix work.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TOPOLOGY = Path("/sys/devices/system/cpu")


def usable_cpus() -> set[int]:
    """The logical CPUs this process may run on (affinity, cgroup cpusets)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return set(range(os.cpu_count() or 1))


def physical_cores(cpus: set[int] | None = None, topology: Path = TOPOLOGY) -> int | None:
    """Distinct (package, core) pairs among `cpus`; None where Linux sysfs does not say."""
    cores = set()
    for cpu in cpus if cpus is not None else usable_cpus():
        base = topology / f"cpu{cpu}" / "topology"
        try:
            core = (base / "core_id").read_text().strip()
            package = (base / "physical_package_id").read_text().strip()
        except OSError:
            return None
        cores.add((package, core))
    return len(cores) or None


def default_threads() -> int:
    """llama.cpp threads: the usable physical cores; half the logical CPUs if unknown."""
    cpus = usable_cpus()
    cores = physical_cores(cpus)
    if cores is None:  # no sysfs: assume two hardware threads per core, as most CPUs have
        cores = len(cpus) // 2
    return max(1, cores)


# Other programs' load, read when an answer starts. With one of two cores busy elsewhere,
# two llama.cpp threads decode at 29 tokens/s and one at 54 (benchmarks/README.md, "Answers
# in seconds"): each step waits for the thread that shares a core with the other program.
STAT = Path("/proc/stat")
SAMPLE_S = 0.05  # five clock ticks a CPU: enough to tell a busy core, short beside an answer


@dataclass(frozen=True)
class CpuTimes:
    """A reading of CPU time: all programs on the usable CPUs, and this process."""

    at: float  # time.monotonic()
    busy: float  # busy seconds of the usable CPUs, every program
    own: float  # this process's CPU seconds, all its threads


def cpu_times(cpus: set[int] | None = None, stat: Path = STAT) -> CpuTimes | None:
    """Read /proc/stat's per-CPU lines for `cpus`; None where there is no /proc (macOS)."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    wanted = {f"cpu{c}" for c in (cpus if cpus is not None else usable_cpus())}
    ticks = 0
    for line in lines:
        name, *fields = line.split()
        if name in wanted and len(fields) >= 8:
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
            ticks += user + nice + system + irq + softirq + steal
    return CpuTimes(time.monotonic(), ticks / os.sysconf("SC_CLK_TCK"), time.process_time())


def others_busy(before: CpuTimes, after: CpuTimes) -> float:
    """How many cores other programs kept busy between two readings."""
    elapsed = after.at - before.at
    if elapsed <= 0:
        return 0.0
    return max(0.0, (after.busy - before.busy - (after.own - before.own)) / elapsed)


def threads_beside(cores: int, busy: float) -> int:
    """One thread per core the other programs leave free (a core busy more than half the
    time counts as taken), at least one."""
    return max(1, cores - int(busy + 0.5))


def free_core_threads(cores: int, window: float = SAMPLE_S, stat: Path = STAT) -> int:
    """Threads for an answer starting now: `cores` less those other programs keep busy,
    read over `window` seconds; `cores` where the load cannot be read."""
    before = cpu_times(stat=stat)
    if before is None:
        return cores
    time.sleep(window)
    after = cpu_times(stat=stat)
    return cores if after is None else threads_beside(cores, others_busy(before, after))
