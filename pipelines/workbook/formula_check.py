"""A formula's stored result against the formula itself, evaluated by the ``formulas`` library.

Excel stores each formula with the result it last calculated, and the reader scores that result.
Any program can write a result that is not the formula's (``=2+3`` stored as 999): Excel would
show 5 as soon as it recalculates, the reader would score 999. So every formula in a cell the
reader takes is evaluated again from the workbook, and a result that differs is refused.

Only workbooks with such formulas pay for it (the templates are filled with plain numbers): the
library is imported on first use, ~0.6 s, and its math functions take ~2.5 s more the first time
one is used in a process.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

# Result of a formula that could not be evaluated (unsupported function, reference to another
# file, circular reference, too many formulas to evaluate): the stored result cannot be checked.
UNCHECKED = object()

# Evaluating a workbook costs time in proportion to its formulas: beyond this many (a filled
# template has none), its formulas are not evaluated and the cells the reader takes are refused.
MAX_EVALUATED_FORMULAS = 2_000

_KEY = re.compile(r"^'?\[[^\]]*\](?P<sheet>.*?)'?!(?P<cell>\$?[A-Z]+\$?\d+)$")


def evaluate_cells(
    path: Path, sheet: str, refs: list[str], n_formulas: int = 0
) -> dict[str, object]:
    """The value each formula cell in ``refs`` (``"G13"``) of ``sheet`` evaluates to, computed
    from the workbook at ``path`` (which holds ``n_formulas`` formulas in all); :data:`UNCHECKED`
    for a cell the library cannot evaluate. A workbook linking to other files is not evaluated
    (the library would open them)."""
    results: dict[str, object] = dict.fromkeys(refs, UNCHECKED)
    if n_formulas > MAX_EVALUATED_FORMULAS or _links_other_files(path):
        return results
    try:
        solution = _solve(path)
    except Exception:
        return results
    wanted = sheet.upper()
    for key, value in solution.items():
        match = _KEY.match(str(key))
        if match is None or match["sheet"].upper() != wanted:
            continue
        ref = match["cell"].replace("$", "")
        if ref in results:
            results[ref] = _scalar(value)
    return results


def _links_other_files(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.startswith("xl/externalLinks/") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return True


def _solve(path: Path) -> dict:
    import formulas  # heavy, and only needed for a workbook holding formulas

    with tempfile.TemporaryDirectory() as folder:
        # a fixed name: the library reads the file name as part of its cell references
        copy = Path(folder) / "book.xlsx"
        shutil.copyfile(path, copy)
        quiet = io.StringIO()
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stderr(quiet),
            contextlib.redirect_stdout(quiet),
        ):
            warnings.simplefilter("ignore")
            model = formulas.ExcelModel().loads(str(copy)).finish()
            return dict(model.calculate())


def _scalar(value: object) -> object:
    """One cell's value out of the library's range object: a number, text, bool, an Excel error
    as its text (``#DIV/0!``), 0 for an empty cell (as Excel shows ``=A1`` of an empty A1)."""
    inner = getattr(value, "value", value)
    try:
        while not isinstance(inner, str) and hasattr(inner, "__len__"):
            if len(inner) != 1:
                return UNCHECKED
            inner = inner[0]
    except TypeError:
        return UNCHECKED
    if inner is None or (type(inner).__name__ == "Token" and str(inner) == "empty"):
        return 0
    if hasattr(inner, "item"):  # numpy scalar
        inner = inner.item()
    if type(inner).__name__ == "XlError":
        return str(inner)
    if isinstance(inner, bool | int | float | str):
        return inner
    text = str(inner)
    return 0 if text == "empty" else UNCHECKED


def same_result(stored: object, computed: object) -> bool:
    """The stored result is the formula's: equal numbers (to 9 significant digits, as Excel's 15
    digits are not Python's), equal text or truth value, the same error."""
    if isinstance(stored, bool) or isinstance(computed, bool):
        return stored == computed
    if isinstance(stored, int | float) and isinstance(computed, int | float):
        if math.isnan(stored) or math.isnan(computed):
            return False
        return math.isclose(stored, computed, rel_tol=1e-9, abs_tol=1e-9)
    if stored is None:
        return computed in (0, "")
    return str(stored).strip() == str(computed).strip()
