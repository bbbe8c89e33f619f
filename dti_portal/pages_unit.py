"""A unit's pages: its year and deadline, its template, uploading it filled or filling it in
online (one page per pillar), the receipt, and its released results. Whatever it sends is read
by the inbox's reader in a dry run and, when accepted, landed in the inbox."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dti_portal import results
from dti_portal.auth import User
from dti_portal.online_entry import (
    CellEntry,
    all_entries,
    filled_workbook,
    load_drafts,
    read_entry,
    save_drafts,
)
from dti_portal.pipeline import (
    dry_run,
    land_in_inbox,
    pillars,
    received_now,
    template_bytes,
    unit_label,
)
from dti_portal.store import audit, connect
from dti_portal.upload_check import MAX_UPLOAD_BYTES, UploadRefused, check_upload
from dti_portal.web import SAFE_ID, XLSX, Portal


def routes(portal: Portal) -> list[Route]:
    """These pages, bound to ``portal``."""
    page = portal.page
    need_user = portal.need_user
    unit_for = portal.unit_for
    checked_form = portal.checked_form
    address = portal.address
    deadline = portal.deadline
    released_period = portal.released_period
    preset = portal.preset
    year = portal.year

    def unit_history(unit_id: str) -> list[dict]:
        with connect() as con:
            rows = con.execute(
                "SELECT * FROM portal_submissions WHERE unit_id = ? AND year = ? "
                "ORDER BY received_at DESC",
                (unit_id, year),
            ).fetchall()
        return [dict(r) for r in rows]

    async def received(request: Request, user, unit: dict, content: bytes, via: str) -> Response:
        """``content`` (an upload, or the online form's workbook) read by the inbox's reader and
        landed when accepted: the receipt page."""
        outcome, problems, landed = await run_in_threadpool(
            receive, user, unit, content, via, address(request)
        )
        return page(
            request,
            "receipt.html",
            user=user,
            unit=unit,
            refused=None,
            outcome=outcome,
            problems=problems,
            landed=landed,
        )

    async def unit_home(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        framework = preset.framework(unit["level"])
        states = await run_in_threadpool(results.submission_states, year)
        return page(
            request,
            "unit.html",
            user=user,
            unit=unit,
            state=states.get(unit["unit_id"]),
            deadline=deadline(),
            pillars=[(p, len(leaves)) for p, leaves in pillars(framework)],
            history=unit_history(unit["unit_id"]),
            max_upload=MAX_UPLOAD_BYTES,
        )

    async def unit_template(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        content = await run_in_threadpool(template_bytes, preset, unit, year)
        return Response(
            content,
            media_type=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="DTI_{year}_'
                f'{SAFE_ID.sub("_", unit["unit_id"])}.xlsx"'
            },
        )

    def receive(user: User, unit: dict, content: bytes, via: str, where: str):
        """Dry-run ``content`` as the inbox would, land it when the rules say so; audited."""
        sha = hashlib.sha256(content).hexdigest()
        received = received_now()
        stamp = received.strftime("%Y%m%dT%H%M%SZ")
        safe_unit = SAFE_ID.sub("_", unit["unit_id"])
        name = f"DTI_{year}_{safe_unit}_{stamp}_{sha[:8]}.xlsx"
        with tempfile.TemporaryDirectory(prefix="dti-portal-") as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            outcome = dry_run(preset, path, year, name, sha, received, results.next_received_seq())
        problems = []
        if outcome.kind != "self" and outcome.status != "refused":
            problems.append("tệp không phải tệp tự đánh giá")
        if outcome.status != "refused" and outcome.unit_id != unit["unit_id"]:
            problems.append(
                f"tệp là của đơn vị {outcome.unit_id}, không phải {unit['unit_id']}: "
                "tải mẫu của chính đơn vị"
            )
        land = outcome.status != "refused" and not problems
        if via == "online":
            land = land and not outcome.refusals
        landed = None
        if land:
            landed = land_in_inbox(content, year, f"portal/{unit['level']}", name, received)
        status = outcome.status if not problems else "refused"
        with connect() as con:
            con.execute(
                "INSERT INTO portal_submissions VALUES (?, ?, ?, ?, 'self', ?, ?, ?, ?, "
                "datetime('now'))",
                (
                    sha,
                    year,
                    unit["level"],
                    unit["unit_id"],
                    user.login,
                    via,
                    status if land else f"not_landed:{status}",
                    str(landed) if landed else None,
                ),
            )
            audit(
                con,
                user.login,
                where,
                f"submit_{via}",
                unit["unit_id"],
                sha,
                f"{status}; {'inbox ' + str(landed) if landed else 'không đưa vào hộp thư'}",
            )
        return outcome, problems, landed

    async def unit_upload(request: Request) -> Response:
        user = need_user(request, "unit", "officer")  # the officer may upload a mailed workbook
        unit = unit_for(user, request.path_params["unit_id"])
        form = await checked_form(request, user)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(400, "Chưa chọn tệp")
        content = await upload.read(MAX_UPLOAD_BYTES + 1)
        await upload.close()
        try:
            check_upload(content)
        except UploadRefused as refusal:
            with connect() as con:
                audit(
                    con,
                    user.login,
                    address(request),
                    "upload_refused",
                    unit["unit_id"],
                    hashlib.sha256(content).hexdigest(),
                    str(refusal),
                )
            status = 413 if len(content) > MAX_UPLOAD_BYTES else 422
            return page(
                request,
                "receipt.html",
                status=status,
                user=user,
                unit=unit,
                refused=str(refusal),
                outcome=None,
                problems=[],
                landed=None,
            )
        return await received(request, user, unit, content, "upload")

    def pillar_of(unit: dict, pillar_id: str):
        for pillar, leaves in pillars(preset.framework(unit["level"])):
            if pillar.id == pillar_id:
                return pillar, leaves
        raise HTTPException(404, "Không có chỉ số chính này")

    async def unit_fill(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        if user.role != "unit":
            raise HTTPException(403, "Chỉ đơn vị nhập số liệu của mình")
        pillar, leaves = pillar_of(unit, request.path_params["pillar_id"])
        saved = False
        if request.method == "POST":
            form = await checked_form(request, user)
            entries = {
                node.id: read_entry(
                    node,
                    str(form.get(f"value-{node.id}", "")),
                    str(form.get(f"points-{node.id}", "")),
                    str(form.get(f"evidence-{node.id}", "")),
                )
                for node in leaves
            }
            with connect() as con:
                save_drafts(con, unit["unit_id"], year, entries)
                audit(
                    con,
                    user.login,
                    address(request),
                    "draft_save",
                    f"{unit['unit_id']}/{pillar.id}",
                    _entries_sha(entries),
                )
            saved = True
        else:
            with connect() as con:
                drafts = load_drafts(con, unit["unit_id"], year)
            entries = {
                k: v
                for k, v in all_entries(preset, unit, drafts).items()
                if k in {n.id for n in leaves}
            }
        all_pillars = pillars(preset.framework(unit["level"]))
        return page(
            request,
            "fill.html",
            user=user,
            unit=unit,
            pillar=pillar,
            leaves=leaves,
            entries=entries,
            saved=saved,
            unit_label=unit_label,
            all_pillars=[p for p, _ in all_pillars],
            errors=any(e.has_error for e in entries.values()),
        )

    async def unit_submit(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        if user.role != "unit":
            raise HTTPException(403, "Chỉ đơn vị nộp số liệu của mình")
        await checked_form(request, user)
        with connect() as con:
            drafts = load_drafts(con, unit["unit_id"], year)
        entries = all_entries(preset, unit, drafts)
        bad = {k: e for k, e in entries.items() if e.has_error}
        if bad:
            return page(
                request,
                "receipt.html",
                status=422,
                user=user,
                unit=unit,
                refused="Còn ô nhập chưa hợp lệ: "
                + ", ".join(
                    f"{k} ({e.value_error or e.points_error or e.evidence_error})"
                    for k, e in bad.items()
                ),
                outcome=None,
                problems=[],
                landed=None,
            )
        content = await run_in_threadpool(filled_workbook, preset, unit, year, entries)
        return await received(request, user, unit, content, "online")

    async def unit_results(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        released = released_period()
        periods = await run_in_threadpool(results.unit_periods, year, unit["unit_id"], released)
        latest = await run_in_threadpool(results.latest_period, year)
        # the adjustments are the warehouse's current state: shown once that state is released
        current = latest is not None and released >= latest["period"]
        adjustments = (
            await run_in_threadpool(results.unit_adjustments, preset, year, unit["unit_id"])
            if current
            else []
        )
        return page(
            request,
            "results.html",
            user=user,
            unit=unit,
            periods=periods,
            adjustments=adjustments,
            released=released,
            current=current,
        )

    return [
        Route("/unit/{unit_id}", unit_home),
        Route("/unit/{unit_id}/template.xlsx", unit_template),
        Route("/unit/{unit_id}/upload", unit_upload, methods=["POST"]),
        Route("/unit/{unit_id}/fill/{pillar_id}", unit_fill, methods=["GET", "POST"]),
        Route("/unit/{unit_id}/submit", unit_submit, methods=["POST"]),
        Route("/unit/{unit_id}/results", unit_results),
    ]


def _entries_sha(entries: dict[str, CellEntry]) -> str:
    text = "\n".join(
        f"{k}\t{e.value_text}\t{e.points_text}\t{e.evidence}" for k, e in sorted(entries.items())
    )
    return hashlib.sha256(text.encode()).hexdigest()
