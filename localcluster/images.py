"""Images built on this machine and imported into containerd under the names real clusters use.

No registry is reachable here, so each image is a single-layer docker-archive assembled from files that
are already on the machine (the built binaries, Debian's programs with their shared libraries). What
goes into each image is data: localcluster/image_contents.yaml lists, per image, the upstream definition
it follows and exactly the executables it carries, so a local image is never friendlier than the
upstream one (e.g. the kube-proxy image is distroless-iptables: dash, iptables, nft, ipset, kmod and the
few tools iptables-wrapper needs, no busybox).
"""

import functools
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import yaml

from localcluster import paths, versions
from localcluster.errors import EXIT_BUILD, ClusterError

CONTENTS_FILE = Path(__file__).with_name("image_contents.yaml")
TEMPLATES = Path(__file__).parent / "templates"


# --- the data ---------------------------------------------------------------------------------------

@functools.cache
def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def contents(path: Path | None = None) -> dict:
    """The parsed image_contents.yaml."""
    return _load(path or CONTENTS_FILE)


def parse_entry(entry: str) -> tuple[str, str | None]:
    """"PATH" -> (PATH, None); "PATH -> TARGET" -> (PATH, TARGET)."""
    path, sep, target = entry.partition(" -> ")
    return path.strip(), (target.strip() if sep else None)


def path_env(doc: dict | None = None) -> str:
    return "PATH=" + ":".join((doc or contents())["path"])


def contents_key(path: Path | None = None) -> str:
    """Cache key of the archives: the data file, this builder and the templates the data refers to."""
    data = (path or CONTENTS_FILE).read_bytes()
    h = hashlib.sha256(data)
    h.update(Path(__file__).read_bytes())
    for image in yaml.safe_load(data)["images"].values():
        for source in sorted((image.get("sources") or {}).values()):
            if source.startswith("template:"):
                h.update((TEMPLATES / source[len("template:"):]).read_bytes())
    return h.hexdigest()[:12]


def archive_dir(bins: Path) -> Path:
    return paths.CACHE / "images" / bins.name / contents_key()


# --- building a root file system from the data ------------------------------------------------------

def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def _copy_libs(binary: Path, root: Path) -> None:
    """Copy the shared libraries ldd names for a binary (a static binary or a script has none)."""
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    for line in ldd.stdout.splitlines():
        for part in line.split():
            if part.startswith("/"):
                dest = root / part.lstrip("/")
                if not dest.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(Path(part).resolve(), dest)


def _source(path: str, spec: dict, bins: Path, packages: list[str]) -> Path:
    source = (spec.get("sources") or {}).get(path, "host:" + path)
    kind, _, ref = source.partition(":")
    src = {"host": Path(ref), "built": bins / ref, "template": TEMPLATES / ref}[kind]
    if not src.exists():
        hint = ("run `python -m localcluster install-deps` (Debian packages: " + ", ".join(packages) + ")"
                if kind == "host" else "rebuild the binaries")
        raise ClusterError(f"{src} is missing for {path} of the image ({hint})", EXIT_BUILD)
    return src.resolve()


def build_rootfs(name: str, root: Path, bins: Path, doc: dict | None = None) -> dict:
    """Assemble image `name` into the empty directory root; return its image config."""
    doc = doc or contents()
    spec = doc["images"][name]
    packages = spec.get("debian_packages") or []
    for directory, mode in (spec.get("dirs") or {}).items():
        d = root / directory.lstrip("/")
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(int(mode, 8))                  # mkdir's mode is cut by the umask
    for entry in spec["executables"] + (spec.get("outside_path") or []):
        path, target = parse_entry(entry)
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if target is not None:
            dest.symlink_to(target)
            continue
        src = _source(path, spec, bins, packages)
        shutil.copyfile(src, dest)
        dest.chmod(0o755)
        if _is_elf(src):
            _copy_libs(src, root)
    # Loaded at run time (dlopen): ldd of the binaries misses them and their own libraries (libxt_statistic
    # needs libm), and iptables-save aborts mid-table on the first rule it cannot parse.
    for lib in spec.get("libraries") or []:
        src, dest = Path(lib), root / lib.lstrip("/")
        if src.is_dir():
            shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
            files = sorted(p for p in src.rglob("*") if p.is_file() and not p.is_symlink())
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            files = [src]
        for f in files:
            if _is_elf(f):
                _copy_libs(f, root)
    for f in spec.get("files") or []:
        dest = root / f.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_source(f, {}, bins, packages), dest)
        dest.chmod(0o644)
    for f, text in (spec.get("write") or {}).items():
        dest = root / f.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
        dest.chmod(0o644)
    cfg = spec.get("config") or {}
    config = {"Env": [path_env(doc)]}
    for key, field in (("entrypoint", "Entrypoint"), ("cmd", "Cmd"), ("user", "User"),
                       ("workdir", "WorkingDir")):
        if cfg.get(key) is not None:
            config[field] = cfg[key]
    return config


# --- docker archives --------------------------------------------------------------------------------

def _layer_tar(root: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(root)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0                      # same contents, same layer
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
        old_umask = os.umask(0o022)
        try:
            config = build_rootfs(name, root, bins)
        finally:
            os.umask(old_umask)
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


def _archive(spec_name: str, ref: str, bins: Path, archive: Path) -> Path:
    if not archive.exists():
        partial = archive.with_suffix(f".partial-{os.getpid()}")
        try:
            docker_archive(spec_name, ref, bins, partial)
            partial.rename(archive)
        finally:
            partial.unlink(missing_ok=True)
    return archive


def ensure_archives(bins: Path, suite_agnhost_bins: Path | None = None) -> list[Path]:
    """Build (once per binary set and contents definition) the archives of every image of the release;
    with suite_agnhost_bins, also the suite's agnhost (versions.suite_agnhost_image) built from them."""
    out_dir = archive_dir(bins)
    archives = [_archive(name, ref, bins, out_dir / f"{name}.tar") for name, ref in versions.IMAGES.items()]
    suite_agnhost = versions.suite_agnhost_image()
    if suite_agnhost and suite_agnhost_bins:
        archives.append(_archive("agnhost", suite_agnhost, suite_agnhost_bins,
                                 archive_dir(suite_agnhost_bins) / "agnhost.tar"))
    return archives


def ensure_optional_archive(name: str, bins: Path) -> Path:
    """The archive of an image only some clusters run (versions.OPTIONAL_IMAGES), from its own binaries."""
    return _archive(name, versions.OPTIONAL_IMAGES[name], bins, archive_dir(bins) / f"{name}.tar")


def import_all(archives: list[Path], socket: Path | None = None, log_name: str = "images") -> None:
    """Import every image archive into one containerd (each node has its own image store)."""
    log = paths.log_file(log_name)
    for archive in archives:
        with log.open("a") as out:
            proc = subprocess.run(["ctr", "--address", str(socket or paths.CONTAINERD_SOCK), "-n", "k8s.io", "images",
                                   "import", str(archive)],
                                  stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise ClusterError(f"importing {archive.name} into containerd ({log_name}) failed", EXIT_BUILD, str(log))
