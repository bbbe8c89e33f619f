"""One intake path: what a unit fills in online is the workbook the template writer makes when the
same figures are typed into the template, its receipt is the ingest's, and the ingest reads the
landed file exactly as it reads the same workbook dropped in the inbox. The appraiser's entries
become the appraisal workbook the ingest reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.portal import TINY, YEAR, csrf, make_portal

from dti_portal.receipt_view import receipt_html
from pipelines.framework.preset import load_preset
from pipelines.framework.registry import units_in_year
from pipelines.intake.ingest import ingest_year
from pipelines.intake.receipts import receipt_markdown
from pipelines.paths import archive_dir, dti_home, inbox_dir
from pipelines.store.reference import store_reference
from pipelines.store.warehouse import session
from pipelines.workbook.write import write_unit_workbook

EVIDENCE = "Quyết định 12/QĐ-UBND ngày 3/2/2024"
TYPED = {  # what the unit types, per pillar page
    "P1": {
        "value-P1.1": "85,5",
        "points-P1.1": "20",
        "evidence-P1.1": EVIDENCE,
        "value-P1.2": "Có",
    },
    "P2": {"value-P2.1": "4", "value-P2.2": "1.234,5", "points-P2.2": "7,25"},
}
# the same figures as numbers, as an officer would type them into the template by hand
VALUES = {"P1.1": 85.5, "P1.2": 1.0, "P2.1": 4.0, "P2.2": 1234.5}
POINTS = {"P1.1": 20.0, "P2.2": 7.25}


def fill_online(unit_id: str) -> tuple[str, Path]:
    """Log in as the unit, fill both pillars, submit: the receipt page and the landed file."""
    portal = make_portal()
    client = portal.logged_in(unit_id)
    for pillar, fields in TYPED.items():
        token = csrf(client, f"/unit/{unit_id}/fill/{pillar}")
        saved = client.post(f"/unit/{unit_id}/fill/{pillar}", data={"csrf": token, **fields})
        assert saved.status_code == 200 and "Đã lưu trang này" in saved.text, saved.text
    response = client.post(f"/unit/{unit_id}/submit", data={"csrf": token})
    assert response.status_code == 200, response.text
    [landed] = [p for p in (inbox_dir() / str(YEAR)).rglob("*") if p.is_file()]
    return response.text, landed


def by_hand(unit_id: str, folder: Path) -> Path:
    preset = load_preset(TINY)
    unit = units_in_year(preset.registry, "commune", YEAR).filter(
        units_in_year(preset.registry, "commune", YEAR)["unit_id"] == unit_id
    )
    return write_unit_workbook(
        folder / f"DTI_{YEAR}_{unit_id}.xlsx",
        preset.framework("commune"),
        unit.row(0, named=True),
        YEAR,
        values=VALUES,
        self_points=POINTS,
        evidence={"P1.1": EVIDENCE},
    )


def ingested(inbox: Path, warehouse: Path) -> tuple[list[tuple], list[tuple], str]:
    """Ingest ``inbox`` for the year into ``warehouse`` (after the reference data, as the annual
    job does): submissions, values read, receipt."""
    preset = load_preset(TINY)
    with session(warehouse) as con:
        store_reference(con, preset, YEAR)
        ingest_year(con, preset, YEAR, inbox, archive_dir())
        subs = con.execute(
            "SELECT submission_id, kind, year, level, unit_id, status, n_accepted, n_rejected "
            "FROM submissions ORDER BY submission_id"
        ).fetchall()
        values = con.execute(
            "SELECT unit_id, indicator_id, kind, raw_text, value, evidence, self_points, "
            "sheet, row_number, column_name FROM raw_values ORDER BY indicator_id"
        ).fetchall()
        receipt = receipt_markdown(con, subs[0][0])
    return subs, values, receipt


def without_time(receipt: str) -> str:
    """A receipt without its reception time line (the dry run and the ingest run at other times)."""
    return re.sub(r"\| Nhận lúc \|[^\n]*\n", "", receipt)


def test_an_online_submission_is_the_template_filled_by_hand_and_ingested_alike(
    tmp_path: Path,
) -> None:
    page, landed = fill_online("X-1")
    hand = by_hand("X-1", tmp_path / "hand")
    assert landed.read_bytes() == hand.read_bytes()  # the same workbook, byte for byte
    assert landed.relative_to(inbox_dir()).parts[:3] == (str(YEAR), "portal", "commune")

    portal_subs, portal_values, portal_receipt = ingested(inbox_dir(), dti_home() / "a.duckdb")
    dropped = tmp_path / "inbox"
    (dropped / str(YEAR)).mkdir(parents=True)
    (dropped / str(YEAR) / hand.name).write_bytes(hand.read_bytes())
    hand_subs, hand_values, hand_receipt = ingested(dropped, dti_home() / "b.duckdb")

    assert portal_subs == hand_subs
    assert portal_subs[0][1:7] == ("self", YEAR, "commune", "X-1", "accepted", 4)
    assert portal_values == hand_values
    assert [(v[1], v[4], v[5], v[6]) for v in portal_values] == [
        ("P1.1", 85.5, EVIDENCE, 20.0),
        ("P1.2", 1.0, None, None),
        ("P2.1", 4.0, None, None),
        ("P2.2", 1234.5, None, 7.25),
    ]
    # the receipt shown at once is the one the ingest gives the landed file, to the second
    body = page.split('<div class="receipt" id="receipt">')[1].split("</div>")[0]
    assert body == receipt_html(portal_receipt)
    assert "Tiếp nhận toàn bộ" in body
    assert without_time(portal_receipt).replace(landed.name, hand.name) == without_time(
        hand_receipt
    )


def test_an_invalid_cell_is_named_on_its_page_and_nothing_lands() -> None:
    portal = make_portal()
    client = portal.logged_in("X-2")
    token = csrf(client, "/unit/X-2/fill/P1")
    saved = client.post(
        "/unit/X-2/fill/P1", data={"csrf": token, "value-P1.1": "120", "value-P1.2": "Có"}
    )
    assert "tỷ lệ 120 vượt 100%" in saved.text  # the reader's own message
    saved = client.post("/unit/X-2/fill/P1", data={"csrf": token, "value-P1.1": "1e3"})
    assert "&#39;1e3&#39; không phải là số" in saved.text
    response = client.post("/unit/X-2/submit", data={"csrf": token})
    assert response.status_code == 422
    assert "P1.1" in response.text
    assert not (inbox_dir() / str(YEAR)).exists()


def test_points_above_the_maximum_are_told_by_the_dry_run_and_not_landed() -> None:
    portal = make_portal()
    client = portal.logged_in("X-3")
    token = csrf(client, "/unit/X-3/fill/P1")
    client.post("/unit/X-3/fill/P1", data={"csrf": token, "value-P1.1": "50", "points-P1.1": "99"})
    response = client.post("/unit/X-3/submit", data={"csrf": token})
    assert "invalid_self_points" in response.text and "Tệp chưa được đưa vào xử lý" in response.text
    assert not (inbox_dir() / str(YEAR)).exists()


def test_an_appraisers_entries_become_the_appraisal_workbook_the_ingest_reads() -> None:
    portal = make_portal()
    client = portal.logged_in("thamdinh-commune")
    token = csrf(client, "/appraisal/X-1")
    reason = '=HYPERLINK("http://evil.example","Hồ sơ thiếu")'
    response = client.post(
        "/appraisal/X-1",
        data={"csrf": token, "value-P1.1": "60", "reason-P1.1": reason, "points-P2.1": "10",
              "reason-P2.1": "Chỉ 2 cuộc họp có biên bản"},
    )  # fmt: skip
    assert response.status_code == 200 and "Đã nhận" in response.text, response.text
    [landed] = [p for p in (inbox_dir() / str(YEAR)).rglob("*") if p.is_file()]
    assert landed.name.startswith(f"THAM_DINH_{YEAR}_commune_X-1_")
    with session(dti_home() / "w.duckdb") as con:
        ingest_year(con, load_preset(TINY), YEAR, inbox_dir(), archive_dir())
        value = con.execute(
            "SELECT unit_id, indicator_id, value, reason FROM raw_values WHERE kind = 'appraised'"
        ).fetchall()
        points = con.execute(
            "SELECT unit_id, indicator_id, points, reason FROM appraised_points"
        ).fetchall()
    assert value == [("X-1", "P1.1", 60.0, "'" + reason)]
    assert points == [("X-1", "P2.1", 10.0, "Chỉ 2 cuộc họp có biên bản")]


def test_an_appraisal_without_a_reason_is_refused_and_not_landed() -> None:
    portal = make_portal()
    client = portal.logged_in("thamdinh-commune")
    token = csrf(client, "/appraisal/X-1")
    response = client.post("/appraisal/X-1", data={"csrf": token, "value-P1.1": "60"})
    assert "Chưa đưa vào xử lý" in response.text
    assert not (inbox_dir() / str(YEAR)).exists()


@pytest.mark.parametrize("login", ["X-1"])
def test_the_officer_board_follows_what_units_sent(login: str) -> None:
    import io

    import openpyxl

    portal = make_portal()
    unit = portal.logged_in(login)
    token = csrf(unit, f"/unit/{login}/fill/P1")
    unit.post(f"/unit/{login}/fill/P1", data={"csrf": token, "value-P1.1": "50"})
    assert unit.post(f"/unit/{login}/submit", data={"csrf": token}).status_code == 200
    officer = portal.logged_in("canbo")
    token = csrf(officer, "/officer")
    set_due = officer.post(
        "/officer/deadline",
        data={"csrf": token, "due_date": "2025-01-15", "source": "Công văn 99/SKHCN"},
    )
    assert set_due.status_code == 303
    board = officer.get("/officer").text
    assert "2025-01-15" in board and "Công văn 99/SKHCN" in board
    assert "Đã nộp, chờ xử lý 1" in board and "Chưa nộp 4" in board
    assert "2025-01-15" in unit.get(f"/unit/{login}").text
    export = officer.get("/officer/board.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = {r[1]: r[3] for r in sheet.iter_rows(min_row=5, values_only=True)}
    assert rows[login] == "Đã nộp, chờ xử lý" and rows["X-2"] == "Chưa nộp"
    assert len(rows) == 9
