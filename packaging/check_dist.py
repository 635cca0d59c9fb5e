"""Prove that the built wheel and sdist hold what an installed ctxchat needs.

    python packaging/check_dist.py dist

Checks the wheel against the source tree: the `ctxchat` package with app/ and engines/
under it, every file of assets/ (model files included, byte for byte in size), the
`ctxchat` console script, and no stray top-level `app`/`engines` modules. Then unpacks the
sdist and builds a wheel from it (no network: --no-build-isolation), which must hold the
same files. Exit 1 with a list of problems if anything is off.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "ctxchat"
# Source folder -> where it lives inside the installed package.
PACKAGE_DIRS = {
    "ctxchat": "ctxchat",
    "app": "ctxchat/app",
    "engines": "ctxchat/engines",
    "assets": "ctxchat/assets",
}
FORBIDDEN_TOP_LEVEL = {"app", "engines", "assets", "tests", "benchmarks", "packaging"}
ENTRY_POINT = "ctxchat.app.cli:main"


def _skipped(path: Path) -> bool:
    return (
        "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"} or path.name.startswith(".")
    )


def expected_files() -> dict[str, int]:
    """Files the wheel must contain, with their sizes: all code, all assets."""
    want: dict[str, int] = {}
    for source, target in PACKAGE_DIRS.items():
        folder = ROOT / source
        patterns = {"assets": ["**/*"], "app": ["**/*.py", "**/*.tcss"]}.get(source, ["**/*.py"])
        for path in sorted(p for pattern in patterns for p in folder.glob(pattern)):
            rel = path.relative_to(folder)
            if path.is_file() and not _skipped(rel):
                want[f"{target}/{rel.as_posix()}"] = path.stat().st_size
    return want


def check_wheel(wheel: Path) -> list[str]:
    problems: list[str] = []
    with zipfile.ZipFile(wheel) as zf:
        sizes = {i.filename: i.file_size for i in zf.infolist() if not i.is_dir()}
        dist_info = next(
            (n.split("/")[0] for n in sizes if n.split("/")[0].endswith(".dist-info")), None
        )
        entry_points = (
            zf.read(f"{dist_info}/entry_points.txt").decode()
            if dist_info and (f"{dist_info}/entry_points.txt" in sizes)
            else ""
        )
    for required in (
        "ctxchat/__init__.py",
        "ctxchat/app/cli.py",
        "ctxchat/engines/__init__.py",
        "ctxchat/assets/__init__.py",
    ):
        if required not in sizes:
            problems.append(f"wheel lacks {required}")
    for name, size in expected_files().items():
        if name not in sizes:
            problems.append(f"wheel lacks {name}")
        elif name.startswith("ctxchat/assets/") and sizes[name] != size:
            problems.append(f"wheel has {name} with {sizes[name]} bytes, source has {size}")
    tops = {n.split("/")[0] for n in sizes if "/" in n} | {
        Path(n).stem for n in sizes if "/" not in n
    }
    for top in sorted(tops & FORBIDDEN_TOP_LEVEL):
        problems.append(f"wheel installs a top-level '{top}' module")
    if dist_info is None:
        problems.append("wheel has no .dist-info folder")
    else:
        parser = configparser.ConfigParser()
        parser.read_string(entry_points)
        script = parser.get("console_scripts", "ctxchat", fallback=None)
        if script != ENTRY_POINT:
            problems.append(f"console script ctxchat -> {script!r}, expected {ENTRY_POINT!r}")
    return problems


def check_sdist(sdist: Path, wheel: Path) -> list[str]:
    """The sdist must carry the sources and build into an equivalent wheel."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(sdist) as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(tmp, filter="data")
            else:  # pragma: no cover - Pythons without PEP 706
                tf.extractall(tmp)
        (unpacked,) = [p for p in Path(tmp).iterdir() if p.is_dir()]
        for required in (
            "pyproject.toml",
            "README.md",
            "app/cli.py",
            "engines/__init__.py",
            "ctxchat/__init__.py",
        ):
            if not (unpacked / required).is_file():
                problems.append(f"sdist lacks {required}")
        out = Path(tmp) / "wheel"
        build = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "-q",
                "-w",
                str(out),
                str(unpacked),
            ],
            capture_output=True,
            text=True,
        )
        if build.returncode != 0:
            tail = (build.stderr or build.stdout).strip().splitlines()[-5:]
            return [*problems, "the sdist does not build: " + " | ".join(tail)]
        (rebuilt,) = out.glob("*.whl")
        with zipfile.ZipFile(rebuilt) as a, zipfile.ZipFile(wheel) as b:
            names_a = {n for n in a.namelist() if ".dist-info/" not in n}
            names_b = {n for n in b.namelist() if ".dist-info/" not in n}
        if names_a != names_b:
            diff = sorted(names_a ^ names_b)[:10]
            problems.append(f"the wheel built from the sdist differs from dist's: {diff}")
    return problems


def main(argv: list[str]) -> int:
    dist = Path(argv[1] if len(argv) > 1 else "dist")
    wheels = sorted(dist.glob(f"{PACKAGE}-*.whl"))
    sdists = sorted(dist.glob(f"{PACKAGE}-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(
            f"check_dist: expected one wheel and one sdist in {dist}, found "
            f"{[p.name for p in wheels + sdists]}",
            file=sys.stderr,
        )
        return 1
    problems = check_wheel(wheels[0]) + check_sdist(sdists[0], wheels[0])
    for problem in problems:
        print(f"check_dist: FAIL {problem}", file=sys.stderr)
    if problems:
        return 1
    assets = sum(1 for name in expected_files() if name.startswith("ctxchat/assets/"))
    print(
        f"check_dist: ok {wheels[0].name} ({len(expected_files())} source files, {assets} "
        f"asset files, console script) and {sdists[0].name} (builds the same wheel)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
