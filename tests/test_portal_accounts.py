"""Accounts and the signing secret: one account per unit of the year (plus the officer and an
appraiser per level), passwords handed out once and stored hashed, a reset that closes the
account's sessions, the secret file readable by its owner only."""

from __future__ import annotations

import os
import sqlite3

import openpyxl
import pytest
from click.testing import CliRunner
from support.portal import TINY, YEAR, log_in, make_portal

from dti_cli.main import cli
from dti_portal.accounts import UnknownAccountError, issue_accounts
from dti_portal.pipeline import load_preset
from dti_portal.secret import SecretError, load_secret, secret_path
from dti_portal.store import connect, store_path


def test_accounts_are_issued_once_and_a_reset_replaces_one_password() -> None:
    portal = make_portal()
    units = {"S-A", "S-B", "S-C", "S-D", "X-1", "X-2", "X-3", "X-4", "X-5"}
    assert set(portal.passwords) == {"canbo", "thamdinh-department", "thamdinh-commune", *units}
    client = portal.logged_in("X-1")
    preset = load_preset(TINY)
    with connect() as con:
        assert issue_accounts(con, preset, YEAR) == []  # nobody's password changes
        [issued] = issue_accounts(con, preset, YEAR, reset="X-1")
        with pytest.raises(UnknownAccountError):
            issue_accounts(con, preset, YEAR, reset="X-99")
    assert issued.password != portal.passwords["X-1"]
    assert client.get("/unit/X-1").status_code == 303  # the reset closed the open session
    assert log_in(portal.client(), "X-1", portal.passwords["X-1"]).status_code == 401
    assert log_in(portal.client(), "X-1", issued.password).status_code == 303
    con = sqlite3.connect(store_path())
    actions = [r[0] for r in con.execute("SELECT action FROM audit_log WHERE target = 'X-1'")]
    con.close()
    assert actions.count("account_create") == 1 and actions.count("account_reset") == 1


def test_the_accounts_command_writes_the_passwords_once_to_a_private_sheet(tmp_path) -> None:
    out = tmp_path / "tai-khoan.xlsx"
    runner = CliRunner()
    args = ["portal", "accounts", "--preset", TINY, "--year", str(YEAR), "--out", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    rows = list(openpyxl.load_workbook(out).active.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 12 and all(len(row[5]) == 14 for row in rows)
    again = runner.invoke(cli, args)  # the sheet is never overwritten
    assert again.exit_code == 2 and "đã có" in again.output
    other = tmp_path / "lan-2.xlsx"
    result = runner.invoke(cli, [*args[:-1], str(other)])
    assert result.exit_code == 0 and not other.exists()  # nothing new to hand out
    assert "không cấp mới" in result.output


def test_the_secret_is_a_private_file_or_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("DTI_PORTAL_SECRET", raising=False)
    first = load_secret()
    assert secret_path().stat().st_mode & 0o777 == 0o600
    assert load_secret() == first and len(first) >= 32
    os.chmod(secret_path(), 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        load_secret()
    monkeypatch.setenv("DTI_PORTAL_SECRET", "s" * 40)
    assert load_secret() == "s" * 40
    monkeypatch.setenv("DTI_PORTAL_SECRET", "short")
    with pytest.raises(SecretError):
        load_secret()


def test_a_rotated_secret_logs_everyone_out() -> None:
    from starlette.testclient import TestClient

    from dti_portal.app import PortalConfig, create_app

    portal = make_portal()
    client = portal.logged_in("X-1")
    rotated = TestClient(
        create_app(PortalConfig(portal.preset, YEAR, "another-secret-" + "y" * 40)),
        follow_redirects=False,
    )
    rotated.cookies = client.cookies
    assert client.get("/unit/X-1").status_code == 200
    assert rotated.get("/unit/X-1").status_code == 303


def test_a_user_changes_its_password_and_its_other_sessions_close() -> None:
    from support.portal import csrf

    portal = make_portal()
    other = portal.logged_in("X-4")
    client = portal.logged_in("X-4")
    token = csrf(client, "/account/password")
    old = portal.passwords["X-4"]
    form = {"csrf": token, "current": old, "new": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"}
    assert client.post("/account/password", data={**form, "csrf": ""}).status_code == 403
    assert client.post("/account/password", data={**form, "current": "sai"}).status_code == 403
    assert client.post("/account/password", data={**form, "new": "ngan"}).status_code == 422
    assert client.post("/account/password", data={**form, "confirm": "khac"}).status_code == 422
    done = client.post("/account/password", data=form)
    assert done.status_code == 200 and "Đã đổi mật khẩu" in done.text
    assert client.get("/unit/X-4").status_code == 200  # this session stays
    assert other.get("/unit/X-4").status_code == 303  # the other one is closed
    assert log_in(portal.client(), "X-4", old).status_code == 401
    assert log_in(portal.client(), "X-4", "mat-khau-moi-1").status_code == 303
