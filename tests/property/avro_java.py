"""Apache Avro's Java `SchemaCompatibility` as an oracle: build the harness once, then ask it about many pairs.

The jars come from Maven Central into `~/.cache/headwater/avro-java-<version>/`, shared by every checkout
and every pytest-xdist worker; an fcntl lock serialises the workers while one of them builds.
"""

import fcntl
import hashlib
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from headwater.local.java import find_java, find_maven

AVRO_VERSION = "1.12.2"
HARNESS_CLASS = "AvroCompatibilityHarness"
HARNESS_SOURCE_DIR = Path(__file__).parent / "java"
CACHE_DIR = Path.home() / ".cache" / "headwater" / f"avro-java-{AVRO_VERSION}"
# A thousand pairs take a few seconds; the bound only stops a hung JVM from hanging the test run.
HARNESS_TIMEOUT_S = 600


class AvroJavaHarnessError(Exception):
    """Building or running the Java harness failed; the message carries the tool's own output."""


class ReaderWriterPair(Protocol):
    """What the harness needs of a pair: an id to answer under and both schemas as JSON text."""

    @property
    def id(self) -> str: ...

    @property
    def reader(self) -> str: ...

    @property
    def writer(self) -> str: ...


@dataclass(frozen=True)
class JavaVerdict:
    """Java's answer for one pair: `error` is set (and `compatible` is None) when Java refused a schema."""

    compatible: bool | None
    messages: tuple[str, ...]
    error: str | None


def ensure_harness(cache_dir: Path = CACHE_DIR) -> Path:
    """Return the cache folder holding `lib/` and `classes/`, fetching and compiling what is out of date."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pom = HARNESS_SOURCE_DIR / "pom.xml"
        source = HARNESS_SOURCE_DIR / f"{HARNESS_CLASS}.java"
        # Stamps hold the sha256 of their input, so an edited pom or harness is rebuilt and an
        # interrupted build (no stamp written yet) is redone by the next caller.
        if not _stamp_matches(cache_dir / "lib.sha256", pom):
            _fetch_jars(cache_dir, pom)
        if not _stamp_matches(cache_dir / "classes.sha256", source):
            _compile_harness(cache_dir, source)
    return cache_dir


def java_verdicts(pairs: Iterable[ReaderWriterPair], cache_dir: Path = CACHE_DIR) -> dict[str, JavaVerdict]:
    """Check every pair in one JVM (one start-up instead of one per pair) and key the answers by pair id."""
    ensure_harness(cache_dir)
    requests = [json.dumps({"id": pair.id, "reader": pair.reader, "writer": pair.writer}) for pair in pairs]
    result = _run(
        [str(find_java()), "-cp", f"{cache_dir / 'lib'}/*:{cache_dir / 'classes'}", HARNESS_CLASS],
        stdin="\n".join(requests) + "\n",
        what="Running the Avro compatibility harness",
    )
    answers = [json.loads(line) for line in result.splitlines() if line.strip()]
    if len(answers) != len(requests):
        raise AvroJavaHarnessError(f"The harness answered {len(answers)} of {len(requests)} pairs.")
    return {str(answer["id"]): _verdict(answer) for answer in answers}


def _verdict(answer: dict[str, object]) -> JavaVerdict:
    error = answer.get("error")
    if error is not None:
        return JavaVerdict(compatible=None, messages=(), error=str(error))
    messages = answer.get("messages")
    assert isinstance(messages, list)
    return JavaVerdict(compatible=bool(answer["compatible"]), messages=tuple(map(str, messages)), error=None)


def _stamp_matches(stamp: Path, source: Path) -> bool:
    return stamp.is_file() and stamp.read_text() == _sha256(source)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fetch_jars(cache_dir: Path, pom: Path) -> None:
    lib_dir = cache_dir / "lib"
    # Copying over an older lib/ would leave stale jars of other versions on the classpath.
    for jar in lib_dir.glob("*.jar"):
        jar.unlink()
    _run(
        [
            str(find_maven()),
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={lib_dir}",
            "-DincludeScope=runtime",
        ],
        stdin=None,
        what=f"Fetching org.apache.avro:avro:{AVRO_VERSION} from Maven Central",
    )
    (cache_dir / "lib.sha256").write_text(_sha256(pom))


def _compile_harness(cache_dir: Path, source: Path) -> None:
    # javac sits next to the java that runs the harness, so both come from the same JDK.
    javac = find_java().parent / "javac"
    if not javac.is_file():
        raise AvroJavaHarnessError(
            f"No javac next to {find_java()}; install a JDK: `apt-get install -y openjdk-17-jdk-headless`."
        )
    _run(
        [str(javac), "-cp", f"{cache_dir / 'lib'}/*", "-d", str(cache_dir / "classes"), str(source)],
        stdin=None,
        what=f"Compiling {source.name}",
    )
    (cache_dir / "classes.sha256").write_text(_sha256(source))


def _run(command: list[str], stdin: str | None, what: str) -> str:
    try:
        result = subprocess.run(
            command, input=stdin, capture_output=True, text=True, check=False, timeout=HARNESS_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise AvroJavaHarnessError(f"{what} took longer than {HARNESS_TIMEOUT_S} s.") from exc
    if result.returncode != 0:
        raise AvroJavaHarnessError(f"{what} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout
