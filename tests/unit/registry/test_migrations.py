"""The Alembic migrations produce exactly the tables the models describe, on both databases."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from headwater.registry.database import alembic_config, create_database_engine, upgrade_database
from headwater.registry.models import Base


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_every_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    command.downgrade(alembic_config(engine), "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    upgrade_database(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []
