"""Convert other formats to the platform's JSON Lines: ShareGPT, Alpaca, OpenAI chat, tables (CSV, TSV,
Excel, Parquet), Parquet/Arrow exports of chat records, compressed or not; and repair the platform's own.
See :func:`convert_file`; ``docs/datasets.md`` ("Bring your own data: convert")."""

from ._convert import aconvert_file, convert_file, convert_records
from ._fields import FieldMap
from ._records import SourceName
from ._repairs import Repairs
from ._report import Change, ConversionReport, Preview, Rejection

__all__ = [
    "Change",
    "ConversionReport",
    "FieldMap",
    "Preview",
    "Rejection",
    "Repairs",
    "SourceName",
    "aconvert_file",
    "convert_file",
    "convert_records",
]
