"""Find the Java and Maven executables the broker needs, with actionable errors when they are missing."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from headwater.local.errors import LocalStackError

MINIMUM_JAVA_MAJOR = 17
_VERSION_PATTERN = re.compile(r'version "(\d+)(?:\.(\d+))?')


def find_java() -> Path:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    found = str(candidate) if candidate and candidate.is_file() else shutil.which("java")
    if found is None:
        raise LocalStackError(
            f"Java {MINIMUM_JAVA_MAJOR}+ was not found (no JAVA_HOME, no `java` on PATH); "
            "install it with `apt-get install -y openjdk-17-jre-headless`."
        )
    output = subprocess.run([found, "-version"], capture_output=True, text=True, check=False).stderr
    match = _VERSION_PATTERN.search(output)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):
        major = int(match.group(2))
    if major < MINIMUM_JAVA_MAJOR:
        raise LocalStackError(
            f"{found} is Java {major or 'of unknown version'}; Kafka 4 needs Java {MINIMUM_JAVA_MAJOR}+. "
            "Install it with `apt-get install -y openjdk-17-jre-headless` or set JAVA_HOME."
        )
    return Path(found)


def find_maven() -> Path:
    found = shutil.which("mvn")
    if found is None:
        raise LocalStackError(
            "Maven (`mvn`) is needed once to fetch the Kafka jars from Maven Central and is not on PATH; "
            "install it with `apt-get install -y maven`."
        )
    return Path(found)
