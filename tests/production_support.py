"""A throwaway PostgreSQL server for the production Dagster tests.

Debian's PostgreSQL (package ``postgresql``, installed by ``make system-deps``) is started on
127.0.0.1 on a free port, with a fresh data directory under ``/tmp`` and ``trust`` authentication
(loopback only), and removed afterwards. As root the server runs as the ``postgres`` user
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DAGSTER_YAML = REPO / "dagster.yaml"


@dataclass(frozen=True)
class Postgres:
    port: int
    db: str
    user: str = "postgres"
    host: str = "127.0.0.1"

    def env(self) -> dict[str, str]:
        """The variables ``dagster.yaml`` reads."""
        return {
            "DTI_PG_HOST": self.host,
            "DTI_PG_PORT": str(self.port),
            "DTI_PG_USER": self.user,
            "DTI_PG_PASSWORD": "",
            "DTI_PG_DB": self.db,
        }

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg2

        with (
            contextlib.closing(
                psycopg2.connect(
                    host=self.host, port=self.port, user=self.user, dbname=self.db, password=""
                )
            ) as con,
            con.cursor() as cur,
        ):
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def ensure_postgres_installed() -> Path:
    """Debian's PostgreSQL server binaries (``make system-deps`` installs them); the test skips,
    saying why, when they are missing."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip(
            "POSTGRES TESTS SKIPPED – no /usr/lib/postgresql/*/bin/initdb: install Debian's "
            "postgresql (`make system-deps` as root) to run them"
        )
    return bin_dir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def postgres_server(db: str = "dagster") -> Iterator[Postgres]:
    """Start a private PostgreSQL on loopback, create ``db``, stop and delete it afterwards."""
    bin_dir = ensure_postgres_installed()
    root = Path(tempfile.mkdtemp(prefix="dti-pg-"))
    root.chmod(0o755)
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    user: str | None = None
    if os.geteuid() == 0:
        user = "postgres"
        owner = pwd.getpwnam(user)
        for path in (data, sockets):
            path.mkdir()
            os.chown(path, owner.pw_uid, owner.pw_gid)
        log.touch()
        os.chown(log, owner.pw_uid, owner.pw_gid)
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run(list(args), user=user, check=True, capture_output=True, text=True, cwd=root)

    try:
        run(
            str(bin_dir / "initdb"),
            "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
            "-t", "60", "start")  # fmt: skip
        server = Postgres(port=port, db="postgres")
        deadline = time.monotonic() + 30
        while True:
            try:
                server.query("SELECT 1")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{db}"')
        con.close()
        yield Postgres(port=port, db=db)
    finally:
        with contextlib.suppress(Exception):
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def dagster_home(base: Path, prompt_claims: bool = False) -> Path:
    """A ``DAGSTER_HOME`` holding the repository's production ``dagster.yaml``; with
    ``prompt_claims``, its event log storage polls blocked pool claims promptly
    (:mod:`support.prompt_claims`; child processes need ``tests/`` on ``PYTHONPATH``)."""
    home = base / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    if not prompt_claims:
        shutil.copyfile(DAGSTER_YAML, home / "dagster.yaml")
        return home
    import yaml

    settings = yaml.safe_load(DAGSTER_YAML.read_text(encoding="utf-8"))
    storage = settings["event_log_storage"]
    assert storage["class"] == "PostgresEventLogStorage", storage
    storage.update(
        module="support.prompt_claims", **{"class": "PromptClaimsPostgresEventLogStorage"}
    )
    (home / "dagster.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return home


def stop_process_group(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a child started with ``start_new_session=True`` and everything it started."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 15)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait(timeout=10)
