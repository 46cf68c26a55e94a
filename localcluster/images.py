"""Images built on this machine and imported into containerd under the names real clusters use.

No registry is reachable here, so each image is a single-layer docker-archive assembled from files that
are already on the machine (the built binaries, busybox-static, Debian's netcat/iptables/nft with their
shared libraries).
"""

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from localcluster import paths, versions
from localcluster.errors import EXIT_BUILD, ClusterError

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
XTABLES_LIBDIR = Path("/usr/lib/x86_64-linux-gnu/xtables")


def _copy_with_libs(binary: str, root: Path) -> None:
    """Copy a dynamically linked binary and the shared libraries ldd names for it."""
    src = Path(shutil.which(binary) or binary).resolve()
    if not src.exists():
        raise ClusterError(f"{binary} is missing (install its Debian package)", EXIT_BUILD)
    files = [src]
    ldd = subprocess.run(["ldd", str(src)], capture_output=True, text=True)
    for line in ldd.stdout.splitlines():
        parts = line.split()
        for p in parts:
            if p.startswith("/"):
                files.append(Path(p))
    for f in files:
        dest = root / f.relative_to("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f.resolve(), dest)


def _busybox(root: Path) -> None:
    (root / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    applets = subprocess.run(["/bin/busybox", "--list-full"], capture_output=True, text=True).stdout.split()
    for applet in applets:
        link = root / applet
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to("/bin/busybox")
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    (root / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")
    (root / "tmp").mkdir(exist_ok=True)
    (root / "tmp").chmod(0o1777)          # mkdir's mode is cut by the umask


def _agnhost(root: Path, bins: Path) -> dict:
    # Upstream agnhost is alpine with busybox and netcat-openbsd: the suite's DNS relay needs sh, base64, nc.
    _busybox(root)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin"):
        (root / d / "nc").unlink(missing_ok=True)   # busybox's nc has no UDP
    _copy_with_libs("nc.openbsd", root)
    (root / "usr/bin/nc").symlink_to("nc.openbsd")
    _copy_with_libs("curl", root)                   # HTTP client of the suite's probes
    for d in ("bin", "usr/bin"):
        (root / d / "wget").unlink(missing_ok=True)  # static busybox wget crashes resolving names
    shutil.copy2(bins / "agnhost", root / "agnhost")
    (root / "uploads").mkdir()
    return {"Entrypoint": ["/agnhost"], "Cmd": ["pause"], "Env": [PATH_ENV]}


def _kube_proxy(root: Path, bins: Path) -> dict:
    # Also the suite's node inspector: it reads iptables (both backends), nftables and IPVS state.
    _busybox(root)
    (root / "usr/local/bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(bins / "kube-proxy", root / "usr/local/bin/kube-proxy")
    for tool in ("xtables-nft-multi", "xtables-legacy-multi", "nft", "conntrack"):
        _copy_with_libs(tool, root)
    # Extensions are loaded at run time (dlopen): ldd of the binaries misses their own libraries
    # (libxt_statistic needs libm), and iptables-save aborts mid-table on the first rule it cannot parse.
    shutil.copytree(XTABLES_LIBDIR, root / XTABLES_LIBDIR.relative_to("/"), symlinks=True, dirs_exist_ok=True)
    for extension in sorted(XTABLES_LIBDIR.glob("*.so")):
        _copy_with_libs(str(extension), root)
    sbin = root / "usr/sbin"
    for backend, multi in (("nft", "xtables-nft-multi"), ("legacy", "xtables-legacy-multi")):
        for cmd in ("iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save",
                    "ip6tables-restore"):
            name = cmd.replace("tables", f"tables-{backend}", 1)
            (sbin / name).unlink(missing_ok=True)
            (sbin / name).symlink_to(multi)
    for cmd in ("iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save",
                "ip6tables-restore"):
        (sbin / cmd).unlink(missing_ok=True)
        (sbin / cmd).symlink_to(cmd.replace("tables", "tables-nft", 1))
    return {"Entrypoint": ["/usr/local/bin/kube-proxy"], "Env": [PATH_ENV]}


def _single_binary(name: str, entry: list[str], user: str = "") -> callable:
    def build(root: Path, bins: Path) -> dict:
        shutil.copy2(bins / name, root / name)
        return {"Entrypoint": entry, "User": user, "Env": [PATH_ENV]}
    return build


BUILDERS = {
    "pause": _single_binary("pause", ["/pause"], "65535:65535"),
    "coredns": _single_binary("coredns", ["/coredns"]),
    "agnhost": _agnhost,
    "kube-proxy": _kube_proxy,
}


def _layer_tar(root: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in sorted(root.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(root)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isreg():
                with path.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    return buf.getvalue()


def docker_archive(name: str, ref: str, bins: Path, out: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "rootfs"
        root.mkdir()
        config = BUILDERS[name](root, bins)
        layer = _layer_tar(root)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    image_config = json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                               "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    config_name = hashlib.sha256(image_config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [ref], "Layers": ["layer.tar"]}]).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w") as tar:
        for arcname, data in (("layer.tar", layer), (config_name, image_config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def ensure_archives(bins: Path) -> list[Path]:
    """Build (once per binary set) the archives of every image the cluster and the suite use."""
    out_dir = paths.CACHE / "images" / bins.name
    archives = []
    for name, ref in versions.IMAGES.items():
        archive = out_dir / f"{name}.tar"
        if not archive.exists():
            docker_archive(name, ref, bins, archive.with_suffix(".partial"))
            archive.with_suffix(".partial").rename(archive)
        archives.append(archive)
    return archives


def import_all(archives: list[Path]) -> None:
    log = paths.log_file("images")
    for archive in archives:
        with log.open("a") as out:
            proc = subprocess.run(["ctr", "--address", str(paths.CONTAINERD_SOCK), "-n", "k8s.io", "images",
                                   "import", str(archive)],
                                  stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise ClusterError(f"importing {archive.name} into containerd failed", EXIT_BUILD, str(log))
