"""Vietnamese wording and number format for what people read (reports, CLI summaries)."""

from __future__ import annotations

LEVEL_NAMES = {
    "department": "Cấp sở (sở, ban, ngành)",
    "district": "Cấp huyện",
    "commune": "Cấp xã",
    "province": "Cấp tỉnh",
}

METHOD_NAMES = {
    "points": "Chấm điểm theo thang điểm (rubric)",
    "minmax": "Chuẩn hóa Min-Max",
    "zscore": "Chuẩn hóa Z-Score (Φ(z) × điểm tối đa)",
}


def vn_number(value: float | None, decimals: int = 2) -> str:
    """Vietnamese format: ``.`` groups thousands, ``,`` marks decimals (1.234,56)."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
