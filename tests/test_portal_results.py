"""What a unit sees of its results: its own points and rank after each update period the officer
released, and the appraiser's adjustments with their reasons once the current state is released;
read from a warehouse the annual job filled (the tiny site), never written."""

from __future__ import annotations

import pytest
from support.portal import YEAR, csrf, make_portal
from support.tiny_site import TinySite, build_tiny_site

from dti_portal.pipeline import load_preset
from pipelines.evaluate.appraisal import differences
from pipelines.store.warehouse import session


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> TinySite:
    return build_tiny_site(tmp_path_factory)


def vn(value: float) -> str:
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def test_a_unit_sees_its_released_results_only(site: TinySite, monkeypatch) -> None:
    monkeypatch.setenv("DTI_WAREHOUSE", str(site.warehouse))
    with session(site.warehouse, read_only=True) as con:
        [(period,)] = con.execute(
            "SELECT max(period) FROM update_periods WHERE year = ?", [YEAR]
        ).fetchall()
        scores = {
            (unit, method): (points, rank)
            for unit, method, points, rank in con.execute(
                "SELECT unit_id, method, points, rank FROM update_period_scores "
                "WHERE year = ? AND period = ?",
                [YEAR, period],
            ).fetchall()
        }
        adjusted = differences(con, load_preset(site.preset), YEAR)
    unit = adjusted["unit_id"][0]  # a unit the appraisal adjusted
    reasons = adjusted.filter(adjusted["unit_id"] == unit)["reason"].to_list()
    others = [r for r in adjusted.filter(adjusted["unit_id"] != unit)["reason"].to_list()
              if r not in reasons]  # fmt: skip
    assert reasons and others  # the tiny site's appraisal adjusts several units
    portal = make_portal()
    client = portal.logged_in(unit)

    home = client.get(f"/unit/{unit}").text
    assert '<strong id="state">Đã thẩm định</strong>' in home  # the warehouse's state of the unit
    before = client.get(f"/unit/{unit}/results").text
    assert "Chưa có đợt cập nhật nào có kết quả" in before
    assert "Kết quả thẩm định chưa được công bố" in before
    assert not any(reason in before for reason in reasons)

    token = csrf(client, f"/unit/{unit}")
    assert (
        client.post("/officer/release", data={"csrf": token, "period": period}).status_code == 403
    )
    officer = portal.logged_in("canbo")
    token = csrf(officer, "/officer")
    wrong = officer.post("/officer/release", data={"csrf": token, "period": period + 1})
    assert wrong.status_code == 422
    done = officer.post("/officer/release", data={"csrf": token, "period": period})
    assert done.status_code == 303

    after = client.get(f"/unit/{unit}/results").text
    points, rank = scores[(unit, "points")]
    assert f"{vn(points)} / " in after and f"<td>{rank}/" in after
    assert all(reason in after for reason in reasons)
    assert not any(reason in after for reason in others)
    assert (
        client.get("/unit/S-B/results" if unit != "S-B" else "/unit/S-A/results").status_code == 403
    )
