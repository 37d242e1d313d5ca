"""The drift auditor: re-checks certified streams on a schedule, and moves drifted ones to DEGRADED.

Each run checks configuration, earliest offsets, partition count, write ACLs and the records written
since the previous run (schema ids, tombstones from outside the owner's producer); every
`content_interval_s` it re-scans a CERTIFIED stream's whole topic against the certified manifest
instead. DEGRADED streams keep their quick checks, so drift that follows the first is on record too
(a stream leaves DEGRADED only by being certified again). Where each stream's previous scan ended is
kept in memory, starting from its certification.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.errors import RegistryError
from headwater.registry.models import Stream, StreamCertification
from headwater.registry.streams.certification import CERTIFY, CONTENT_AUDIT, StreamCertifier
from headwater.registry.streams.state import StreamState

logger = logging.getLogger(__name__)


@dataclass
class _Watch:
    manifest_id: int
    certification_id: int
    cursor: dict[int, int]
    last_content_scan: float


class DriftAuditor:
    def __init__(self, sessions: sessionmaker[Session], certifier: StreamCertifier, content_interval_s: float) -> None:
        self._sessions = sessions
        self._certifier = certifier
        self._content_interval_s = content_interval_s
        self._watches: dict[str, _Watch] = {}

    def run_once(self) -> None:
        for name, state, certification in self._certified_streams():
            watch = self._watches.get(name)
            # A new certification (or passing content audit) restarts the watch from where it scanned.
            if watch is None or watch.certification_id != certification.id:
                watch = _Watch(
                    certification.manifest_id,
                    certification.id,
                    {int(partition): offset for partition, offset in certification.scanned_offsets.items()},
                    certification.finished_at.timestamp(),
                )
                self._watches[name] = watch
            content = state == StreamState.CERTIFIED.value and (
                time.time() - watch.last_content_scan >= self._content_interval_s
            )
            try:
                outcome = self._certifier.audit(name, watch.manifest_id, watch.cursor, content)
            except RegistryError as error:  # the broker went away: the next run tries again
                logger.warning("drift audit of %s failed: %s", name, error)
                continue
            if content:
                watch.last_content_scan = time.time()
            logger.debug("drift audit of %s: %s", name, "passed" if outcome.passed else "failed")

    def _certified_streams(self) -> list[tuple[str, str, StreamCertification]]:
        """Each CERTIFIED or DEGRADED stream, its state, and the last certification (or content audit) it passed."""
        watched = (StreamState.CERTIFIED.value, StreamState.DEGRADED.value)
        with self._sessions() as session:
            rows = session.execute(select(Stream.name, Stream.state).where(Stream.state.in_(watched))).all()
            certified = []
            for name, state in rows:
                latest = session.scalars(
                    select(StreamCertification)
                    .where(
                        StreamCertification.stream == name,
                        StreamCertification.passed.is_(True),
                        StreamCertification.kind.in_((CERTIFY, CONTENT_AUDIT)),
                    )
                    .order_by(StreamCertification.id.desc())
                    .limit(1)
                ).first()
                if latest is not None:
                    session.expunge(latest)
                    certified.append((name, state, latest))
            return certified
