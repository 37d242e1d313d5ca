"""Real PostgreSQL clusters (no mocks): the private cluster tests rely on for PostgreSQL behaviour."""

import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy

from headwater.local.errors import LocalStackError
from headwater.local.postgres import PrivatePostgres


def test_cluster_serves_a_new_database_round_trip(tmp_path: Path) -> None:
    with PrivatePostgres(tmp_path / "cluster") as postgres:
        url = postgres.create_database("orders")
        assert url == f"postgresql+psycopg://headwater@127.0.0.1:{postgres.port}/orders"
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.begin() as connection:
                version = connection.execute(sqlalchemy.text("select version()")).scalar_one()
                assert version.startswith("PostgreSQL ")
                connection.execute(sqlalchemy.text("create table item (id int primary key, name text)"))
                connection.execute(sqlalchemy.text("insert into item values (1, 'first'), (2, 'second')"))
            with engine.connect() as connection:
                rows = connection.execute(sqlalchemy.text("select id, name from item order by id")).all()
            assert [tuple(row) for row in rows] == [(1, "first"), (2, "second")]
        finally:
            engine.dispose()


def test_two_clusters_run_at_once_on_their_own_ports(tmp_path: Path) -> None:
    with PrivatePostgres(tmp_path / "one") as one, PrivatePostgres(tmp_path / "two") as two:
        assert one.port != two.port
        for postgres, name in ((one, "first"), (two, "second")):
            engine = sqlalchemy.create_engine(postgres.create_database(name))
            try:
                with engine.connect() as connection:
                    assert connection.execute(sqlalchemy.text("select current_database()")).scalar_one() == name
            finally:
                engine.dispose()


def test_stop_is_idempotent_and_a_stopped_cluster_refuses_connections(tmp_path: Path) -> None:
    postgres = PrivatePostgres(tmp_path / "cluster")
    postgres.stop()  # never started
    postgres.start()
    postgres.stop()
    postgres.stop()
    engine = sqlalchemy.create_engine(postgres.url(), connect_args={"connect_timeout": 2})
    try:
        with pytest.raises(sqlalchemy.exc.OperationalError):
            engine.connect()
    finally:
        engine.dispose()


def test_a_cluster_in_a_reachable_folder_restarts_with_its_data() -> None:
    # A short folder under /tmp (1777) is used directly (not a temporary stand-in), so data survives a restart.
    folder = Path(tempfile.mkdtemp(prefix="headwater-pg-test-"))
    postgres = PrivatePostgres(folder)
    try:
        with postgres:
            postgres.create_database("kept")
        assert (folder / "data" / "PG_VERSION").exists()
        with postgres:
            engine = sqlalchemy.create_engine(postgres.url("kept"))
            try:
                with engine.connect() as connection:
                    assert connection.execute(sqlalchemy.text("select current_database()")).scalar_one() == "kept"
            finally:
                engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_bad_database_name_is_refused(tmp_path: Path) -> None:
    postgres = PrivatePostgres(tmp_path / "never-started")
    with pytest.raises(ValueError, match=r"invalid database name 'Bad-Name'"):
        postgres.create_database("Bad-Name")


def test_missing_binaries_give_one_line_with_the_fix(tmp_path: Path) -> None:
    postgres = PrivatePostgres(tmp_path / "cluster", bin_dir=tmp_path / "no-such-bin")
    with pytest.raises(LocalStackError) as raised:
        postgres.start()
    assert str(raised.value) == (
        "PostgreSQL server binaries (initdb, pg_ctl) not found; install them with `apt-get install -y postgresql`."
    )


def test_a_port_already_taken_fails_with_the_server_reason_and_log(tmp_path: Path) -> None:
    with PrivatePostgres(tmp_path / "first") as first:
        second = PrivatePostgres(tmp_path / "second", port=first.port)
        with pytest.raises(LocalStackError) as raised:
            second.start()
        message = str(raised.value)
        second.stop()
    assert "\n" not in message
    # The server's own reason from the log, without its timestamp prefix, plus where to read more.
    assert message.startswith("pg_ctl failed: FATAL: ") and message.endswith("postgres.log)")
