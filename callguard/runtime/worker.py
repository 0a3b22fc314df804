"""One background thread that runs a task every ``interval`` seconds: what every chore of a worker process uses.

A callguard process keeps its I/O off the calls' path: the audit writer, the traffic report
counts, the alert webhook, the SQLite counters' checkpoints, the policy refresher, the Twilio
sync schedule and the change-notice listener each run on a :class:`BackgroundWorker`. The
adapters (``callguard.store``, ``callguard.sync``) only expose the step (flush, poll once,
tick …); :func:`callguard.runtime.assemble.assemble` wraps each step in a worker, and
:class:`~callguard.runtime.runtime.Runtime` starts and stops them.

What every worker does the same way:

- a task that raises is logged and recorded in :meth:`~BackgroundWorker.health`; the thread
  goes on (a chore that fails once must not stop for good);
- :meth:`~BackgroundWorker.stop` runs the optional ``interrupt`` step (what makes a long task
  return early: the audit pruner's batches), joins the thread for at most ``join_timeout``
  seconds, then runs the optional ``on_stop`` step on the caller's thread (the audit writer's
  last flush);
- :meth:`~BackgroundWorker.wake` runs the task at once rather than at the next interval;
- threads do not survive ``fork`` (gunicorn ``--preload`` builds the app in the master): in the
  child, the optional ``after_fork`` step runs (the parent's queue and connections are the
  parent's), and a worker that was running in the parent is started afresh.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..clock import Clock, system_clock
from ..loggers import get_logger

log = get_logger("callguard.runtime")

Step = Callable[[], object]
Interval = float | Callable[[], float]  # seconds, or what gives them before each wait


@dataclass(frozen=True)
class WorkerHealth:
    name: str
    running: bool  # started and not stopped: its thread should be alive
    alive: bool
    runs: int  # in this process
    last_run_at: float | None
    last_error: str | None  # the last exception its task raised, if any
    last_error_at: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.running, "alive": self.alive, "runs": self.runs, "last_run_at": self.last_run_at,
            "last_error": self.last_error, "last_error_at": self.last_error_at,
        }


class BackgroundWorker:
    """A daemon thread named ``callguard-<name>`` running ``task`` every ``interval`` seconds.

    ``interval`` may be a callable, asked before each wait (the change listener waits longer
    while Redis is down). With ``run_at_start`` the task runs once as soon as the thread starts.
    ``clock`` stamps the health figures.
    """

    def __init__(
        self,
        name: str,
        task: Step,
        *,
        interval: Interval,
        run_at_start: bool = False,
        on_stop: Step | None = None,
        after_fork: Step | None = None,
        interrupt: Step | None = None,
        clock: Clock = system_clock,
        join_timeout: float = 5.0,
    ) -> None:
        self.name = name
        self.task = task
        self.interval = interval
        self.run_at_start = run_at_start
        self.on_stop = on_stop
        self.after_fork = after_fork
        self.interrupt = interrupt
        self.clock = clock
        self.join_timeout = join_timeout
        self._running = False
        self._fresh_state()
        hook = weakref.WeakMethod(self._after_fork_in_child)  # a worker no one holds any more is not kept for its hook
        os.register_at_fork(after_in_child=lambda: _call_if_alive(hook))

    def _fresh_state(self) -> None:
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._ran = threading.Condition()
        self._thread: threading.Thread | None = None
        self._runs = 0
        self._last_run_at: float | None = None
        self._last_error: str | None = None
        self._last_error_at: float | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread (again, after :meth:`stop`); nothing if it is running."""
        with self._lock:
            if self._running and self._thread is not None and self._thread.is_alive():
                return
            self._running = True
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name=f"callguard-{self.name}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread (``interrupt`` first, then waiting at most ``join_timeout`` seconds), then run ``on_stop``.

        ``on_stop`` runs at every call, started or not: a worker's final step (a last flush)
        writes what its adapter holds whoever put it there."""
        with self._lock:
            self._running = False
            self._stopping.set()
            self._wakeup.set()
            thread = self._thread
        if self.interrupt is not None:
            self._guarded(self.interrupt, "interrupt")
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.join_timeout)
            if thread.is_alive():
                log.warning("%s: the background thread did not stop within %.0f s", self.name, self.join_timeout)
        if self.on_stop is not None:
            self._guarded(self.on_stop, "final step")

    def wake(self) -> None:
        """Run the task now rather than at the next interval (a running worker only)."""
        self._wakeup.set()

    @property
    def running(self) -> bool:
        return self._running

    # -- the thread -----------------------------------------------------------------------------

    def _loop(self) -> None:
        if self.run_at_start and not self._stopping.is_set():
            self.run_once()
        while not self._stopping.is_set():
            self._wakeup.wait(self._next_wait())
            self._wakeup.clear()  # a wake-up arriving from here on is served by the run below
            if self._stopping.is_set():
                break
            self.run_once()

    def _next_wait(self) -> float:
        interval = self.interval
        return max(0.0, interval() if callable(interval) else interval)

    def run_once(self) -> None:
        """Run the task on this thread as the worker's thread runs it: an exception is logged
        and recorded, never raised."""
        self._guarded(self.task, "task")
        with self._ran:
            self._runs += 1
            self._last_run_at = self.clock()
            self._ran.notify_all()

    def _guarded(self, step: Step, what: str) -> None:
        try:
            step()
        except Exception as exc:  # the thread outlives any one failure; health says what it was
            with self._ran:
                self._last_error, self._last_error_at = f"{what}: {type(exc).__name__}: {exc}", self.clock()
            log.exception("%s: background %s failed", self.name, what)

    def wait_for_runs(self, count: int, timeout: float) -> bool:
        """Wait until the task has run ``count`` times in this process; False if ``timeout`` passed first."""
        with self._ran:
            return self._ran.wait_for(lambda: self._runs >= count, timeout)

    # -- fork and health ------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        # The parent's thread is not in the child, and its locks may have been held at the fork.
        was_running = self._running
        self._running = False
        self._fresh_state()
        if self.after_fork is not None:
            self._guarded(self.after_fork, "after-fork step")
        if was_running:
            self.start()

    def health(self) -> WorkerHealth:
        thread = self._thread
        with self._ran:
            return WorkerHealth(
                self.name, self._running, thread is not None and thread.is_alive(), self._runs, self._last_run_at,
                self._last_error, self._last_error_at,
            )


def _call_if_alive(method: weakref.WeakMethod[Callable[[], None]]) -> None:
    bound = method()
    if bound is not None:
        bound()
