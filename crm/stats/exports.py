"""Reports as files: every report is a list of :class:`Table`; CSV and XLSX write any of them.

Spreadsheet programs run a cell that begins with = + - @ (or tab / carriage return) as a formula,
so every text cell goes through :func:`neutralise` first (OWASP "CSV injection").
"""

import csv
import io
from dataclasses import dataclass, field

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell value safe to open in a spreadsheet: text that a spreadsheet would read as a formula
    gets a leading apostrophe. Numbers stay numbers (a negative number is not a formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


def to_csv(tables: list[Table]) -> bytes:
    """All tables in one CSV (UTF-8 with BOM, so Excel shows Chinese): each starts with its title
    row and ends with an empty row."""
    out = io.StringIO()
    writer = csv.writer(out)
    for table in tables:
        writer.writerow([neutralise(table.title)])
        writer.writerow([neutralise(h) for h in table.headers])
        for row in table.rows:
            writer.writerow([neutralise(v) for v in row])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(c for c in title if c not in "[]:*?/\\")[:28] or "Sheet"
    base, n = name, 2
    while name in used:
        name = f"{base[:25]} {n}"
        n += 1
    used.add(name)
    return name


def to_xlsx(tables: list[Table]) -> bytes:
    """One worksheet per table: the headers in bold on the first row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(_sheet_name(str(table.title), used))
        sheet.append([neutralise(h) for h in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([neutralise(v) for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever openpyxl guesses
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
