"""pipelines/parallel.py: jobs in forked workers give what they give in the calling process."""

from __future__ import annotations

import os
import threading
import time
from functools import partial

import pytest

from pipelines import parallel
from pipelines.parallel import background, run_jobs

# Forking is refused while another thread runs (a test runner's worker has I/O threads): these
# tests run in a pytest process of their own, without parallel workers (`make test`).
pytestmark = pytest.mark.forks


@pytest.fixture
def two_workers(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


def test_run_jobs_in_workers_keeps_job_order(two_workers) -> None:
    jobs = [partial(_pid_and_square, n) for n in range(40)]
    done = run_jobs(jobs)
    assert [square for _, square in done] == [n * n for n in range(40)]
    assert os.getpid() not in {pid for pid, _ in done}


def test_few_jobs_run_in_the_calling_process_unless_each_pays_off(two_workers) -> None:
    jobs = [partial(_pid_and_square, n) for n in range(4)]
    assert {pid for pid, _ in run_jobs(jobs)} == {os.getpid()}
    assert os.getpid() not in {pid for pid, _ in run_jobs(jobs, min_jobs_per_worker=1)}


def test_one_worker_configured_runs_everything_here(monkeypatch) -> None:
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    jobs = [partial(_pid_and_square, n) for n in range(40)]
    assert {pid for pid, _ in run_jobs(jobs)} == {os.getpid()}
    with background(partial(_pid_and_square, 7)) as result:
        assert result() == (os.getpid(), 49)


def test_background_job_runs_in_a_worker_while_the_caller_goes_on(two_workers) -> None:
    started = time.monotonic()
    with background(partial(_slow_pid, 0.5)) as result:
        here = time.monotonic() - started  # the caller did not wait for the job
        pid, finished = result()
    assert here < 0.4
    assert pid != os.getpid()
    assert finished - started >= 0.5


def _slow_pid(seconds: float) -> tuple[int, float]:
    time.sleep(seconds)
    return os.getpid(), time.monotonic()


def _fails() -> None:
    raise ValueError("sổ không đọc được")


def test_background_job_error_reaches_the_caller(two_workers) -> None:
    with background(_fails) as result, pytest.raises(ValueError, match="sổ không đọc được"):
        result()


def test_leaving_without_the_result_stops_the_worker(two_workers, tmp_path) -> None:
    marker = tmp_path / "finished"
    job = partial(_touch_later, marker, 1.0)
    with pytest.raises(RuntimeError, match="page failed"), background(job):
        raise RuntimeError("page failed")
    time.sleep(1.3)
    assert not marker.exists()


def _touch_later(path, seconds: float) -> None:
    time.sleep(seconds)
    path.write_text("done")


def test_a_running_thread_keeps_the_jobs_in_the_calling_process(two_workers) -> None:
    """A busy thread may hold a lock at the moment of a fork, which the child would then wait
    on for ever: while one runs, the jobs stay here (and still give every result in order)."""
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait, name="progress-watcher")
    busy.start()
    try:
        jobs = [partial(_pid_and_square, n) for n in range(40)]
        done = run_jobs(jobs)
        with background(partial(_pid_and_square, 7)) as result:
            assert result() == (os.getpid(), 49)
    finally:
        stop.set()
        busy.join()
    assert {pid for pid, _ in done} == {os.getpid()}
    assert [square for _, square in done] == [n * n for n in range(40)]
    # the thread gone, the jobs fork again
    assert os.getpid() not in {pid for pid, _ in run_jobs(jobs)}


def _square_or_fail(n: int) -> int:
    if n == 13:
        raise ValueError(f"sổ {n} không đọc được")
    return n * n


def test_a_failing_job_in_a_worker_raises_its_own_error_here(two_workers) -> None:
    """The job's exception, with its message, reaches the caller of run_jobs (the jobs are
    pickled to the workers: partials of module functions)."""
    jobs = [partial(_square_or_fail, n) for n in range(40)]
    with pytest.raises(ValueError, match="sổ 13 không đọc được"):
        run_jobs(jobs)
    assert run_jobs(jobs[:13]) == [n * n for n in range(13)]
