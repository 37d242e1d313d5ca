"""The Alembic migrations produce exactly the tables the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from headwater.registry.database import create_database_engine, upgrade_database
from headwater.registry.models import Base


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []
