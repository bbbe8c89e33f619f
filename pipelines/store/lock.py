"""One writing process at a time on the warehouse file, whatever schedules the processes.

DuckDB lets one process open a database file for writing; a second one fails ("Could not set
lock on file"). Dagster's pool (``dti_warehouse``, one slot) keeps warehouse steps apart, but
it is a scheduler, not a lock: with Postgres storage, dagster 1.13's slot claim selects a free
slot ``FOR UPDATE`` on an autocommit connection and then updates it without checking it is
still free, so two runs that claim at the same moment can both get the one slot (seen in the
six-run backfill test: two ``reference_data`` steps started together). The connection
``dagster_duckdb`` opens retries for a few seconds, which hides a short collision and not a
long one.

So every read-write session of the warehouse (:func:`pipelines.store.warehouse.session`, the Dagster
``Warehouse`` resource) holds an exclusive ``flock`` on ``<file>.lock`` (``filelock``'s
:class:`~filelock.FileLock`) for as long as its connection is open, with the holder's pid written
in the file: the operating system serialises the writers, and the pool only saves
them the wait. A process waits for the lock (``DTI_WAREHOUSE_LOCK_TIMEOUT`` seconds, default
1800), then fails with an error naming the file and the process holding it. The lock is
re-entrant within a process (a session opened inside another one does not wait for itself)
and released by the kernel if its process dies. POSIX only, as the deployment is (Linux).

``DTI_WAREHOUSE_LOCK_LOG=<file>`` appends one line per session — pid, when the lock was
acquired and released (``time.monotonic_ns``, one clock for every process of the host) — for
an audit of who held the warehouse, and for the backfill test.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

TIMEOUT_ENV = "DTI_WAREHOUSE_LOCK_TIMEOUT"
LOG_ENV = "DTI_WAREHOUSE_LOCK_LOG"
DEFAULT_TIMEOUT = 1800.0
_POLL = 0.05

# One lock object per lock file and process. Its state is per thread (``thread_local``): a
# session inside a session of the same thread does not wait for itself, another thread opens the
# file again and waits like any other process (flock locks belong to an open file).
_locks: dict[Path, FileLock] = {}
_locks_guard = threading.Lock()


def _forget_locks() -> None:
    """In a forked child: it holds nothing of its own (and no thread of it holds the guard)."""
    global _locks_guard
    _locks.clear()
    _locks_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_locks)


class WarehouseBusyError(RuntimeError):
    """Another process is writing to the warehouse (and this one will not wait, or no longer)."""


def busy_error(database: Path, holder: str, waited: float | None = None) -> WarehouseBusyError:
    """The one message for a busy warehouse: the file, the writing process and what to do."""
    advice = (
        "run again when it has finished"
        if waited is None
        else f"waited {waited:g} s for it — run again when it has finished, or wait longer "
        f"with {TIMEOUT_ENV}"
    )
    return WarehouseBusyError(
        f"{database}: another process (pid {holder}) is writing to the warehouse; {advice}"
    )


def lock_path(database: Path) -> Path:
    """``<database>.lock``, beside the warehouse file."""
    return database.with_name(database.name + ".lock")


def _timeout() -> float:
    configured = os.environ.get(TIMEOUT_ENV, "").strip()
    return float(configured) if configured else DEFAULT_TIMEOUT


def _write_holder(descriptor: int) -> None:
    """Called by the lock on each acquisition: the holder's pid, for a waiting process's error."""
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)


def _lock(path: Path) -> FileLock:
    with _locks_guard:
        lock = _locks.get(path)
        if lock is None:
            lock = FileLock(path, poll_interval=_POLL, on_acquired=_write_holder)
            _locks[path] = lock
        return lock


@contextmanager
def writer_lock(database: str | Path) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block (see the module docstring)."""
    path = lock_path(Path(database).resolve())
    lock = _lock(path)
    if lock.is_locked:  # a session inside a session of this thread: already held
        with lock.acquire(timeout=0):
            yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout = _timeout()
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        holder = path.read_text(encoding="utf-8").strip() if path.exists() else ""
        raise busy_error(path.with_suffix(""), holder or "?", timeout) from None
    acquired = time.monotonic_ns()
    try:
        yield
    finally:
        _audit(acquired)
        lock.release()


def _audit(acquired: int) -> None:
    log = os.environ.get(LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()} {acquired} {time.monotonic_ns()}\n")
