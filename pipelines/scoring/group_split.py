"""A large dense grid scored in parts of whole comparison groups, one thread per core.

Most of the array path's work (:mod:`pipelines.scoring.batch`) runs on one core at a time
(numpy, and polars kernels on one chunk): scoring with ``POLARS_MAX_THREADS=1`` was as fast as
with two threads. Parts of whole groups in threads use the cores a single scorer leaves idle,
and give the same frames bit for bit (tests/test_scoring_methods_batch.py).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.parallel import thread_pool, worker_count
from pipelines.scoring.batch import DenseScorer, final_order
from pipelines.scoring.dense import DenseLayout
from pipelines.scoring.methods import MethodSpec

# three methods on two cores, median of 3 (2026-12-04): 99,360 grid rows 0.10 s in one piece,
# 0.12 s split; 260,640 rows 0.27 → 0.24 s; 556,920 rows 0.44 → 0.36 s; 1.3 M rows 0.96 → 0.78 s
SPLIT_MIN_ROWS = 250_000


def group_parts(units: pl.DataFrame, parts: int) -> list[np.ndarray]:
    """The rows of ``units`` in up to ``parts`` sets of whole comparison groups (every year of
    a group in the same set) of about equal size, each set's rows ascending."""
    sizes = units.group_by("group_id").len().sort("group_id", nulls_last=True)
    sizes = sizes.with_columns(
        ((pl.col("len").cum_sum() - pl.col("len")) * parts // max(1, units.height)).alias("part")
    )
    part = (
        units.select("group_id")
        .join(sizes, on="group_id", how="left", nulls_equal=True, maintain_order="left")["part"]
        .to_numpy()
    )
    return [rows for p in range(parts) if (rows := np.flatnonzero(part == p)).size]


class GroupSplitScorer:
    """:class:`DenseScorer` over disjoint sets of whole comparison groups, one thread each,
    their rows joined in the final order.

    Every statistic of the array path (a method's group windows, pooled bounds, the missing
    rule's means, ranks, classes) reads the rows of one comparison group, and a group's rows
    are in the same order in its part as in the whole grid: the same numbers, bit for bit.
    Most of a method's work is single-threaded (numpy, and polars kernels on one chunk), so
    parts in threads use the cores that one scorer leaves idle."""

    def __init__(
        self,
        layout: DenseLayout,
        framework: Framework,
        reading: str | None,
        part_rows: list[np.ndarray],
    ) -> None:
        self.scorers = [
            DenseScorer(layout.subset(rows), framework, reading, threads=1) for rows in part_rows
        ]
        # the final order (year, group, unit) as runs of consecutive units of one part: each
        # part's frame is in the same order, so each run is the next slice of its part's rows
        part_of = np.empty(layout.units.height, dtype=np.int64)
        for p, rows in enumerate(part_rows):
            part_of[rows] = p
        sequence = part_of[final_order(layout.units)]
        starts = np.flatnonzero(np.diff(sequence, prepend=-1))
        lengths = np.diff(starts, append=sequence.size)
        n_nodes = len(self.scorers[0].tree.nodes)
        taken = [0] * len(part_rows)
        self.runs: list[tuple[int, int, int]] = []  # (part, first row, rows)
        for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
            p = int(sequence[start])
            self.runs.append((p, taken[p] * n_nodes, length * n_nodes))
            taken[p] += length

    supports = staticmethod(DenseScorer.supports)

    def score(self, spec: MethodSpec, history: pl.DataFrame | None = None) -> pl.DataFrame | None:
        """:meth:`DenseScorer.score` of the whole grid."""
        # the first part on the calling thread and the others on the process's kept threads:
        # each thread that allocates takes a malloc arena of its own, and memory freed in one
        # is not reused by another (an idle calling thread cost ~0.05 GiB of the national
        # peak, new rank threads for every part ~0.1 GiB). The parts rank on their own
        # thread: they submit nothing to the pool they run on.
        own, *others = self.scorers
        pool = thread_pool(len(others))
        # in two steps: no part builds its frame while another still holds the normaliser's
        # full-length temporaries
        theirs = pool.map(lambda scorer: scorer.node_arrays(spec, history), others)
        nodes = [own.node_arrays(spec, history), *theirs]
        if any(arrays is None for arrays in nodes):
            return None
        theirs = pool.map(DenseScorer.frame_of, others, nodes[1:])
        frames = [own.frame_of(nodes[0]), *theirs]
        del nodes
        return pl.concat(
            [frames[p].slice(first, rows) for p, first, rows in self.runs], rechunk=False
        )


def dense_scorer(
    layout: DenseLayout,
    framework: Framework,
    reading: str | None,
    history: pl.DataFrame | None = None,
) -> DenseScorer | GroupSplitScorer:
    """The array scorer of a grid: split by comparison group over the cores
    (:func:`pipelines.parallel.worker_count`; ``DTI_WORKERS=1``: never) when the grid has at
    least ``SPLIT_MIN_ROWS`` rows and no other years' values are read (those are matched by
    group text, outside the parts)."""
    parts = worker_count()
    if (
        parts > 1
        and layout.values.len() >= SPLIT_MIN_ROWS
        and (history is None or history.is_empty())
    ):
        part_rows = group_parts(layout.units, parts)
        if len(part_rows) > 1:
            return GroupSplitScorer(layout, framework, reading, part_rows)
    return DenseScorer(layout, framework, reading, threads=min(2, parts))
