"""Accounts: one per unit of a year's registry, one appraiser per level, one officer. A password
is generated, handed out once (in the workbook the officer prints or sends) and stored hashed."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from dti_portal.passwords import hash_password, new_password
from dti_portal.pipeline import LEVEL_NAMES, Preset, units_of_year, write_text_cell
from dti_portal.store import audit, now_text

OFFICER_LOGIN = "canbo"
ROLE_NAMES = {"unit": "Đơn vị", "appraiser": "Thẩm định", "officer": "Cơ quan thường trực"}


def appraiser_login(level: str) -> str:
    """The login of the appraiser of ``level``."""
    return f"thamdinh-{level}"


@dataclass(frozen=True)
class Issued:
    """An account given a new password (shown once)."""

    login: str
    role: str
    unit_id: str | None
    level: str | None
    display_name: str
    password: str


class UnknownAccountError(LookupError):
    """No account of that login may exist for the year."""


def candidate_accounts(preset: Preset, year: int) -> list[dict]:
    """Every account the year calls for: the officer, an appraiser per level, each unit."""
    found = [
        {
            "login": OFFICER_LOGIN,
            "role": "officer",
            "unit_id": None,
            "level": None,
            "display_name": "Cơ quan thường trực",
        }
    ]
    for level in preset.levels:
        found.append(
            {
                "login": appraiser_login(level),
                "role": "appraiser",
                "unit_id": None,
                "level": level,
                "display_name": f"Thẩm định {LEVEL_NAMES.get(level, level).lower()}",
            }
        )
    for unit in units_of_year(preset, year):
        found.append(
            {
                "login": unit["unit_id"],
                "role": "unit",
                "unit_id": unit["unit_id"],
                "level": unit["level"],
                "display_name": unit["name"],
            }
        )
    return found


def issue_accounts(
    con: sqlite3.Connection,
    preset: Preset,
    year: int,
    reset: str | None = None,
    by: str = "dti portal accounts",
) -> list[Issued]:
    """Create the accounts of ``year`` that do not exist yet (existing ones keep their password);
    with ``reset``, give that one account a new password instead. Each is an audit line."""
    candidates = candidate_accounts(preset, year)
    if reset is not None:
        candidates = [c for c in candidates if c["login"] == reset]
        if not candidates:
            raise UnknownAccountError(reset)
    existing = {row[0] for row in con.execute("SELECT login FROM accounts")}
    issued = []
    for account in candidates:
        if reset is None and account["login"] in existing:
            continue
        password = new_password()
        stamp = now_text()
        con.execute(
            "INSERT INTO accounts (login, role, unit_id, level, display_name, password_hash, "
            "created_at, password_set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (login) DO UPDATE SET password_hash = excluded.password_hash, "
            "password_set_at = excluded.password_set_at, display_name = excluded.display_name",
            (
                account["login"],
                account["role"],
                account["unit_id"],
                account["level"],
                account["display_name"],
                hash_password(password),
                stamp,
                stamp,
            ),
        )
        if account["login"] in existing:
            con.execute("DELETE FROM sessions WHERE login = ?", (account["login"],))
        action = "account_reset" if account["login"] in existing else "account_create"
        audit(con, by, None, action, account["login"])
        issued.append(Issued(password=password, **account))
    return issued


def write_accounts_workbook(path: Path, issued: list[Issued], year: int) -> Path:
    """The officer's sheet of logins and initial passwords (every cell written as text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Tài khoản")
    bold = book.add_format({"bold": True})
    write_text_cell(sheet, 0, 0, f"Tài khoản cổng DTI năm {year} – mật khẩu chỉ hiện một lần", bold)
    headers = ("Tên đăng nhập", "Vai trò", "Mã đơn vị", "Cấp", "Tên", "Mật khẩu ban đầu")
    for col, text in enumerate(headers):
        write_text_cell(sheet, 2, col, text, bold)
    for row, account in enumerate(issued, start=3):
        cells = (
            account.login,
            ROLE_NAMES[account.role],
            account.unit_id or "",
            LEVEL_NAMES.get(account.level, account.level or ""),
            account.display_name,
            account.password,
        )
        for col, text in enumerate(cells):
            write_text_cell(sheet, row, col, text)
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 3, 16)
    sheet.set_column(4, 4, 40)
    sheet.set_column(5, 5, 20)
    book.close()
    path.chmod(0o600)  # the passwords: for the officer's eyes only
    return path
