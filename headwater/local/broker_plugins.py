"""Compile the broker's own Java classes (`broker_plugins/*.java`) against the Kafka jars, once per
source and Kafka version, into a cache folder shared by every state folder.

`HeadwaterPrincipalBuilder` reads identities from certificate subjects with the hub's rule and
`HeadwaterAuthorizer` refuses revoked, expired and unidentified certificates on every request; both
are on the broker's classpath (`headwater/local/broker.py`).
"""

import fcntl
import hashlib
import shutil
import subprocess
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from headwater.local.errors import LocalStackError
from headwater.local.java import MINIMUM_JAVA_MAJOR, find_javac

PRINCIPAL_BUILDER_CLASS = "headwater.broker.HeadwaterPrincipalBuilder"
AUTHORIZER_CLASS = "headwater.broker.HeadwaterAuthorizer"
_COMPLETE_MARKER = "complete"


def _sources() -> list[Traversable]:
    folder = files("headwater.local").joinpath("broker_plugins")
    return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".java")), key=lambda e: e.name)


def _cache_key(sources: list[Traversable], kafka_version: str) -> str:
    """Changes with any source, the Kafka version compiled against, or the target release."""
    digest = hashlib.sha256(f"kafka {kafka_version} release {MINIMUM_JAVA_MAJOR}\n".encode())
    for source in sources:
        digest.update(f"{source.name}\n".encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def ensure_broker_plugins(cache_dir: Path, kafka_version: str, lib_dir: Path) -> Path:
    """Return the folder of compiled plugin classes (a classpath entry), compiling on first use.

    Concurrent callers (test workers) serialise on a lock file; a compile that dies half-way leaves
    no `complete` marker and is redone."""
    sources = _sources()
    build_dir = cache_dir / "broker-plugins" / f"kafka-{kafka_version}-{_cache_key(sources, kafka_version)}"
    classes_dir = build_dir / "classes"
    if (build_dir / _COMPLETE_MARKER).is_file():
        return classes_dir
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (build_dir / _COMPLETE_MARKER).is_file():
            _compile(sources, lib_dir, build_dir, classes_dir)
            (build_dir / _COMPLETE_MARKER).write_text(f"{len(sources)} sources\n")
    return classes_dir


def _compile(sources: list[Traversable], lib_dir: Path, build_dir: Path, classes_dir: Path) -> None:
    javac = find_javac()
    # Copied out of the package: an installed wheel's sources need not be plain files on disk.
    source_dir, staging = build_dir / "src", build_dir / "classes.partial"
    for folder in (source_dir, staging):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    source_files = [source_dir / source.name for source in sources]
    for source, path in zip(sources, source_files, strict=True):
        path.write_bytes(source.read_bytes())
    result = subprocess.run(
        [str(javac), "--release", str(MINIMUM_JAVA_MAJOR), "-cp", f"{lib_dir}/*", "-d", str(staging)]
        + [str(path) for path in source_files],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise LocalStackError(f"Compiling the broker plugins against {lib_dir} failed: {result.stderr.strip()[:2000]}")
    shutil.rmtree(classes_dir, ignore_errors=True)
    staging.rename(classes_dir)
