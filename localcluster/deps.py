"""The Debian packages the local cluster and its images are made of: find the missing ones, install them."""

import shutil
import subprocess

from localcluster import versions
from localcluster.errors import EXIT_PREFLIGHT, ClusterError

_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def missing() -> list[str]:
    """Packages of versions.DEBIAN_PACKAGES that dpkg does not list as installed."""
    if not shutil.which("dpkg-query"):
        return []           # not Debian: preflight names the missing commands instead
    absent = []
    for pkg in versions.DEBIAN_PACKAGES:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
        if "install ok installed" not in proc.stdout:
            absent.append(pkg)
    return absent


def install(packages: list[str] | None = None) -> None:
    packages = list(versions.DEBIAN_PACKAGES) if packages is None else packages
    for cmd in (["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_ENV)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            raise ClusterError(f"{' '.join(cmd[:2])} failed: {' '.join(tail)}", EXIT_PREFLIGHT)


def ensure(say=print) -> None:
    """Install what is missing (as root with apt-get), saying what and why; else leave it to preflight."""
    absent = missing()
    if absent and shutil.which("apt-get"):
        import os
        if os.geteuid() == 0:
            say(f"installing Debian packages the local cluster needs: {' '.join(absent)}")
            install(absent)
