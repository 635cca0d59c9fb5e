"""How many threads llama.cpp should use: one per physical core this process may run on.

Measured (benchmarks/llm_speed_bench.py, benchmarks/README.md): on a 2-core CPU without SMT,
two threads read a prompt about twice as fast as one. The old rule, cpu_count() // 2
(llama-cpp-python's own default), assumes two hardware threads per core and halves the
cores of machines that have none. Physical cores are the right unit: a second thread on
the same core shares its vector units and gains little for llama.cpp's matrix work.
"""

from __future__ import annotations

import os
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
