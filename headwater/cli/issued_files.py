"""Write a certificate and key the hub issued (shown once) to files, the key readable by its owner only."""

from pathlib import Path
from typing import Any

from headwater.registry.ca.pem_files import PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, write_pem_file


def write_issued_certificate(issued: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """`<folder>/<identity>.crt` and `.key` (mode 0600) from the hub's `IssuedCertificatePayload`."""
    identity = issued["identity"]
    certificate = write_pem_file(folder / f"{identity}.crt", issued["certificate_pem"].encode(), PUBLIC_FILE_MODE)
    key = write_pem_file(folder / f"{identity}.key", issued["private_key_pem"].encode(), PRIVATE_FILE_MODE)
    return certificate, key
