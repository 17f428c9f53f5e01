"""A cell of a table as text: what a spreadsheet shows for a number, a date or a time, so that the text
trained on is the text the person who made the sheet read, and no digit is made up.

A workbook's cells come with their number format (``0%``, ``#,##0.00``, ``yyyy-mm-dd``): the common ones
are applied here (:func:`shown`); a Parquet or Arrow value has none, and is written in its plain form.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Shown", "cells_of", "shown"]

_EXACT_INTEGERS = 2**53
"""Past this a float holds no exact integer: ``str(int(x))`` would print digits the sheet never had."""

_DECIMALS = re.compile(r"^[#,0]*0(?:\.(0+))?(%?)$")
"""A plain number format: ``0``, ``0.00``, ``#,##0.00``, ``0%``, ``0.0%`` (groups: decimals, percent)."""


@dataclass(frozen=True)
class Shown:
    """A cell's value with the text its number format shows (``0.15`` shown as ``15%``)."""

    value: object
    text: str


def shown(value: object, number_format: str | None) -> object:
    """``value`` as the sheet shows it under ``number_format``: a :class:`Shown` for a number in a plain
    number format (decimals, thousands, percent) other than ``General``; the value itself otherwise."""
    if number_format is None or isinstance(value, bool) or not isinstance(value, int | float):
        return value
    match = _DECIMALS.match(number_format.replace('"', "").strip())
    if match is None:
        return value
    decimals, percent = len(match.group(1) or ""), bool(match.group(2))
    number = decimal.Decimal(repr(value)) * (100 if percent else 1)
    text = f"{number:{',' if ',' in number_format else ''}.{decimals}f}{'%' if percent else ''}"
    return Shown(value, text)


def cells_of(values: Iterable[object]) -> tuple[list[str], list[tuple[int, str]]]:
    """A row of cell values (from a workbook or a table file) as text: ``None`` is empty, a number or a
    date is written as text (named in the second list, with its position, by kind)."""
    cells: list[str] = []
    kinds: list[tuple[int, str]] = []
    for index, value in enumerate(values):
        if value is None:
            cells.append("")
        elif isinstance(value, str):
            cells.append(value)
        elif isinstance(value, Shown):
            cells.append(value.text)
            kinds.append((index, type(value.value).__name__))
        else:
            cells.append(_as_text(value))
            kinds.append((index, type(value).__name__))
    return cells, kinds


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        if abs(value) < _EXACT_INTEGERS:
            return str(int(value))
        return f"{decimal.Decimal(repr(value)):f}"  # the digits the float holds, and zeros after them
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0) and value.tzinfo is None:
            return value.date().isoformat()  # a date cell: Excel keeps dates as midnight
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="minutes" if not value.second and not value.microsecond else "auto")
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return str(isoformat())
    return str(value)
