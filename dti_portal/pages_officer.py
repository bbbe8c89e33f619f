"""The officer's pages: the board of every unit and its export, the deadline, releasing the
latest update period to the units."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import xlsxwriter
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dti_portal import results
from dti_portal.pipeline import LEVEL_NAMES, write_text_cell
from dti_portal.store import audit, connect
from dti_portal.web import STATUS_NAMES, XLSX, Portal


def routes(portal: Portal) -> list[Route]:
    """These pages, bound to ``portal``."""
    page = portal.page
    need_user = portal.need_user
    checked_form = portal.checked_form
    address = portal.address
    deadline = portal.deadline
    released_period = portal.released_period
    preset = portal.preset
    year = portal.year
    registry = portal.registry

    def board_rows() -> list[dict]:
        states = results.submission_states(year)
        with connect() as con:
            portal = {
                row["unit_id"]: row["status"]
                for row in con.execute(
                    "SELECT unit_id, status FROM portal_submissions WHERE year = ? AND "
                    "kind = 'self' ORDER BY received_at",
                    (year,),
                )
            }
        rows = []
        for unit in registry.values():
            state = states.get(unit["unit_id"])
            if state is None:
                sent = portal.get(unit["unit_id"])
                if sent is None:
                    state = "missing"
                elif sent.startswith("not_landed"):
                    state = "refused"
                else:
                    state = "landed"
            rows.append({**unit, "state": state})
        return sorted(rows, key=lambda r: (list(preset.levels).index(r["level"]), r["unit_id"]))

    async def officer(request: Request) -> Response:
        user = need_user(request, "officer")
        rows = await run_in_threadpool(board_rows)
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            per_level = counts.setdefault(row["level"], {})
            per_level[row["state"]] = per_level.get(row["state"], 0) + 1
        latest = await run_in_threadpool(results.latest_period, year)
        return page(
            request,
            "officer.html",
            user=user,
            rows=rows,
            counts=counts,
            deadline=deadline(),
            latest=latest,
            released=released_period(),
        )

    async def officer_release(request: Request) -> Response:
        user = need_user(request, "officer")
        form = await checked_form(request, user)
        latest = await run_in_threadpool(results.latest_period, year)
        period = str(form.get("period", ""))
        if latest is None or period != str(latest["period"]):
            raise HTTPException(422, "Chỉ công bố được đợt cập nhật mới nhất")
        with connect() as con:
            con.execute(
                "INSERT OR IGNORE INTO released_periods VALUES (?, ?, ?, datetime('now'))",
                (year, latest["period"], user.login),
            )
            audit(con, user.login, address(request), "period_release", f"{year}/{period}")
        return RedirectResponse("/officer", status_code=303)

    async def officer_export(request: Request) -> Response:
        user = need_user(request, "officer")
        rows = await run_in_threadpool(board_rows)
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = book.add_worksheet("Tình hình nộp")
        write_text_cell(sheet, 0, 0, f"Tình hình nộp số liệu DTI năm {year}")
        due = deadline()
        if due:
            write_text_cell(sheet, 1, 0, f"Hạn nộp: {due['due_date']} ({due['source']})")
        for col, text in enumerate(("Cấp", "Mã đơn vị", "Tên đơn vị", "Tình trạng")):
            write_text_cell(sheet, 3, col, text)
        for i, row in enumerate(rows, start=4):
            for col, text in enumerate(
                (
                    LEVEL_NAMES.get(row["level"], row["level"]),
                    row["unit_id"],
                    row["name"],
                    STATUS_NAMES[row["state"]],
                )
            ):
                write_text_cell(sheet, i, col, text)
        book.close()
        with connect() as con:
            audit(con, user.login, address(request), "board_export", str(year))
        return Response(
            buffer.getvalue(),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="tinh-hinh-nop-{year}.xlsx"'},
        )

    async def officer_deadline(request: Request) -> Response:
        user = need_user(request, "officer")
        form = await checked_form(request, user)
        due, source = str(form.get("due_date", "")).strip(), str(form.get("source", "")).strip()
        try:
            dt.date.fromisoformat(due)
        except ValueError as exc:
            raise HTTPException(422, "Ngày không hợp lệ (YYYY-MM-DD)") from exc
        if not source:
            raise HTTPException(422, "Cần ghi căn cứ (văn bản quy định hạn nộp)")
        with connect() as con:
            con.execute(
                "INSERT INTO deadlines VALUES (?, ?, ?, ?, datetime('now')) ON CONFLICT (year) "
                "DO UPDATE SET due_date = excluded.due_date, source = excluded.source, "
                "set_by = excluded.set_by, set_at = excluded.set_at",
                (year, due, source[:300], user.login),
            )
            audit(
                con,
                user.login,
                address(request),
                "deadline_set",
                str(year),
                hashlib.sha256(f"{due}|{source}".encode()).hexdigest(),
            )
        return RedirectResponse("/officer", status_code=303)

    return [
        Route("/officer", officer),
        Route("/officer/board.xlsx", officer_export),
        Route("/officer/deadline", officer_deadline, methods=["POST"]),
        Route("/officer/release", officer_release, methods=["POST"]),
    ]
