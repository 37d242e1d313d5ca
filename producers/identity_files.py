"""Write a certificate and key the hub issued (shown once) to files, the key readable by its owner only."""

from pathlib import Path
from typing import Any

from headwater.registry.ca.pem_files import PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, write_pem_file


def write_certificate_files(issued: dict[str, Any], certificate_file: Path, key_file: Path) -> tuple[Path, Path]:
    """Write the hub's `IssuedCertificatePayload`, each file replaced atomically (key first: a reader
    that sees the new certificate also finds its key)."""
    key = write_pem_file(key_file, issued["private_key_pem"].encode(), PRIVATE_FILE_MODE)
    certificate = write_pem_file(certificate_file, issued["certificate_pem"].encode(), PUBLIC_FILE_MODE)
    return certificate, key


def write_issued_certificate(issued: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """`<folder>/<identity>.crt` and `.key` (mode 0600)."""
    identity = issued["identity"]
    return write_certificate_files(issued, folder / f"{identity}.crt", folder / f"{identity}.key")
