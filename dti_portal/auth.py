"""Who is asking: logins (rate-limited per account and per address), server-side sessions named
by a signed cookie, CSRF tokens, and the roles' rights."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import sqlite3
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from dti_portal.passwords import password_matches
from dti_portal.store import now_text

SESSION_COOKIE = "dti_session"
LOGIN_COOKIE = "dti_login_csrf"
SESSION_HOURS = 8
WINDOW_MINUTES = 15
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


@dataclass(frozen=True)
class User:
    """The account behind a request's session."""

    login: str
    role: str  # unit | appraiser | officer
    unit_id: str | None
    level: str | None
    display_name: str
    session_id: str
    csrf_token: str

    def may_see_unit(self, unit_id: str, level: str) -> bool:
        """A unit sees only itself; an appraiser the units of its level; the officer every unit."""
        if self.role == "officer":
            return True
        if self.role == "appraiser":
            return level == self.level
        return unit_id == self.unit_id


class Signer:
    """Signs and checks the cookies' values with the portal's secret."""

    def __init__(self, secret: str) -> None:
        self.sessions = URLSafeTimedSerializer(secret, salt="dti-portal-session")
        self.login_forms = URLSafeTimedSerializer(secret, salt="dti-portal-login-form")

    def session_cookie(self, session_id: str) -> str:
        return self.sessions.dumps(session_id)

    def session_id(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self.sessions.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return None

    def login_cookie(self, token: str) -> str:
        return self.login_forms.dumps(token)

    def login_token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self.login_forms.loads(cookie, max_age=3600)
        except BadSignature:
            return None


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def _since(minutes: int) -> str:
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=minutes)
    return moment.isoformat()


def is_rate_limited(con: sqlite3.Connection, login: str, address: str) -> bool:
    """Too many failed logins lately for this account or from this address."""
    since = _since(WINDOW_MINUTES)

    def failures(kind: str, key: str) -> int:
        return con.execute(
            "SELECT count(*) FROM login_attempts WHERE kind = ? AND key = ? AND at >= ?",
            (kind, key, since),
        ).fetchone()[0]

    return (
        failures("account", login) >= MAX_FAILURES_PER_ACCOUNT
        or failures("address", address) >= MAX_FAILURES_PER_ADDRESS
    )


def record_failure(con: sqlite3.Connection, login: str, address: str) -> None:
    """One failed login, counted against the account and the address."""
    at = now_text()
    con.execute("INSERT INTO login_attempts VALUES ('account', ?, ?)", (login, at))
    con.execute("INSERT INTO login_attempts VALUES ('address', ?, ?)", (address, at))
    con.execute("DELETE FROM login_attempts WHERE at < ?", (_since(24 * 60),))


def check_password(con: sqlite3.Connection, login: str, password: str) -> sqlite3.Row | None:
    """The enabled account whose password this is, or None."""
    row = con.execute(
        "SELECT * FROM accounts WHERE login = ? AND disabled = 0", (login,)
    ).fetchone()
    if password_matches(row["password_hash"] if row else None, password):
        return row
    return None


def open_session(con: sqlite3.Connection, login: str) -> str:
    """A new session for ``login``: its id (random, 256 bits) and its own CSRF token."""
    con.execute("DELETE FROM sessions WHERE expires_at <= ?", (now_text(),))
    session_id = secrets.token_urlsafe(32)
    expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=SESSION_HOURS)
    con.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
        (session_id, login, secrets.token_urlsafe(32), now_text(), expires.isoformat()),
    )
    return session_id


def session_user(con: sqlite3.Connection, session_id: str | None) -> User | None:
    """The user of an unexpired session of an enabled account."""
    if not session_id:
        return None
    row = con.execute(
        "SELECT s.session_id, s.csrf_token, a.* FROM sessions s JOIN accounts a USING (login) "
        "WHERE s.session_id = ? AND s.expires_at > ? AND a.disabled = 0",
        (session_id, now_text()),
    ).fetchone()
    if row is None:
        return None
    return User(
        login=row["login"],
        role=row["role"],
        unit_id=row["unit_id"],
        level=row["level"],
        display_name=row["display_name"],
        session_id=row["session_id"],
        csrf_token=row["csrf_token"],
    )


def close_session(con: sqlite3.Connection, session_id: str) -> None:
    con.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))
