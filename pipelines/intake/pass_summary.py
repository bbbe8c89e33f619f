"""What one ingest pass did (:class:`IngestSummary`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class IngestSummary:
    """What one ingest pass did, for progress output and Dagster metadata: every file seen is
    new (received now) or unchanged (the same bytes were received before); new files refused as
    a whole are named in ``files_refused``, their receipts in ``refused_receipts``."""

    files_seen: int = 0
    files_new: int = 0
    files_unchanged: int = 0
    values_accepted: int = 0
    values_rejected: int = 0
    files_refused: list[str] = field(default_factory=list)
    # "<new file> thay tệp <earlier file> (đơn vị <unit>)": a self-assessment counted instead of
    # the unit's earlier file sent under another name
    replaced_other_name: list[str] = field(default_factory=list)
    submission_ids: list[str] = field(default_factory=list, repr=False)
    receipts: list[Path] = field(default_factory=list, repr=False)
    refused_receipts: list[Path] = field(default_factory=list, repr=False)
    receipt_failures: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict:
        """Plain counts and names (JSON), as the ``raw_submissions`` asset records them."""
        return {
            "files_seen": self.files_seen,
            "files_new": self.files_new,
            "files_unchanged": self.files_unchanged,
            "files_refused": len(self.files_refused),
            "refused_names": self.files_refused[:50],
            "refused_receipts": sorted({str(p.parent) for p in self.refused_receipts}),
            "replaced_other_name": self.replaced_other_name[:50],
            "receipt_failures": self.receipt_failures[:50],
            "values_accepted": self.values_accepted,
            "values_rejected": self.values_rejected,
        }
