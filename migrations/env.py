"""Alembic environment: runs on the engine handed over by `headwater.registry.database`, or on
`sqlalchemy.url` / HEADWATER_DATABASE_URL when the `alembic` command line is used directly."""

import os

from alembic import context
from sqlalchemy import Engine

from headwater.registry.database import create_database_engine
from headwater.registry.models import Base

config = context.config


def _engine() -> Engine:
    handed_over = config.attributes.get("engine")
    if handed_over is not None:
        return handed_over
    url = os.environ.get("HEADWATER_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("Set HEADWATER_DATABASE_URL (or sqlalchemy.url) to the database to migrate.")
    return create_database_engine(url)


def run_migrations() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
