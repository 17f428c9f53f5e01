"""Convert other formats to the platform's JSON Lines: ShareGPT, Alpaca, OpenAI chat, CSV/TSV, and repair
the platform's own. See :func:`convert_file`; ``docs/datasets.md`` ("Bring your own data: convert")."""

from ._convert import Preview, SourceName, aconvert_file, convert_file, convert_records
from ._fields import FieldMap
from ._repairs import Repairs
from ._report import Change, ConversionReport, Rejection

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
