"""Fetch the Kafka broker jars from Maven Central once, into a cache folder shared by every state folder."""

import fcntl
import re
import shutil
import subprocess
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from headwater.local.errors import LocalStackError
from headwater.local.java import find_maven

# The log4j version kafka_2.13 itself resolves to; the SLF4J binding must match it.
LOG4J_VERSION_FOR_KAFKA = {"4.4.0": "2.25.5"}
_COMPLETE_MARKER = "complete"


def kafka_lib_dir(cache_dir: Path, kafka_version: str) -> Path:
    return cache_dir / f"kafka-{kafka_version}" / "lib"


def ensure_kafka_jars(cache_dir: Path, kafka_version: str, report: Callable[[str], None] = lambda _: None) -> Path:
    """Return the folder holding the broker classpath, fetching it with Maven on first use.

    Concurrent callers (test workers) serialise on a lock file; a fetch that dies half-way leaves no
    `complete` marker and is redone."""
    lib_dir = kafka_lib_dir(cache_dir, kafka_version)
    if (lib_dir.parent / _COMPLETE_MARKER).is_file():
        return lib_dir
    log4j_version = LOG4J_VERSION_FOR_KAFKA.get(kafka_version)
    if log4j_version is None:
        raise LocalStackError(f"Kafka {kafka_version} is not supported; use one of {sorted(LOG4J_VERSION_FOR_KAFKA)}.")
    lib_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(lib_dir.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (lib_dir.parent / _COMPLETE_MARKER).is_file():
            return lib_dir
        report(f"Fetching Kafka {kafka_version} jars from Maven Central (once)")
        _copy_dependencies(lib_dir, kafka_version, log4j_version)
        (lib_dir.parent / _COMPLETE_MARKER).write_text(f"{len(list(lib_dir.glob('*.jar')))} jars\n")
    return lib_dir


def _copy_dependencies(lib_dir: Path, kafka_version: str, log4j_version: str) -> None:
    maven = find_maven()
    work_dir = lib_dir.parent
    pom = (
        files("headwater.local")
        .joinpath("kafka-runtime.xml")
        .read_text()
        .replace("@KAFKA_VERSION@", kafka_version)
        .replace("@LOG4J_VERSION@", log4j_version)
    )
    (work_dir / "pom.xml").write_text(pom)
    staging = work_dir / "lib.partial"
    shutil.rmtree(staging, ignore_errors=True)
    result = subprocess.run(
        [
            str(maven),
            "-B",
            "-q",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ],
        cwd=work_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise LocalStackError(
            f"Fetching the Kafka jars with Maven failed: {_first_maven_error(result.stdout + result.stderr)}. "
            "Check that Maven Central is reachable, then run `headwater local up` again."
        )
    bindings = sorted(path.name for path in staging.glob("log4j-slf4j*-impl-*.jar"))
    if len(bindings) != 1:
        raise LocalStackError(f"Expected exactly one SLF4J binding among the Kafka jars, found {bindings}.")
    shutil.rmtree(lib_dir, ignore_errors=True)
    staging.rename(lib_dir)


def _first_maven_error(output: str) -> str:
    for line in output.splitlines():
        if "[ERROR]" in line:
            return re.sub(r"\x1b\[[0-9;]*m", "", line).replace("[ERROR]", "").strip()
    return output.strip().splitlines()[-1] if output.strip() else "no output"
