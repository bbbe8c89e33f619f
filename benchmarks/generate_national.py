"""A seeded, national-scale synthetic data set for the benchmarks. Everything is
SYNTHETIC: names are generated, commune counts per province are drawn, values are random.

What it writes into ``OUT`` (default ``var/bench/national``):

- ``frameworks/national-commune.yaml`` — a commune framework of 1000 points, 8 pillars and
  **60 components** (Đắk Lắk's commune pillars, widened to 60), every rule kind of the format
  (ratio, steps, yes/no, categorical, relative-to-best, direct points), some lower-is-better;
- ``units/national-communes.csv`` — the registry: the **63 provinces' 10,000 communes** valid
  2020–2024 (before the reform of 1 July 2025) and the **34 provinces' 3,321 communes** valid
  from 2025, each commune under its province (the comparison group);
- ``lineage/communes-2025.csv`` — predecessor → successor links of the 2025 merger;
- ``presets/national-commune.yaml`` — a preset over the above (2020–2025, three methods);
- ``values.parquet`` — ``unit_id, year, node_id, value`` for **10,000 units × 60 components ×
  6 years** (2020–2025; the pre-reform communes, as the national DTI 2024 was computed for the old
  units too), about 3 % missing;
- ``values_2025.parquet`` — the **3,321 communes** of the 34 provinces in 2025 × 60 components.

Same seed → same files. ``python benchmarks/generate_national.py [--out DIR] [--seed N]``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "var" / "bench" / "national"
SEED = 2025
YEARS = list(range(2020, 2026))
OLD_PROVINCES, OLD_COMMUNES = 63, 10_000  # before 1 July 2025
NEW_PROVINCES, NEW_COMMUNES = 34, 3_321  # after (Resolution 202/2025/QH15)
MISSING_SHARE = 0.03

# The 34 provinces and cities from 1 July 2025 (names only; counts below are drawn, not real).
NEW_PROVINCE_NAMES = (
    "Hà Nội", "Huế", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa",
    "Nghệ An", "Hà Tĩnh", "Cao Bằng", "Tuyên Quang", "Lào Cai", "Thái Nguyên", "Phú Thọ",
    "Bắc Ninh", "Hưng Yên", "Hải Phòng", "Ninh Bình", "Quảng Trị", "Đà Nẵng", "Quảng Ngãi",
    "Gia Lai", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk", "Thành phố Hồ Chí Minh", "Đồng Nai",
    "Tây Ninh", "Cần Thơ", "Vĩnh Long", "Đồng Tháp", "Cà Mau", "An Giang",
)  # fmt: skip

# Đắk Lắk's commune pillars (2534/QĐ-UBND), widened from 55 to 60 components.
PILLARS = (
    ("G1", "P1", "Nhận thức số", 100, 7),
    ("G1", "P2", "Thể chế số", 100, 6),
    ("G1", "P3", "Hạ tầng số", 100, 12),
    ("G1", "P4", "Nhân lực số", 100, 6),
    ("G1", "P5", "An toàn thông tin mạng", 100, 5),
    ("G2", "P6", "Hoạt động chính quyền số", 200, 12),
    ("G2", "P7", "Hoạt động kinh tế số", 150, 7),
    ("G2", "P8", "Hoạt động xã hội số", 150, 5),
)
GROUPS = {"G1": ("Nhóm chỉ số nền tảng chung", 500), "G2": ("Nhóm chỉ số hoạt động", 500)}
RULE_CYCLE = ("ratio", "steps", "yesno", "relative_best", "categorical", "direct", "ratio_lower")


def split_total(rng: np.random.Generator, total: int, parts: int, spread: float) -> list[int]:
    """``parts`` positive integers summing to ``total``, drawn around the mean."""
    weights = rng.lognormal(0.0, spread, parts)
    raw = weights / weights.sum() * (total - parts)
    counts = np.floor(raw).astype(int) + 1
    for i in np.argsort(raw - np.floor(raw))[::-1][: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def _leaf(node_id: str, points: int, kind: str) -> dict:
    leaf: dict = {"id": node_id, "type": "component", "max_points": points, "source": "assumed"}
    if kind == "ratio":
        leaf.update(
            name=f"Tỷ lệ thực hiện {node_id}", unit="%", percent_scale=100,
            rule={"kind": "ratio", "target": 100},
        )  # fmt: skip
    elif kind == "ratio_lower":
        leaf.update(
            name=f"Thời gian xử lý {node_id}", unit="ngày", direction="lower",
            rule={"kind": "ratio", "target": 2},
        )  # fmt: skip
    elif kind == "steps":
        leaf.update(
            name=f"Số lần thực hiện {node_id}", unit="lần",
            rule={"kind": "steps", "thresholds": [[4, points], [3, points * 0.75],
                                                  [2, points * 0.5], [1, points * 0.25]],
                  "else": 0},
        )  # fmt: skip
    elif kind == "yesno":
        leaf.update(name=f"Có thực hiện {node_id}", unit="có/không", rule={"kind": "yesno"})
    elif kind == "relative_best":
        leaf.update(name=f"Số lượng {node_id}", unit="số lượng", rule={"kind": "relative_best"})
    elif kind == "categorical":
        leaf.update(
            name=f"Mức độ {node_id}", unit="mức",
            rule={"kind": "categorical",
                  "categories": {1: 0, 2: points * 0.5, 3: points * 0.8, 4: points}},
        )  # fmt: skip
    else:
        leaf.update(name=f"Điểm chấm trực tiếp {node_id}", unit="điểm", rule={"kind": "direct"})
    return leaf


def framework_spec() -> dict:
    """The 60-component commune framework (every component marked ``source: assumed``)."""
    groups: dict[str, dict] = {}
    k = 0
    for group_id, pillar_id, name, points, n in PILLARS:
        group = groups.setdefault(
            group_id,
            {
                "id": group_id,
                "type": "group",
                "name": GROUPS[group_id][0],
                "max_points": GROUPS[group_id][1],
                "source": "assumed",
                "children": [],
            },
        )
        base, extra = divmod(points, n)
        leaves = []
        for i in range(n):
            leaves.append(
                _leaf(f"{pillar_id}.{i + 1}", base + (1 if i < extra else 0), RULE_CYCLE[k % 7])
            )
            k += 1
        group["children"].append(
            {
                "id": pillar_id,
                "type": "pillar",
                "name": name,
                "max_points": points,
                "source": "assumed",
                "children": leaves,
            }
        )
    return {
        "framework": {
            "id": "bench-national-commune",
            "version": "BENCH/2025",
            "name": "Bộ chỉ số cấp xã (dữ liệu mô phỏng cho đo hiệu năng)",
            "level": "commune",
            "scale": 1000,
            "source": {"decision": "BENCH/2025", "date": "2025-01-01"},
            "valid_years": {"from": YEARS[0], "to": YEARS[-1]},
            "declared": {"pillars": len(PILLARS), "components": k},
            "notes": ["SYNTHETIC benchmark framework: every component is assumed."],
            "classification": {
                "id": "bands-assumed",
                "source": "assumed",
                "bands": [
                    {"label": "Tốt", "min_ratio": 0.85},
                    {"label": "Khá", "min_ratio": 0.70},
                    {"label": "Trung bình", "min_ratio": 0.50},
                    {"label": "Yếu", "min_ratio": 0.0},
                ],
            },
            "tree": list(groups.values()),
        }
    }


def registry_rows(seed: int) -> tuple[list[dict], list[dict]]:
    """Registry rows (old communes 2020–2024, new ones from 2025) and lineage rows."""
    rng = np.random.default_rng([seed, 1])
    old_counts = split_total(rng, OLD_COMMUNES, OLD_PROVINCES, 0.45)
    new_counts = split_total(rng, NEW_COMMUNES, NEW_PROVINCES, 0.35)
    rows, old_ids, new_ids = [], [], []
    for p, count in enumerate(old_counts, start=1):
        province = f"T{p:02d}"
        rows.append(_unit(province, "province", f"Tỉnh cũ {p:02d}", None, None, 2024))
        for c in range(1, count + 1):
            unit_id = f"{province}-X{c:03d}"
            rows.append(_unit(unit_id, "commune", f"Xã {p:02d}.{c:03d}", province, None, 2024))
            old_ids.append(unit_id)
    for p, (name, count) in enumerate(zip(NEW_PROVINCE_NAMES, new_counts, strict=True), 1):
        province = f"N{p:02d}"
        rows.append(_unit(province, "province", name, None, 2025, None))
        for c in range(1, count + 1):
            unit_id = f"{province}-X{c:03d}"
            rows.append(_unit(unit_id, "commune", f"Xã {name} {c:03d}", province, 2025, None))
            new_ids.append(unit_id)
    # every old commune merges into one new commune; every new one has at least one predecessor
    successor = np.concatenate(
        [np.arange(len(new_ids)), rng.integers(0, len(new_ids), len(old_ids) - len(new_ids))]
    )
    rng.shuffle(successor)
    lineage = [
        {
            "predecessor_id": old,
            "successor_id": new_ids[int(s)],
            "effective_year": 2025,
            "note": "synthetic",
        }
        for old, s in zip(old_ids, successor, strict=True)
    ]
    return rows, lineage


def _unit(unit_id, level, name, parent, valid_from, valid_to) -> dict:
    digest = int(hashlib.sha256(unit_id.encode()).hexdigest()[:4], 16)
    return {
        "unit_id": unit_id,
        "level": level,
        "name": name,
        "short_name": name.split(" ", 1)[-1],
        "parent_id": parent or "",
        "has_dvctt": "true" if digest % 10 else "false",
        "has_subordinates": "false",
        "is_special": "false",
        "name_source": "generated",
        "flags_source": "assumed",
        "valid_from": valid_from or "",
        "valid_to": valid_to or "",
    }


def national_values(spec: dict, unit_ids: list[str], years: list[int], seed: int) -> pl.DataFrame:
    """``unit_id, year, node_id, value`` for every unit, year and leaf (vectorised, seeded)."""
    leaves = [
        leaf
        for group in spec["framework"]["tree"]
        for pillar in group["children"]
        for leaf in pillar["children"]
    ]
    rng = np.random.default_rng([seed, 2])
    n_units, n_leaves, n_years = len(unit_ids), len(leaves), len(years)
    capability = rng.beta(2.2, 2.0, n_units)
    difficulty = rng.uniform(-0.2, 0.2, n_leaves)
    trend = np.linspace(0.0, 0.3, n_years)
    achieved = np.clip(
        0.2
        + 0.45 * capability[:, None, None]
        + trend[None, :, None]
        - difficulty[None, None, :]
        + rng.normal(0.0, 0.1, (n_units, n_years, n_leaves)),
        0.0,
        1.0,
    )
    values = np.empty_like(achieved)
    for j, leaf in enumerate(leaves):
        a = achieved[:, :, j]
        kind = leaf["rule"]["kind"]
        if kind == "ratio" and leaf.get("direction") == "lower":
            values[:, :, j] = np.round(2.0 / np.maximum(a, 0.08), 2)
        elif kind == "ratio":
            values[:, :, j] = np.round(np.minimum(100.0, a * 108.0), 1)
        elif kind == "steps":
            values[:, :, j] = rng.binomial(5, a)
        elif kind == "yesno":
            values[:, :, j] = (rng.random(a.shape) < 0.15 + 0.85 * a).astype(float)
        elif kind == "relative_best":
            values[:, :, j] = np.round(a * 250 * rng.uniform(0.7, 1.3, a.shape))
        elif kind == "categorical":
            values[:, :, j] = np.minimum(4, 1 + np.floor(a * 4))
        else:
            values[:, :, j] = np.round(a * leaf["max_points"], 1)
    values[rng.random(values.shape) < MISSING_SHARE] = np.nan
    frame = pl.DataFrame(
        {
            "unit_id": np.repeat(np.array(unit_ids), n_years * n_leaves),
            "year": np.tile(np.repeat(np.array(years, dtype=np.int32), n_leaves), n_units),
            "node_id": np.tile(np.array([leaf["id"] for leaf in leaves]), n_units * n_years),
            "value": values.reshape(-1),
        }
    )
    return frame.with_columns(pl.col("value").fill_nan(None))


def generate(out: Path = DEFAULT_OUT, seed: int = SEED) -> dict[str, Path]:
    """Write the data set into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    spec = framework_spec()
    paths = {
        "framework": out / "frameworks" / "national-commune.yaml",
        "registry": out / "units" / "national-communes.csv",
        "lineage": out / "lineage" / "communes-2025.csv",
        "preset": out / "presets" / "national-commune.yaml",
        "values": out / "values.parquet",
        "values_2025": out / "values_2025.parquet",
    }
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    paths["framework"].write_text(
        "# SYNTHETIC: generated by benchmarks/generate_national.py\n"
        + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    rows, lineage = registry_rows(seed)
    _write_csv(paths["registry"], rows)
    _write_csv(paths["lineage"], lineage)
    preset = {
        "preset": {
            "id": "bench-national",
            "name": "Toàn quốc (dữ liệu mô phỏng)",
            "units": "units/national-communes.csv",
            "years": {"from": YEARS[0], "to": YEARS[-1]},
            "levels": {
                "commune": {
                    "framework": "frameworks/national-commune.yaml",
                    "comparison_group": "parent",
                }
            },
            "methods": {"computed": ["points", "minmax", "zscore"], "primary": "minmax"},
            "demo": {"seed": seed, "missing_share": MISSING_SHARE, "appraisal_share": 0.1},
        }
    }
    paths["preset"].write_text(yaml.safe_dump(preset, allow_unicode=True), encoding="utf-8")
    old_units = [r["unit_id"] for r in rows if r["level"] == "commune" and r["valid_to"] == 2024]
    national_values(spec, old_units, YEARS, seed).write_parquet(paths["values"])
    new_units = [r["unit_id"] for r in rows if r["level"] == "commune" and r["valid_from"] == 2025]
    national_values(spec, new_units, [2025], seed + 1).write_parquet(paths["values_2025"])
    return paths


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = generate(args.out, args.seed)
    values = pl.scan_parquet(paths["values"]).select(pl.len()).collect().item()
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f}s: {values:,} values")
    for name, path in paths.items():
        print(f"  {name:9} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
