"""Atomic PEM file writes: private keys are created 0600 and never readable by others, even briefly."""

import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644


def write_pem_file(path: Path, content: bytes, mode: int) -> Path:
    """Write `content` to `path` through a temporary file and a rename, so readers (a broker reloading
    its keystore) never see a half-written file, and the file never exists with a wider mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(descriptor, mode)
        os.write(descriptor, content)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    return path
