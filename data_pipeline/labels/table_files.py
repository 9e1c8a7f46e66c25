"""Tables people write by hand or save from a spreadsheet (labels, lists of files and their classes), read as
they were meant: UTF-8 with or without a spreadsheet's byte-order mark, else Windows-1252, what Excel on
Windows saves as "CSV" (said in one line, since names decoded with another code page would not match);
fields separated by commas, semicolons or tabs, whichever the first line holds; every field as text, so a
name like '0001' stays a name. What cannot be read so is one line naming the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

SEPARATORS = ",;\t"  # in this order: the first the first line holds separates the fields


def read_text(path: Path) -> str:
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not text in UTF-8 or Windows-1252; save it as UTF-8 (Excel: CSV UTF-8)") from None
    print(f"warning: {path}: not UTF-8, read as Windows-1252 (what Excel on Windows saves as CSV)")
    return text


def read_table(path: Path, needs: str = "", sep: str | None = None, **read_csv) -> tuple[pd.DataFrame, str]:
    """(the table, its separator). One line naming the file when it is empty (and what it `needs`), or naming the
    first row with more fields than the first (pandas would take the first column for an index and shift every
    field by one)."""
    text = read_text(path)
    sep = sep or next((c for c in SEPARATORS if c in text.partition("\n")[0]), ",")
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    width = len(next(rows, []))
    if not width:
        raise ValueError(f"{path}: empty" + (f"; {needs}" if needs else ""))
    for row in rows:
        if len(row) > width:
            raise ValueError(f"{path}: line {rows.line_num} has {len(row)} fields where the first has {width} "
                             f"(a {sep!r} inside a name or note? put that field in double quotes)")
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, index_col=False, **read_csv), sep
