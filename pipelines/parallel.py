"""Independent jobs (writing the demo's workbooks, reading an inbox, Great Expectations'
validations and Data Docs) on every core.

Writing or parsing one workbook is ~8 ms of pure Python, and a province has a few hundred of
them a year: on the two cores of a district server, two processes halve that part of the run
(measured in a profile). Jobs are plain closures; the worker processes are *forked*, so they inherit
the jobs instead of receiving them pickled, and only each job's result travels back.

A job run in a worker must not touch polars, DuckDB or Dagster (their thread pools and handles
do not survive a fork): callers prepare everything in the parent and hand the workers pure
Python (GX and pandas included) + file I/O. ``DTI_WORKERS=1`` runs everything in the calling
process (debugging); a platform without ``fork`` always does, and so does a process that runs
other threads (see :func:`_forks`).

Work that shares large arrays (the scoring of a national grid) runs in threads instead:
:func:`thread_pool` keeps them for the life of the process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

WORKERS_ENV = "DTI_WORKERS"
MIN_JOBS_PER_WORKER = 16  # below this, forking costs more than it saves
T = TypeVar("T")

_PENDING: Sequence[Callable[[], Any]] = ()
_BACKGROUND: dict[int, Callable[[], Any]] = {}
_BACKGROUND_KEYS = itertools.count()
_THREAD_POOLS: dict[int, ThreadPoolExecutor] = {}
_THREAD_POOLS_LOCK = threading.Lock()


def _forget_thread_pools() -> None:
    """In a forked child: none of the parent's threads exist there (nor does whoever may have
    held the lock), so the child starts its own pools."""
    global _THREAD_POOLS_LOCK
    _THREAD_POOLS.clear()
    _THREAD_POOLS_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_thread_pools)


def thread_pool(threads: int) -> ThreadPoolExecutor:
    """The process's pool of ``threads`` threads, made once and kept.

    Every thread that allocates holds a malloc arena of its own (glibc's for numpy, jemalloc's
    for polars), and memory freed in one arena is not reused by another: a new thread for each
    call would leave each call's freed memory in an arena no later call uses (measured on the
    national scoring: ~0.03 GiB of its peak). A task must not wait on work it submits to the
    same pool."""
    with _THREAD_POOLS_LOCK:
        pool = _THREAD_POOLS.get(threads)
        if pool is None:
            pool = ThreadPoolExecutor(threads, thread_name_prefix=f"{POOL_THREAD_PREFIX}{threads}")
            _THREAD_POOLS[threads] = pool
        return pool


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


POOL_THREAD_PREFIX = "dti-pool-"


def _forks(workers: int) -> bool:
    """Whether ``workers`` processes are worth forking here: two or more, ``fork`` exists, and
    the process runs no other thread than this one (the main thread) and the idle threads of
    :func:`thread_pool`. A thread that is busy when the process forks (a progress watcher
    printing, a test runner's I/O thread) may hold a lock the child then waits on for ever, so
    with such a thread alive the jobs run in the calling process."""
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    return all(
        thread is threading.main_thread() or thread.name.startswith(POOL_THREAD_PREFIX)
        for thread in threading.enumerate()
    )


def run_jobs(
    jobs: Sequence[Callable[[], T]], min_jobs_per_worker: int = MIN_JOBS_PER_WORKER
) -> list[T]:
    """Every job's result, in job order; in forked worker processes when it pays off.

    ``min_jobs_per_worker``: fewer jobs than this per process run in the calling process (the
    default suits jobs of a few milliseconds; jobs of tenths of a second pay off one each)."""
    global _PENDING
    workers = min(worker_count(), len(jobs) // max(1, min_jobs_per_worker))
    if not _forks(workers):
        return [job() for job in jobs]
    _PENDING = jobs
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_default_signals)
    # Chunks of up to 8 jobs (less traffic), but at least ~4 chunks per worker to even them out.
    chunksize = max(1, min(8, len(jobs) // (4 * workers)))
    try:
        results = pool.map(_run_pending, range(len(jobs)), chunksize=chunksize)
        pool.close()  # workers finish and exit on their own (terminate() would signal them)
        return results
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        _PENDING = ()


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
    key = next(_BACKGROUND_KEYS)
    _BACKGROUND[key] = job  # inherited by the fork, not pickled
    try:
        pool = multiprocessing.get_context("fork").Pool(1, initializer=_default_signals)
    finally:
        del _BACKGROUND[key]
    pending = pool.apply_async(_run_background, (key,))
    pool.close()
    try:
        yield pending.get
    finally:
        if not pending.ready():
            pool.terminate()
        pool.join()


def _run_background(key: int) -> Any:
    return _BACKGROUND[key]()


def _default_signals() -> None:
    """A worker forked from a Dagster step inherits Dagster's interrupt handlers, which raise
    inside the worker instead of letting it stop: restore the defaults."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run_pending(index: int) -> Any:
    return _PENDING[index]()
