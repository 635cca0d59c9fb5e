"""llama.cpp's thread count: one per usable physical core."""

from __future__ import annotations

from pathlib import Path

from ctxchat.engines.answer.cpu_threads import default_threads, physical_cores, usable_cpus


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
