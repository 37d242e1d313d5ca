"""Background processes owned by a state folder: started detached, tracked by pid file, stopped by pid."""

import os
import signal
import socket
import time
from pathlib import Path

from headwater.local.errors import LocalStackError


def is_alive(pid: int) -> bool:
    try:
        # Reap it if it is our own exited child, so it does not linger as a zombie.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def read_pid(pid_file: Path) -> int | None:
    if not pid_file.is_file():
        return None
    text = pid_file.read_text().strip()
    return int(text) if text.isdigit() else None


def stop_process(pid: int, grace_s: float = 30.0) -> None:
    """SIGTERM (Kafka shuts down cleanly), then SIGKILL after the grace period."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    while is_alive(pid):
        time.sleep(0.05)


def free_port() -> int:
    """An ephemeral port that is free right now on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_free_port(port: int, purpose: str, remedy: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the JVM does for its listeners: connections of a stopped broker left in TIME_WAIT do
        # not block the port, a process listening on it does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise LocalStackError(
                f"Port {port} ({purpose}) on 127.0.0.1 is already in use ({exc.strerror}); {remedy}"
            ) from exc
