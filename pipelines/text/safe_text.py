"""Text a unit wrote, made harmless for whoever reads what the project writes from it.

Two dangers, one function each, used by every writer:

- **spreadsheet formulas**: a CSV or XLSX cell whose text starts with ``=``, ``+``, ``-``, ``@``,
  a tab or a carriage return is run as a formula by Excel and LibreOffice when the file is
  opened (``=HYPERLINK("http://…", "…")`` in an appraiser's reason). :func:`neutralise_formula`
  puts an apostrophe before such text, as Excel itself does for text typed that way;
  :func:`write_csv` writes a frame with every text column neutralised, :func:`write_text_cell`
  writes one XLSX cell as inert text.
- **HTML and Markdown**: a receipt is Markdown, shown one day as HTML; evidence text such as
  ``<script>…</script>`` or ``<img src=x onerror=…>``, or a Markdown link or image, must reach
  the reader as the characters the unit typed, never as markup. :func:`escape_markup` escapes
  them (and keeps a Markdown table cell on one line).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")

_MARKUP = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "\\": "\\\\",
        "`": "\\`",
        "[": "\\[",
        "]": "\\]",
        "|": "\\|",
        "\n": " ",
        "\r": " ",
    }
)


def neutralise_formula(text: str) -> str:
    """``text`` as a spreadsheet shows it literally: an apostrophe before text that a spreadsheet
    would otherwise take as a formula (it starts with ``= + - @``, a tab or a carriage return)."""
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with :func:`neutralise_formula` applied to every text column."""
    return frame.with_columns(
        pl.when(pl.col(name).str.slice(0, 1).is_in(FORMULA_LEADS))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def write_csv(frame: pl.DataFrame, path: str | Path, **options) -> Path:
    """``frame`` written as CSV (``polars.DataFrame.write_csv`` options), every text cell
    neutralised: the one way the project writes a CSV file."""
    path = Path(path)
    neutralise_frame(frame).write_csv(path, **options)
    return path


def write_text_cell(sheet, row: int, col: int, text: object, cell_format=None) -> None:
    """One XLSX cell (xlsxwriter ``sheet``) holding ``text`` as text, never as a formula, and
    neutralised as in a CSV file (so that editing the cell in Excel does not make it one)."""
    sheet.write_string(row, col, neutralise_formula(str(text)), cell_format)


def escape_markup(text: object) -> str:
    """User text (a cell, a file name, a reason) safe inside Markdown and HTML, on one line:
    ``& < >`` as HTML entities, the Markdown characters that make code, links, images and table
    cells (`` ` [ ] | \\``) escaped, line breaks as spaces. ``None`` is empty."""
    return str(text if text is not None else "").translate(_MARKUP)
