"""The one background-worker base every chore runs on (callguard.runtime.worker)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator

import pytest

from callguard import FakeClock
from callguard.runtime.worker import BackgroundWorker

WAIT = 10.0  # generous bound on waits for the worker's thread: the machine is shared
NEVER = 3600.0  # an interval no test waits out: runs come from start and wake()


@pytest.fixture
def workers() -> Iterator[list[BackgroundWorker]]:
    made: list[BackgroundWorker] = []
    yield made
    for worker in made:
        worker.stop()


def test_start_runs_the_task_wake_runs_it_again_and_stop_runs_the_final_step(workers: list[BackgroundWorker]) -> None:
    clock = FakeClock(1_780_000_000.0)
    ran: list[str] = []
    worker = BackgroundWorker("test", lambda: ran.append(threading.current_thread().name), interval=NEVER, run_at_start=True,
                              on_stop=lambda: ran.append("final"), clock=clock)
    workers.append(worker)
    assert worker.health().alive is False and worker.health().runs == 0
    worker.start()
    worker.start()  # running already: no second thread
    assert worker.wait_for_runs(1, WAIT)
    clock.advance(5)
    worker.wake()
    assert worker.wait_for_runs(2, WAIT)
    health = worker.health()
    assert (health.name, health.running, health.alive, health.runs, health.last_run_at) == ("test", True, True, 2, 1_780_000_005.0)
    worker.stop()
    assert ran == ["callguard-test", "callguard-test", "final"]
    assert worker.health().running is False and worker.health().alive is False


def test_without_run_at_start_the_first_run_waits_for_the_interval_or_a_wake(workers: list[BackgroundWorker]) -> None:
    asked: list[float] = []
    ran = threading.Event()

    def interval() -> float:
        asked.append(NEVER)
        return NEVER

    worker = BackgroundWorker("test", ran.set, interval=interval)
    workers.append(worker)
    worker.start()
    assert not ran.is_set() and worker.health().runs == 0
    worker.wake()
    assert worker.wait_for_runs(1, WAIT) and ran.is_set()
    worker.stop()
    assert asked  # a callable interval is asked before each wait


def test_a_failing_task_is_recorded_and_the_thread_goes_on(workers: list[BackgroundWorker], caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(1_780_000_000.0)
    calls: list[int] = []

    def task() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")

    worker = BackgroundWorker("flaky", task, interval=NEVER, run_at_start=True, clock=clock)
    workers.append(worker)
    with caplog.at_level("ERROR", logger="callguard.runtime"):
        worker.start()
        assert worker.wait_for_runs(1, WAIT)
    assert "flaky: background task failed" in caplog.text
    health = worker.health()
    assert health.alive and health.last_error == "task: RuntimeError: disk on fire" and health.last_error_at == 1_780_000_000.0
    worker.wake()
    assert worker.wait_for_runs(2, WAIT) and len(calls) == 2 and worker.health().alive


def test_a_failing_final_step_is_recorded_not_raised() -> None:
    def final() -> None:
        raise ValueError("no database")

    worker = BackgroundWorker("closing", lambda: None, interval=NEVER, on_stop=final)
    worker.stop()  # never started: the final step runs all the same
    assert worker.health().last_error == "final step: ValueError: no database"


def test_stop_waits_for_a_busy_task_only_so_long(workers: list[BackgroundWorker], caplog: pytest.LogCaptureFixture) -> None:
    entered, release = threading.Event(), threading.Event()
    finals: list[str] = []

    def busy() -> None:
        entered.set()
        release.wait(WAIT)

    worker = BackgroundWorker("busy", busy, interval=NEVER, run_at_start=True, on_stop=lambda: finals.append("final"), join_timeout=0.05)
    worker.start()
    assert entered.wait(WAIT)
    with caplog.at_level("WARNING", logger="callguard.runtime"):
        worker.stop()
    assert finals == ["final"] and "did not stop within" in caplog.text
    release.set()


def test_stop_interrupts_a_long_task_before_waiting_for_it(workers: list[BackgroundWorker]) -> None:
    entered, interrupted = threading.Event(), threading.Event()
    steps: list[str] = []

    def long_task() -> None:  # the audit pruner's batches, until told to stop
        entered.set()
        interrupted.wait(WAIT)
        steps.append("task returned")

    def interrupt() -> None:
        steps.append("interrupt")
        interrupted.set()

    worker = BackgroundWorker("long", long_task, interval=NEVER, run_at_start=True, interrupt=interrupt,
                              on_stop=lambda: steps.append("final"))
    worker.start()
    assert entered.wait(WAIT)
    worker.stop()
    assert steps == ["interrupt", "task returned", "final"] and not worker.health().alive


def test_the_fork_hook_restarts_a_running_worker_after_its_own_step(workers: list[BackgroundWorker]) -> None:
    """What a child of ``fork`` runs (simulated here by calling the hook): the worker's after-fork
    step, then a fresh thread for a worker that was running, its figures the child's own."""
    steps: list[str] = []
    worker = BackgroundWorker("forked", lambda: steps.append("task"), interval=NEVER, run_at_start=True,
                              after_fork=lambda: steps.append("after fork"))
    workers.append(worker)
    worker.start()
    assert worker.wait_for_runs(1, WAIT)
    parents, parents_stopping, parents_wakeup = worker._thread, worker._stopping, worker._wakeup
    worker._after_fork_in_child()
    try:
        assert worker.wait_for_runs(1, WAIT)  # counted afresh: the parent's runs are the parent's
        assert steps == ["task", "after fork", "task"]
        assert worker.running and worker._thread is not parents and worker.health().alive
    finally:  # in a real child the parent's thread does not exist: end it here
        parents_stopping.set()
        parents_wakeup.set()


def test_the_fork_hook_leaves_a_stopped_worker_stopped() -> None:
    steps: list[str] = []
    worker = BackgroundWorker("idle", lambda: steps.append("task"), interval=NEVER, after_fork=lambda: steps.append("after fork"))
    worker._after_fork_in_child()
    assert steps == ["after fork"] and not worker.running and worker.health().alive is False


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_real_fork_restarts_the_worker_in_the_child(workers: list[BackgroundWorker]) -> None:
    forked = threading.Event()
    worker = BackgroundWorker("child", lambda: None, interval=NEVER, run_at_start=True, after_fork=forked.set)
    workers.append(worker)
    worker.start()
    assert worker.wait_for_runs(1, WAIT)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it sees, and leave at once whatever happens
        code = 1
        try:
            ran = worker.wait_for_runs(1, WAIT)
            health = worker.health()
            os.write(write_end, json.dumps({"ran": ran, "alive": health.alive, "runs": health.runs, "step": forked.is_set()}).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        seen = json.loads(reader.read() or "{}")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert seen == {"ran": True, "alive": True, "runs": 1, "step": True}
    assert worker.health().runs == 1 and not forked.is_set()  # the parent's worker is untouched


def test_health_as_a_dict() -> None:
    worker = BackgroundWorker("idle", lambda: None, interval=NEVER, clock=FakeClock(5.0))
    worker.run_once()
    assert worker.health().as_dict() == {
        "running": False, "alive": False, "runs": 1, "last_run_at": 5.0, "last_error": None, "last_error_at": None,
    }
