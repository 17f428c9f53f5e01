"""What a table holds besides its records: its header, the title rows above it, listed when skipped, and
formulas a workbook holds without their values, named with their cell."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from ..._text import plural
from ._fields import FieldMap
from ._raw import Raw
from ._table import header_at

__all__ = ["Row", "column_letter", "header_rows", "name_formulas", "title_note"]

Row = tuple[int, list[str], tuple[str, ...]]
"""A table row: its number from 1, its cells as text, the kinds of its cells that were not text."""


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
