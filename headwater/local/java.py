"""Find the Java and Maven executables the broker needs, with actionable errors when they are missing."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from headwater.local.errors import LocalStackError

MINIMUM_JAVA_MAJOR = 17
_VERSION_PATTERN = re.compile(r'version "(\d+)(?:\.(\d+))?')
_JAVAC_VERSION_PATTERN = re.compile(r"javac (\d+)(?:\.(\d+))?")


def find_java() -> Path:
    found = _from_java_home_or_path("java")
    if found is None:
        raise LocalStackError(
            f"Java {MINIMUM_JAVA_MAJOR}+ was not found (no JAVA_HOME, no `java` on PATH); "
            "install it with `apt-get install -y openjdk-17-jre-headless`."
        )
    output = subprocess.run([found, "-version"], capture_output=True, text=True, check=False).stderr
    major = _major_version(_VERSION_PATTERN.search(output))
    if major < MINIMUM_JAVA_MAJOR:
        raise LocalStackError(
            f"{found} is Java {major or 'of unknown version'}; Kafka 4 needs Java {MINIMUM_JAVA_MAJOR}+. "
            "Install it with `apt-get install -y openjdk-17-jre-headless` or set JAVA_HOME."
        )
    return Path(found)


def find_javac() -> Path:
    """The JDK's compiler, for the broker's own principal builder and authorizer (`broker_plugins.py`)."""
    found = _from_java_home_or_path("javac")
    install = "install the JDK with `apt-get install -y openjdk-17-jdk-headless` (or set JAVA_HOME to a JDK)"
    if found is None:
        raise LocalStackError(
            f"The Java compiler `javac` ({MINIMUM_JAVA_MAJOR}+) was not found; the broker's authorizer is "
            f"compiled from source on first use: {install}."
        )
    # Java 9+ prints `javac 17.0.15` on stdout; Java 8 printed `javac 1.8.0_392` on stderr.
    result = subprocess.run([found, "-version"], capture_output=True, text=True, check=False)
    major = _major_version(_JAVAC_VERSION_PATTERN.search(result.stdout + result.stderr))
    if major < MINIMUM_JAVA_MAJOR:
        raise LocalStackError(
            f"{found} is Java {major or 'of unknown version'}; the broker plugins need javac "
            f"{MINIMUM_JAVA_MAJOR}+: {install}."
        )
    return Path(found)


def _from_java_home_or_path(tool: str) -> str | None:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / tool if java_home else None
    return str(candidate) if candidate and candidate.is_file() else shutil.which(tool)


def _major_version(match: re.Match[str] | None) -> int:
    """17 from `17.0.15`, 8 from `1.8.0`, 0 when there is no version."""
    if match is None:
        return 0
    major = int(match.group(1))
    if major == 1 and match.group(2):
        return int(match.group(2))
    return major


def find_maven() -> Path:
    found = shutil.which("mvn")
    if found is None:
        raise LocalStackError(
            "Maven (`mvn`) is needed once to fetch the Kafka jars from Maven Central and is not on PATH; "
            "install it with `apt-get install -y maven`."
        )
    return Path(found)
