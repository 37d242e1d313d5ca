"""The revocation list the broker enforces: every revoked certificate that has not expired yet.

The hub's certificate ledger rewrites this file after every revocation (and the hub re-checks it
every few seconds); the broker's authorizer (`headwater/local/broker_plugins/`) reloads it within a
second and refuses every request made with a listed serial from its `revoked` instant on, on new and
already-open connections, super users included. Expired certificates are left out: the broker's
principal carries each certificate's expiry and refuses it from then on anyway.

Format, UTF-8 lines (the `end` line lets a reader tell a complete file from a cut one):

    headwater-revocations 1
    generated <epoch milliseconds>
    revoked <serial, lower-case hex without leading zeros> <revoked from, epoch milliseconds>
    ...
    end <number of revoked lines>
"""

import fcntl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from headwater.registry.ca.pem_files import PUBLIC_FILE_MODE, write_pem_file

REVOCATION_LIST_FILE = "revocations.txt"
"""Name of the list in the CA folder."""
FORMAT_HEADER = "headwater-revocations 1"


@dataclass(frozen=True, order=True)
class Revocation:
    serial_hex: str
    revoked_at: datetime


class RevocationListError(ValueError):
    """The file is not a complete revocation list."""


def render(revocations: Iterable[Revocation], generated_at: datetime) -> str:
    ordered = sorted(set(revocations))
    lines = [FORMAT_HEADER, f"generated {_millis(generated_at)}"]
    lines += [f"revoked {item.serial_hex} {_millis(item.revoked_at)}" for item in ordered]
    lines.append(f"end {len(ordered)}")
    return "\n".join(lines) + "\n"


def parse(text: str) -> list[Revocation]:
    lines = text.splitlines()
    if len(lines) < 3 or lines[0] != FORMAT_HEADER or not lines[1].startswith("generated "):
        raise RevocationListError("missing header")
    body, end = lines[2:-1], lines[-1].split(" ")
    if len(end) != 2 or end[0] != "end" or end[1] != str(len(body)):
        raise RevocationListError("missing or wrong end line")
    revocations = []
    for line in body:
        word, serial_hex, millis = line.split(" ")
        if word != "revoked":
            raise RevocationListError(f"unexpected line {line!r}")
        revocations.append(Revocation(serial_hex, datetime.fromtimestamp(int(millis) / 1000, UTC)))
    return revocations


def write_revocation_list(path: Path, revocations: Iterable[Revocation]) -> bool:
    """Replace the list at `path` atomically unless it already lists exactly `revocations`; True if written.

    Call it inside `revocation_list_lock(path)`, with `revocations` read from the ledger after taking it."""
    text = render(revocations, datetime.now(UTC))
    try:
        if _without_generated(path.read_text()) == _without_generated(text):
            return False
    except OSError:
        pass
    write_pem_file(path, text.encode(), PUBLIC_FILE_MODE)
    return True


def _without_generated(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("generated ")]


@contextmanager
def revocation_list_lock(path: Path) -> Iterator[None]:
    """An exclusive lock beside the list, held across reading the ledger and writing the file: a
    writer that read before another's commit cannot then overwrite that writer's newer list."""
    lock_path = path.with_name(f".{path.name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _millis(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)
