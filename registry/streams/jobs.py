"""Jobs and their lineage: which streams a processing job reads and writes.

A job belongs to the identity that registers it. It may read streams its owner owns or was granted
(an approved access grant), and write only streams its owner owns, so the catalog's lineage never
claims a flow the broker would refuse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.registry.errors import RegistryError
from headwater.registry.models import AccessGrant, Job, JobStream, Stream
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.streams.errors import StreamNotFoundError
from headwater.registry.streams.state import GrantState, StreamState


class JobAlreadyExistsError(RegistryError):
    status_code, error_code = 409, 40937

    def __init__(self, name: str) -> None:
        super().__init__(f"Job '{name}' already exists. Pick another name.")


class JobStreamNotAllowedError(RegistryError):
    status_code, error_code = 403, 40331

    def __init__(self, job: str, stream: str, direction: str, owner: str) -> None:
        need = "own it" if direction == "output" else "own it or hold an approved access grant on it"
        super().__init__(f"Job '{job}' may not {direction} stream '{stream}': its owner '{owner}' must {need}.")


class JobNotFoundError(RegistryError):
    status_code, error_code = 404, 40433

    def __init__(self, name: str) -> None:
        super().__init__(f"Job '{name}' does not exist. List jobs with GET /api/v1/jobs.")


@dataclass(frozen=True)
class JobRecord:
    name: str
    owner: str
    description: str
    inputs: list[str]
    outputs: list[str]
    created_at: datetime


class JobCatalog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def register(
        self, requester: Requester, name: str, description: str, inputs: list[str], outputs: list[str]
    ) -> JobRecord:
        try:
            with self._sessions.begin() as session:
                if session.get(Job, name) is not None:
                    raise JobAlreadyExistsError(name)
                for stream in dict.fromkeys(inputs):
                    self._check(session, requester, name, stream, "input")
                for stream in dict.fromkeys(outputs):
                    self._check(session, requester, name, stream, "output")
                session.add(
                    Job(
                        name=name,
                        owner_identity=requester.identity,
                        description=description,
                        created_at=datetime.now(UTC),
                    )
                )
                session.flush()
                for direction, streams in (("input", inputs), ("output", outputs)):
                    for stream in dict.fromkeys(streams):
                        session.add(JobStream(job=name, stream=stream, direction=direction))
                after = {"inputs": list(dict.fromkeys(inputs)), "outputs": list(dict.fromkeys(outputs))}
                record_audit(session, requester.identity, "job.register", name, DONE, {}, after=after)
        except IntegrityError as exc:
            raise JobAlreadyExistsError(name) from exc
        return self.get(name)

    def get(self, name: str) -> JobRecord:
        with self._sessions() as session:
            job = session.get(Job, name)
            if job is None:
                raise JobNotFoundError(name)
            links = session.scalars(select(JobStream).where(JobStream.job == name).order_by(JobStream.stream)).all()
            return JobRecord(
                job.name,
                job.owner_identity,
                job.description,
                [link.stream for link in links if link.direction == "input"],
                [link.stream for link in links if link.direction == "output"],
                job.created_at,
            )

    def list(self) -> list[JobRecord]:
        with self._sessions() as session:
            names = list(session.scalars(select(Job.name).order_by(Job.name)))
        return [self.get(name) for name in names]

    @staticmethod
    def _check(session: Session, requester: Requester, job: str, name: str, direction: str) -> None:
        stream = session.get(Stream, name)
        if stream is None or stream.state in (StreamState.PENDING.value, StreamState.DELETED.value):
            raise StreamNotFoundError(name)
        if requester.is_admin or stream.owner_identity == requester.identity:
            return
        granted = session.scalars(
            select(AccessGrant.id).where(
                AccessGrant.stream == name,
                AccessGrant.consumer_identity == requester.identity,
                AccessGrant.state == GrantState.APPROVED.value,
            )
        ).first()
        if direction == "input" and granted is not None:
            return
        raise JobStreamNotAllowedError(job, name, direction, requester.identity)
