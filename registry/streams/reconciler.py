"""Runs the registration reconciler at hub start and then periodically, in a background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class PeriodicReconciler:
    """Calls `reconcile` now and then every `interval_s` until stopped; a failing run (broker down)
    is logged and retried at the next interval, since undoing is idempotent."""

    def __init__(self, reconcile: Callable[[], list[str]], interval_s: float) -> None:
        self._reconcile = reconcile
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            try:
                undone = self._reconcile()
                if undone:
                    logger.warning("undid interrupted stream registrations", extra={"streams": undone})
            except Exception:
                logger.exception("stream reconciler run failed; retrying at the next interval")
            if self._stopped.wait(self._interval_s):
                return
