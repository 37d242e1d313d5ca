"""A private, throwaway PostgreSQL cluster for tests.

Tests need a real PostgreSQL (SQLite does not behave like it), but must not depend on a system
service or share one: each pytest-xdist worker runs its own cluster with `initdb` + `pg_ctl`,
in its own folder, on its own port and socket directory, so they never collide.
"""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Self

import sqlalchemy

from headwater.local.errors import LocalStackError
from headwater.local.processes import free_port

MISSING_BINARIES = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found; install them with `apt-get install -y postgresql`."
)
DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# The server binds "<socket dir>/.s.PGSQL.<port>"; Linux caps socket paths at 107 bytes.
SOCKET_PATH_LIMIT = 107
# initdb refuses to run as root; Debian's postgresql package provides this system user. Root's
# supplementary groups are dropped too, so the tools run with only that user's rights.
SERVER_USER = "postgres"
SERVER_IDENTITY: dict[str, Any] = {"user": SERVER_USER, "group": SERVER_USER, "extra_groups": []}


def find_binaries(bin_dir: Path | None = None) -> tuple[Path, Path]:
    """(initdb, pg_ctl) from `bin_dir` if given, else the newest Debian install, else PATH."""
    if bin_dir is None:
        # Debian keeps server binaries off PATH, in one folder per major version: prefer the newest.
        versions = [path for path in Path("/usr/lib/postgresql").glob("*/bin") if path.parent.name.isdigit()]
        if versions:
            bin_dir = max(versions, key=lambda path: int(path.parent.name))
        elif (on_path := shutil.which("initdb")) is not None:
            bin_dir = Path(on_path).parent
    if bin_dir is None or not ((bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file()):
        raise LocalStackError(MISSING_BINARIES)
    return bin_dir / "initdb", bin_dir / "pg_ctl"


def _meaningful_line(text: str) -> str:
    """The line that explains a failure: the last FATAL/ERROR/PANIC message, else the last non-blank line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # Server log lines start with a timestamp and pid; the message from the severity on is what matters.
    errors = [match.group(0) for line in lines if (match := re.search(r"\b(FATAL|ERROR|PANIC):.*", line))]
    return (errors or lines or ["no output"])[-1]


class PrivatePostgres:
    """One PostgreSQL cluster in `folder`, reachable only on 127.0.0.1:`port` as user `headwater` (trust).

    The cluster lives in a temporary folder instead, removed by stop(), when the server user cannot enter
    `folder` (as root: pytest's tmp_path is under a 0700 root folder) or its path is too long for a socket.
    """

    def __init__(self, folder: Path, port: int | None = None, bin_dir: Path | None = None) -> None:
        self.folder = folder
        self.port = port if port is not None else free_port()
        self.bin_dir = bin_dir
        self._as_root = os.geteuid() == 0
        self._cluster_folder: Path | None = None

    @property
    def log_path(self) -> Path:
        return (self._cluster_folder or self.folder) / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://headwater@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        initdb, pg_ctl = find_binaries(self.bin_dir)
        cluster = self._cluster_folder = self._cluster_folder or self._usable_folder()
        if self._as_root:
            shutil.chown(cluster, SERVER_USER, SERVER_USER)
        data = cluster / "data"
        if not (data / "PG_VERSION").exists():
            # --locale=C keeps sorting and behaviour independent of the host's locale settings.
            initdb_options = ["-U", "headwater", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]
            self._run([initdb, "-D", data, *initdb_options])
        server_options = (
            f"-p {self.port} -k {shlex.quote(str(cluster))} -c listen_addresses=127.0.0.1"
            # Durability is pointless for a throwaway test cluster; skipping it makes tests much faster.
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        # A fresh log per start, so a failure is explained by this start's lines, not an older run's.
        self.log_path.unlink(missing_ok=True)
        self._run([pg_ctl, "-D", data, "-l", self.log_path, "-w", "-t", "60", "-o", server_options, "start"])

    def stop(self) -> None:
        cluster = self._cluster_folder
        if cluster is not None and (cluster / "data" / "postmaster.pid").exists():
            _, pg_ctl = find_binaries(self.bin_dir)
            # `status` exits non-zero when the pid file is stale (server already gone): nothing to stop then.
            if self._run([pg_ctl, "-D", cluster / "data", "status"], check=False).returncode == 0:
                self._run([pg_ctl, "-D", cluster / "data", "-m", "fast", "-w", "stop"])
        if cluster is not None and cluster != self.folder:
            shutil.rmtree(cluster, ignore_errors=True)
            self._cluster_folder = None

    def create_database(self, name: str) -> str:
        if not DATABASE_NAME.match(name):
            raise ValueError(f"invalid database name {name!r}: use lower-case letters, digits and _ (max 63)")
        # CREATE DATABASE cannot run inside a transaction block, hence AUTOCOMMIT.
        engine = sqlalchemy.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exception_info: object) -> None:
        self.stop()

    def _usable_folder(self) -> Path:
        """`folder` if the server user can reach it and its socket path fits, else a fresh temp folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fits = len(f"{self.folder.resolve()}/.s.PGSQL.{self.port}") <= SOCKET_PATH_LIMIT
        if fits and self._run(["test", "-x", self.folder.resolve().parent], check=False).returncode == 0:
            return self.folder
        return Path(tempfile.mkdtemp(prefix="headwater-pg-"))

    def _run(self, command: list[Any], check: bool = True) -> subprocess.CompletedProcess[str]:
        as_user = SERVER_IDENTITY if self._as_root else {}
        # cwd "/" because the server user may not be allowed into the caller's working directory.
        result = subprocess.run(command, capture_output=True, text=True, cwd="/", **as_user)
        if check and result.returncode != 0:
            # pg_ctl start only says "see the log"; the server's own reason is in the log.
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            reason = _meaningful_line(log if "start" in command and log else result.stdout + result.stderr)
            raise LocalStackError(f"{Path(command[0]).name} failed: {reason} (log: {self.log_path})")
        return result
