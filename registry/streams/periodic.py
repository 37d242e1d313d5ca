"""Background work of the hub (the registration reconciler, the drift auditor), each in its own thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class PeriodicTask:
    """Calls `run` at start and then every `interval_s` until stopped; a failing run (broker down) is
    logged and retried at the next interval, so every task must be safe to repeat."""

    def __init__(self, name: str, run: Callable[[], object], interval_s: float) -> None:
        self._name = name
        self._run_once = run
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            try:
                self._run_once()
            except Exception:
                logger.exception("%s run failed; retrying at the next interval", self._name)
            if self._stopped.wait(self._interval_s):
                return
