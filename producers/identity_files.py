"""Write an identity's certificate files: the key made here (mode 0600), the certificate the hub signed."""

from pathlib import Path
from typing import Any

from headwater.registry.ca.pem_files import PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, write_pem_file


def write_certificate_files(
    certificate_pem: str, private_key_pem: bytes, certificate_file: Path, key_file: Path
) -> tuple[Path, Path]:
    """Each file replaced atomically, key first: a reader that sees the new certificate also finds its key."""
    key = write_pem_file(key_file, private_key_pem, PRIVATE_FILE_MODE)
    certificate = write_pem_file(certificate_file, certificate_pem.encode(), PUBLIC_FILE_MODE)
    return certificate, key


def write_identity_files(signed: dict[str, Any], private_key_pem: bytes, folder: Path) -> tuple[Path, Path]:
    """`<folder>/<identity>.crt` (the hub's `SignedCertificatePayload`) and `.key` (mode 0600)."""
    identity = signed["identity"]
    return write_certificate_files(
        signed["certificate_pem"], private_key_pem, folder / f"{identity}.crt", folder / f"{identity}.key"
    )
