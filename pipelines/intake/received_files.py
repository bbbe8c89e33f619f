"""The files received: which files under the inbox are submissions and in what order they arrived,
the name messages give them, and their untouched copy in the archive (kept forever)."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

MAX_ARCHIVE_SUFFIX = 10
SYSTEM_FILES = ("thumbs.db", "desktop.ini")


def archive_suffix(path: Path) -> str:
    """The archived copy's extension: the file's own, lower-case, when it is a short plain one
    (``.xlsx``, ``.csv``, ``.pdf``); none otherwise (a name is no place for 200 bytes of it)."""
    suffix = unicodedata.normalize("NFC", path.suffix.lower())
    if 1 < len(suffix) <= MAX_ARCHIVE_SUFFIX and suffix[1:].isascii() and suffix[1:].isalnum():
        return suffix
    return ""


def archive_file(path: Path, archive: Path, digest: str) -> Path:
    """Copy the file, untouched, to ``archive/<sha[:2]>/<sha><suffix>`` (kept forever)."""
    target = archive / digest[:2] / f"{digest}{archive_suffix(path)}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)
    return target


def arrival_key(path: Path) -> tuple[int, str]:
    """The order files of one pass are numbered in: modification time, then path (a file whose
    time cannot be read comes first; it is refused when it is read)."""
    return (mtime_ns(path), str(path))


def is_submission_candidate(path: Path) -> bool:
    """Every file under the inbox is answered, whatever its type (a type the intake does not
    read is refused, :mod:`pipelines.intake.submission_types`), except what the operating system or
    Excel leave beside the files: hidden files (``.DS_Store``), Excel's lock files (``~$…``),
    ``Thumbs.db`` and ``desktop.ini``."""
    name = path.name
    return not (name.startswith((".", "~$")) or name.lower() in SYSTEM_FILES)


def submission_files(inbox: Path, year: int) -> list[Path]:
    """The files for ``year``: everything under ``inbox/<year>/`` (:func:`is_submission_candidate`),
    in arrival order (:func:`arrival_key`)."""
    folder = inbox / str(year)
    if not folder.exists():
        return []
    found = [p for p in folder.rglob("*") if p.is_file() and is_submission_candidate(p)]
    return sorted(found, key=arrival_key)


def mtime_ns(path: Path) -> int:
    """The file's modification time in nanoseconds; 0 when it cannot be read."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def display_name(path: Path) -> str:
    """The file's name as messages and the warehouse give it: NFC (a Mac sends NFD names), and
    valid text even when the name's bytes are not UTF-8."""
    name = path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return unicodedata.normalize("NFC", name)
