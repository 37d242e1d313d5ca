"""Global schema ids, from one counter row that also serialises every registration.

Ids used to be max(id) + 1 with a few retries on a collision: under enough concurrent registrations the
retries ran out and one failed. Now the first statement of a registration updates the counter row,
which holds it until the transaction ends (PostgreSQL locks the row; SQLite, whose writers run one at a
time anyway, takes its write lock there, before anything is read). Registrations wait for each other
instead of racing: the id, the subject's next version and the fingerprint check all see the
registrations committed before, and nothing has to be retried.
"""

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from headwater.registry.models import RegistryCounter

SCHEMA_ID_COUNTER = "schema_id"
_counter = update(RegistryCounter).where(RegistryCounter.name == SCHEMA_ID_COUNTER)


def lock_schema_ids(session: Session) -> int:
    """Take the counter for the rest of `session`'s transaction; the last id given."""
    last: int | None = session.scalar(_counter.values(value=RegistryCounter.value).returning(RegistryCounter.value))
    if last is None:
        raise RuntimeError(f"The registry_counters row {SCHEMA_ID_COUNTER!r} is missing; run the migrations.")
    return last


def record_schema_id(session: Session, schema_id: int) -> None:
    """Count `schema_id` as given, so the counter never hands it out again (ids kept by an import)."""
    session.execute(
        _counter.values(value=case((RegistryCounter.value < schema_id, schema_id), else_=RegistryCounter.value))
    )
