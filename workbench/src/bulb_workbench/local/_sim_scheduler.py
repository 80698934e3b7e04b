"""A one-thread delayed-call lane: the simulator's clock for bulb transitions and webhook pushes.

One thread per lane keeps calls in due order (two commands to one bulb land in the order sent),
and ``wait_idle`` lets tests and the demo wait for "nothing left in flight" instead of sleeping.
``threading.Timer`` would give a thread per call and no ordering; ``sched`` cannot be woken when
another thread adds an earlier call.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

_log = logging.getLogger(__name__)


class Lane:
    """Runs callables after a delay, in due order, on one daemon thread."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._cv = threading.Condition()
        self._running = 0
        self._stopped = True
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._cv:
            self._stopped = False
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Drop what is queued and end the thread (a call already running finishes)."""
        with self._cv:
            self._stopped = True
            self._heap.clear()
            self._cv.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def call_later(self, delay: float, call: Callable[[], None]) -> None:
        with self._cv:
            due = time.monotonic() + max(0.0, delay)
            heapq.heappush(self._heap, (due, next(self._order), call))
            self._cv.notify_all()

    def cancel_all(self) -> None:
        with self._cv:
            self._heap.clear()
            self._cv.notify_all()

    def busy(self) -> bool:
        with self._cv:
            return bool(self._heap) or self._running > 0

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or running; False if ``timeout`` passed first."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._heap and not self._running, timeout)

    def _run(self) -> None:
        while (call := self._next()) is not None:
            try:
                call()
            except Exception:  # one bad call must not stop the clock
                _log.exception("%s: scheduled call failed", self._name)
            finally:
                with self._cv:
                    self._running -= 1
                    self._cv.notify_all()

    def _next(self) -> Callable[[], None] | None:
        with self._cv:
            while not self._stopped:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    self._running += 1
                    return heapq.heappop(self._heap)[2]
                self._cv.wait(self._heap[0][0] - now if self._heap else None)
            return None
