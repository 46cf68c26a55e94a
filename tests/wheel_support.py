"""The project built as a wheel and installed into a fresh virtualenv, as a user would
(`pip install svc_conformance-*.whl`), away from the checkout. Imported as `wheel_support` (tests/conftest.py
puts this directory on sys.path); the fixture `installed_wheel` is in tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Never part of a build, and written by tools rather than the project.
UNBUILT = {".git", ".venv", ".tox", "node_modules", "__pycache__", ".pytest_cache", "build", "dist"}


@dataclass(frozen=True)
class InstalledWheel:
    wheel: Path
    venv: Path

    def command(self, *args: str, cwd: Path, timeout_s: float = 120) -> subprocess.CompletedProcess:
        """`svc-conformance <args>` of the virtualenv, from `cwd`, with nothing of the checkout on the path."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run([str(self.venv / "bin" / "svc-conformance"), *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout_s)


def checkout_files() -> dict[str, int]:
    """Every file of the checkout (bar tool directories) with its mtime: to show a run wrote nothing there."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(REPO_ROOT):
        dirnames[:] = [d for d in dirnames if d not in UNBUILT and not d.endswith(".egg-info")]
        for name in filenames:
            path = Path(dirpath, name)
            found[str(path.relative_to(REPO_ROOT))] = path.stat().st_mtime_ns
    return found


def _run(cmd: list, timeout_s: float) -> None:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout_s)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}" \
                                 f"\n{proc.stderr[-3000:]}"


def build_and_install(root: Path) -> InstalledWheel:
    """The wheel of a copy of the checkout (the build writes build/ and *.egg-info next to its sources),
    installed with its dependencies (from the package index) into a new virtualenv, all below `root`."""
    source = root / "source"
    shutil.copytree(REPO_ROOT, source, ignore=lambda d, names: [
        n for n in names if n in UNBUILT or n.endswith(".egg-info") or Path(d, n) == REPO_ROOT / "reports" / "out"])
    pip = ["-m", "pip", "--disable-pip-version-check", "-q"]
    _run([sys.executable, *pip, "wheel", "--no-deps", "-w", root / "dist", source], timeout_s=600)
    wheel = next((root / "dist").glob("svc_conformance-*.whl"))
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout_s=300)
    _run([venv / "bin" / "python", *pip, "install", wheel], timeout_s=900)
    return InstalledWheel(wheel, venv)
