"""What a table holds besides its records: its header, the title rows above it, listed when skipped,
formulas a workbook holds without their values, named with their cell, the sheet read among a workbook's,
and its hidden rows and merged cells, listed."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from ..._text import plural
from ._cells import cells_of
from ._columnar import iter_sheet
from ._fields import FieldMap
from ._raw import Raw
from ._report import ConversionReport
from ._sheetxml import Merged, SheetMarks
from ._table import UnsureColumnsError, detect_columns, header_at

__all__ = [
    "Row",
    "RowMarks",
    "choose_sheet",
    "column_letter",
    "header_rows",
    "name_formulas",
    "sheet_names_columns",
    "title_note",
]

Row = tuple[int, list[str], tuple[tuple[int, str], ...]]
"""A table row: its number from 1, its cells as text, the position and kind of its cells that were not
text."""


def header_rows(rows: Iterator[Row], fields: FieldMap, path: str, sample: int) -> tuple[list[Row], list[Row]]:
    """The rows above a table's header (a title, skipped) and the header with the rows after it read to
    tell the columns (``sample`` of them): at ``fields.header_row`` when given, else where
    :func:`~._table.header_at` finds it. ``ValueError`` when the table ends before the header given."""
    given = fields.header_row
    above: list[Row] = []
    head: list[Row] = []
    if given is None:
        head = list(itertools.islice(rows, sample + 1))
        at = header_at([cells for _, cells, _ in head], fields)
        above, head = head[:at], head[at:]
        return above, head + list(itertools.islice(rows, len(above)))
    for entry in rows:  # the rows above the header given: skipped, whatever they hold
        if entry[0] >= given:
            head.append(entry)
            break
        above.append(entry)
    if not head:
        raise ValueError(f"{path} has {plural(len(above), 'row')}: there is no header row {given}")
    return above, head + list(itertools.islice(rows, sample))


def title_note(above: list[Row], header: int) -> str:
    """The change that lists the rows ``above`` a table's header (row ``header``), skipped, with their
    text (shortened)."""
    shown = [_row_text(cells) for _, cells, _ in above[:_TITLE_SHOWN]]
    more = f", and {plural(len(above) - _TITLE_SHOWN, 'more row')}" if len(above) > _TITLE_SHOWN else ""
    rows = f"row {above[0][0]}" if len(above) == 1 else f"rows {above[0][0]}-{above[-1][0]}"
    return f"skipped {rows}, above the header (row {header}): {', '.join(shown)}{more}"


#: Rows above a header shown in the change that lists them, and the characters shown of each.
_TITLE_SHOWN = 5
_TITLE_CHARS = 60


def _row_text(cells: list[str]) -> str:
    text = " | ".join(c.strip() for c in cells if c.strip())
    if not text:
        return "(blank)"
    return repr(text if len(text) <= _TITLE_CHARS else text[: _TITLE_CHARS - 3] + "...")


def name_formulas(raw: Raw, found: dict[int, str]) -> None:
    """Reject ``raw`` for the formulas ``found`` in it (by column index) that have no saved value."""
    if not found:
        return
    named = [(f"{column_letter(i)}{raw.number}", f"{text:.40}") for i, text in found.items()]
    if len(named) == 1:
        which = f"cell {named[0][0]} holds a formula ({named[0][1]})"
    else:
        which = f"cells {', '.join(f'{cell} ({text})' for cell, text in named)} hold formulas"
    raw.blank, raw.value, raw.notes = False, None, ()
    raw.error = (
        "formula_without_value",
        f"{which} with no saved value (the workbook was saved by a program that does not compute "
        "formulas): open it in Excel or LibreOffice and save it, so that the values are stored",
    )


def column_letter(index: int) -> str:
    """The letters of the column at ``index`` from 0: A, ..., Z, AA, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def choose_sheet(
    sheets: list[tuple[str, str]],
    report: ConversionReport,
    names_columns: Callable[[int], bool] | None = None,
) -> int:
    """The index of the sheet to read: the first visible one (a hidden sheet is not what its author
    shows), unless it names no prompt and response columns and a later visible one does (a sheet of
    notes in front of the data), as ``names_columns`` tells by index; a warning names the sheets not
    read. ``ValueError`` when every sheet is hidden."""
    if not sheets:
        return 0
    visible = [i for i, (_, state) in enumerate(sheets) if state == "visible"]
    if not visible:
        raise ValueError(
            f"every sheet of the workbook is hidden ({', '.join(repr(name) for name, _ in sheets[:5])}): "
            "unhide the one to read (Format > Sheet > Unhide) and save it"
        )
    index = visible[0]
    why = "the first visible one"
    if names_columns is not None and len(visible) > 1 and not names_columns(index):
        better = next((i for i in visible[1:] if names_columns(i)), None)
        if better is not None:
            why = f"the first whose header names prompt and response columns ({sheets[index][0]!r} has none)"
            index = better
    hidden = [name for name, state in sheets[:index] if state != "visible"]
    others = [name for i, (name, _) in enumerate(sheets) if i != index]
    if others:
        skipped = f" (the hidden {', '.join(map(repr, hidden))} skipped)" if hidden else ""
        report.warnings.append(
            f"only the sheet {sheets[index][0]!r}, {why}{skipped}, was read; the workbook "
            f"has {len(sheets)}: {', '.join(map(repr, others[:5]))}{', ...' if len(others) > 5 else ''} "
            "not read (save the sheet you want first, or as CSV)"
        )
    return index


def sheet_names_columns(path: str, index: int, fields: FieldMap, sample: int) -> bool:
    """True when the worksheet at ``index`` has a header (under a title or not) that names prompt and
    response columns, from its first ``sample`` rows."""
    rows = [cells_of(values)[0] for values in itertools.islice(iter_sheet(path, None, index), sample + 1)]
    if not rows:
        return False
    try:
        at = header_at(rows, fields)
        return detect_columns(rows[at], rows[at + 1 :], fields).header
    except UnsureColumnsError:
        return False


class RowMarks:
    """Goes down a sheet's data rows in increasing order, listing the hidden ones and the cells read
    empty because they are part of merged cells, and remembering which, for the warnings at the end.
    Merged ranges are taken up as the rows reach them and let go after, so each row looks only at the
    ranges that span it."""

    def __init__(self, marks: SheetMarks, used: tuple[int, ...]) -> None:
        self._marks = marks
        self._used = used
        self._waiting = sorted(marks.merged, key=lambda m: m.rows[0], reverse=True)
        self._active: list[Merged] = []
        self.hidden: list[tuple[int, int]] = []  # the hidden data rows, as runs
        self.merged: dict[str, None] = {}  # the merged ranges that emptied a cell read, in order

    def mark(self, raw: Raw) -> None:
        """List that the row of ``raw`` is hidden, or that a cell of it read is merged with a cell above
        or beside it (the value is in the first cell only, so this one reads empty)."""
        number = raw.number
        while self._waiting and self._waiting[-1].rows[0] <= number:
            self._active.append(self._waiting.pop())
        if self._active:
            self._active = [m for m in self._active if m.rows[1] >= number]
        if raw.blank:
            return
        notes: list[tuple[str, str]] = []
        if self._marks.hidden and self._marks.is_hidden(number):
            notes.append(("hidden_row", f"row {number} is hidden in the sheet: read like the others"))
            if self.hidden and self.hidden[-1][1] == number - 1:
                self.hidden[-1] = (self.hidden[-1][0], number)
            else:
                self.hidden.append((number, number))
        for merged in self._active:
            first, left, right = merged.rows[0], *merged.columns
            cells = [i for i in self._used if left <= i <= right and (number, i) != (first, left)]
            if cells:
                self.merged[merged.ref] = None
                here = ", ".join(f"{column_letter(i)}{number}" for i in cells)
                notes.append(
                    (
                        "merged_cell",
                        f"{here} read empty: part of the merged cells {merged.ref}, whose value "
                        f"only {merged.ref.split(':')[0]} holds",
                    )
                )
        if not notes:
            return
        if raw.error is not None:  # rejected: the reason says what the sheet did to the row
            code, reason = raw.error
            raw.error = (code, f"{reason} ({'; '.join(action for _, action in notes)})")
        else:
            raw.notes = (*raw.notes, *notes)

    def warnings(self) -> list[str]:
        """The warnings for the hidden data rows and the merged cells that emptied a cell read."""
        found: list[str] = []
        count = sum(last - first + 1 for first, last in self.hidden)
        if count:
            runs = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.hidden[:5])
            more = ", ..." if len(self.hidden) > 5 else ""
            which = f"row {runs}" if count == 1 else f"rows {runs}{more}"
            found.append(
                f"{plural(count, 'hidden row')} of the sheet ({which}) {'was' if count == 1 else 'were'} "
                "read like the others: hiding a row, or filtering it out, does not delete it; delete the "
                "rows not to be trained on"
            )
        if self.merged:
            refs = list(self.merged)
            more = ", ..." if len(refs) > 5 else ""
            found.append(
                f"merged cells in the columns read ({', '.join(refs[:5])}{more}): their value is in the "
                "first cell only, the others read empty; unmerge them and fill the cells (Merge & Center "
                "off, then copy the value down)"
            )
        return found
