"""Independent jobs (writing the demo's workbooks, reading an inbox, Great Expectations'
validations and Data Docs) on every core.

Writing or parsing one workbook is ~8 ms of pure Python, and a province has a few hundred of
them a year: on the two cores of a district server, two processes halve that part of the run
(measured in a profile). :func:`run_jobs` hands the jobs to a
:class:`~concurrent.futures.ProcessPoolExecutor` whose workers are *forked* (an explicit
``fork`` context): a job is pickled (a module-level function or a :func:`functools.partial` of
one), and the worker inherits the parent's loaded state (Great Expectations' suites) instead
of loading it again. :func:`background` runs one job in a forked
:class:`multiprocessing.Process`, which can be stopped if the caller no longer wants it.

A job run in a worker must not touch polars, DuckDB or Dagster (their thread pools and handles
do not survive a fork): callers prepare everything in the parent and hand the workers pure
Python (GX and pandas included) + file I/O. ``DTI_WORKERS=1`` runs everything in the calling
process (debugging); a platform without ``fork`` always does, and so does a process that runs
other threads (see :func:`_forks`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

WORKERS_ENV = "DTI_WORKERS"
MIN_JOBS_PER_WORKER = 16  # below this, forking costs more than it saves
T = TypeVar("T")


def worker_count() -> int:
    """Processes to use: ``DTI_WORKERS`` if set, else the usable cores (at most 8)."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured:
        return max(1, int(configured))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _forks(workers: int) -> bool:
    """Whether ``workers`` processes are worth forking here: two or more, ``fork`` exists, and
    the process runs no other thread than the main one. A thread that is busy when the process
    forks (a progress watcher printing, a test runner's I/O thread) may hold a lock the child
    then waits on for ever, so with such a thread alive the jobs run in the calling process."""
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    return threading.active_count() == 1


def run_jobs(
    jobs: Sequence[Callable[[], T]], min_jobs_per_worker: int = MIN_JOBS_PER_WORKER
) -> list[T]:
    """Every job's result, in job order; in forked worker processes when it pays off (the jobs
    are then pickled: module-level functions or partials of them).

    ``min_jobs_per_worker``: fewer jobs than this per process run in the calling process (the
    default suits jobs of a few milliseconds; jobs of tenths of a second pay off one each)."""
    workers = min(worker_count(), len(jobs) // max(1, min_jobs_per_worker))
    if not _forks(workers):
        return [job() for job in jobs]
    # Chunks of up to 8 jobs (less traffic), but at least ~4 chunks per worker to even them out.
    chunksize = max(1, min(8, len(jobs) // (4 * workers)))
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_default_signals
    )
    try:
        return list(pool.map(_call, jobs, chunksize=chunksize))
    finally:  # after a failed job, the jobs not started yet are dropped
        pool.shutdown(wait=True, cancel_futures=True)


def _call(job: Callable[[], T]) -> T:
    return job()


@contextmanager
def background(job: Callable[[], T]) -> Iterator[Callable[[], T]]:
    """Run ``job`` in one forked worker while the caller goes on; the context gives a function
    that waits for the job and returns its result (or raises its exception).

    With one core (or ``DTI_WORKERS=1``, or no ``fork``) the job runs at once, in this process.
    Leaving the context without asking for the result stops the worker."""
    if not _forks(worker_count()):
        value = job()
        yield lambda: value
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    # forked: the job is inherited, not pickled; only its outcome travels back
    worker = context.Process(target=_run_background, args=(job, send), daemon=True)
    worker.start()
    send.close()
    outcome: list[tuple[bool, Any]] = []

    def result() -> T:
        if not outcome:
            try:
                outcome.append(receive.recv())
            except EOFError:
                outcome.append((False, RuntimeError(f"worker died ({worker.exitcode})")))
            worker.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    try:
        yield result
    finally:
        if not outcome:
            worker.terminate()
        worker.join()
        receive.close()


def _run_background(job: Callable[[], Any], send: Any) -> None:
    _default_signals()
    try:
        outcome = (True, job())
    except BaseException as exc:  # the caller gets it when it asks for the result
        outcome = (False, exc)
    send.send(outcome)
    send.close()


def _default_signals() -> None:
    """A worker forked from a Dagster step inherits Dagster's interrupt handlers, which raise
    inside the worker instead of letting it stop: restore the defaults."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
