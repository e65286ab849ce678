"""Loading a person's own files: plain text for the text task, numeric CSV for the series task.

Every refusal is a ``DataFileError`` (a ``TaskError``) whose message names the file, says what is
wrong (and where: line and column) and what to do about it.
"""
from __future__ import annotations

import codecs
import csv
import errno
import io
import itertools
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnviz.tasks.base import TaskError

MAX_FILE_BYTES = 50 * 1024 * 1024
CSV_DELIMITERS = (",", ";", "\t")


class DataFileError(TaskError):
    """A person's data file cannot be used; the message says why and what to do."""


def _count(count: int, noun: str) -> str:
    """"1 value", "3 values"."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def load_text(path: str | os.PathLike[str]) -> str:
    """The file's text (UTF-8, byte-order mark dropped, line endings normalised to ``\\n``)."""
    text = _read_utf8(Path(path))
    if not text.strip():
        raise DataFileError(
            f"{path} contains no text (it is empty or only whitespace); choose a text file with content"
        )
    return text


def load_csv(path: str | os.PathLike[str]) -> tuple[list[str], np.ndarray]:
    """Numeric columns of a CSV file with a header row: (names (C,), values (N, C) float64, all finite).

    Columns that are mostly not numbers (dates, labels) are left out; in the others every cell must
    be a finite number. The delimiter is the one of
    ``,`` ``;`` or tab that occurs most often in the first non-blank line. With ``;`` or tab, numbers
    written with a decimal comma (``1,5``) are read as such; a file mixing decimal commas and points,
    or grouping thousands (``1.234,5``), is refused rather than read wrong.
    """
    table = _split_rows(_read_utf8(Path(path)), path)
    table.decimal_comma = _uses_decimal_comma(table)
    numeric = [col for col in range(len(table.header)) if table.is_numeric(col)]
    if not numeric:
        raise DataFileError(
            f"{path} has no numeric column (columns: {', '.join(repr(h) for h in table.header)}); "
            "the series task needs at least one column of numbers"
        )
    values = np.empty((len(table.rows), len(numeric)), dtype=np.float64)  # (N, C)
    for out_col, col in enumerate(numeric):
        values[:, out_col] = table.parse_column(col)
    return [table.header[c] for c in numeric], values


def require_rows(found: int, needed: int, path: str | os.PathLike[str], unit: str = "rows") -> None:
    """Refuse data too short to make one training sequence of the chosen length."""
    if found < needed:
        raise DataFileError(
            f"{path} has {found} {unit} but one sequence of the chosen length needs at least "
            f"{needed}; lower seq_len or use a longer file"
        )


def _read_utf8(path: Path) -> str:
    path = Path(path).expanduser()
    size = _file_size(path)
    if size > MAX_FILE_BYTES:
        raise DataFileError(
            f"{path} is {size:,} bytes ({size / 2**20:.1f} MB), more than the {MAX_FILE_BYTES // 2**20} MB "
            "limit; "
            "use a smaller excerpt of it"
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # the file may have grown since it was measured
    except OSError as error:
        raise DataFileError(f"cannot read {path}: {error.strerror or error}; check its permissions") from None
    if len(raw) > MAX_FILE_BYTES:
        raise DataFileError(f"{path} is more than the {MAX_FILE_BYTES // 2**20} MB limit; use a smaller excerpt of it")
    text = _decode(raw, path)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _file_size(path: Path) -> int:
    """The size of the regular file at ``path``; DataFileError saying why it cannot be read otherwise."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataFileError(f"{path} does not exist; check the path or choose another file") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise DataFileError(f"{path} is a loop of symbolic links that never reaches a file; give the real "
                                "file") from None
        raise DataFileError(f"cannot open {path}: {error.strerror or error}; check the path") from None
    if not stat.S_ISREG(info.st_mode):
        raise DataFileError(f"{path} is not a regular file (a folder or device?); choose a file")
    return info.st_size


def _decode(raw: bytes, path: Path) -> str:
    """UTF-8 (byte-order mark dropped) or, with its byte-order mark, UTF-16; anything else is refused
    saying what it looks like."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom) and not raw.startswith(codecs.BOM_UTF8):
            try:
                return raw[len(bom):].decode(codec)
            except UnicodeDecodeError:
                raise DataFileError(f"{path} starts like UTF-16 text but is not valid UTF-16; save it as UTF-8") from None
    nul_offset = raw.find(b"\x00")
    if nul_offset >= 0:
        if _looks_like_utf16(raw):
            raise DataFileError(f"{path} looks like UTF-16 text without a byte-order mark; save it as UTF-8")
        raise DataFileError(
            f"{path} contains NUL bytes (offset {nul_offset}), so it looks like a binary file, "
            "not text; choose a UTF-8 text file"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataFileError(
            f"{path} is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start} cannot be "
            "decoded); save it as UTF-8 or choose a text file"
        ) from None


def _looks_like_utf16(raw: bytes) -> bool:
    """Mostly ASCII text in UTF-16: every other byte of the first kilobyte is NUL."""
    head = raw[:1024]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.9


@dataclass
class _CsvRows:
    """The header and data rows of a CSV text; line numbers are worked out only for error messages."""

    path: object
    text: str
    delimiter: str
    header: list[str]
    rows: list[list[str]]  # data rows, blank lines left out
    records: list[int]  # for each data row, its index among the csv reader's records
    decimal_comma: bool = False  # numbers are written 1,5 (only with ; or tab as the delimiter)

    def number_text(self, cell: str) -> str:
        return cell.replace(",", ".") if self.decimal_comma else cell

    def line(self, row: int) -> int:
        """The file line on which data row ``row`` starts (re-reads the text: for messages only)."""
        return _line_of_record(self.text, self.delimiter, self.records[row])

    def is_numeric(self, col: int) -> bool:
        """At least half of the column's first 100 filled cells are numbers (dates, labels: not)."""
        filled = itertools.islice((c for c in (cells[col] for cells in self.rows) if c.strip()), 100)
        votes = [_is_number(self.number_text(cell)) for cell in filled]
        return bool(votes) and 2 * sum(votes) >= len(votes)

    def parse_column(self, col: int) -> np.ndarray:
        """The column as floats (N,); if any cell is not a finite number, say which one."""
        cells = [self.number_text(row_cells[col]) for row_cells in self.rows]
        try:
            column = np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
            if np.all(np.isfinite(column)):
                return column
        except ValueError:
            pass
        for row, cell in enumerate(cells):
            _check_cell(cell, f"{self.path}, line {self.line(row)}, column {self.header[col]!r}")
        raise AssertionError("unreachable: a bad cell was expected")


def _split_rows(text: str, path: object) -> _CsvRows:
    """Header names and data rows; refuses a file without them or with rows of the wrong length."""
    first = next((line for line in text.split("\n", 1000) if line.strip()), "")
    delimiter = max(CSV_DELIMITERS, key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        records = list(reader)
    except csv.Error as error:
        raise DataFileError(
            f"{path}, line {reader.line_num}: not valid CSV ({error}); fix or remove that line"
        ) from None
    filled = [i for i, cells in enumerate(records) if "".join(cells).strip()]
    if not filled:
        raise DataFileError(f"{path} is empty; a CSV file needs a header row and data rows")
    header_line = _line_of_record(text, delimiter, filled[0])
    header = _check_header([c.strip() for c in records[filled[0]]], header_line, path)
    table = _CsvRows(path, text, delimiter, header, [records[i] for i in filled[1:]], filled[1:])
    if not table.rows:
        raise DataFileError(f"{path} has a header row but no data rows; add the data below the header")
    wrong = next((row for row, cells in enumerate(table.rows) if len(cells) != len(header)), None)
    if wrong is not None:
        raise DataFileError(
            f"{path}, line {table.line(wrong)}: {_count(len(table.rows[wrong]), 'value')} but the header has "
            f"{_count(len(header), 'column')}; every row needs one value per column"
        )
    return table


_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+([eE][+-]?\d+)?\s*$")
_DECIMAL_POINT = re.compile(r"^\s*[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_GROUPED_THOUSANDS = re.compile(r"^\s*[+-]?\d{1,3}([.,' ]\d{3})+([.,]\d+)?\s*$")


def _uses_decimal_comma(table: _CsvRows) -> bool:
    """Whether the numbers are written with a decimal comma (1,5); refuses ambiguous files."""
    if table.delimiter == ",":
        return False
    cells = [cell for cells in table.rows[:500] for cell in cells]
    commas = next((c for c in cells if _DECIMAL_COMMA.match(c)), None)
    points = next((c for c in cells if _DECIMAL_POINT.match(c)), None)
    grouped = next((c for c in cells if _GROUPED_THOUSANDS.match(c) and "," in c and "." in c), None)
    if grouped is not None:
        raise DataFileError(
            f"{table.path} groups thousands in its numbers ({grouped.strip()!r}); save it without thousands "
            "separators (and with one decimal separator) so every number reads the same way"
        )
    if commas is not None and points is not None:
        raise DataFileError(
            f"{table.path} mixes decimal commas ({commas.strip()!r}) and decimal points ({points.strip()!r}); "
            "save every number with the same decimal separator"
        )
    return commas is not None


def _line_of_record(text: str, delimiter: str, record: int) -> int:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    for index, _ in enumerate(reader):
        if index == record:
            return reader.line_num
    raise AssertionError(f"record {record} not found")


def _check_header(names: list[str], line_number: int, path: object) -> list[str]:
    if all(_is_number(name) for name in names):
        raise DataFileError(
            f"{path}, line {line_number}: the first row holds numbers, not column names; "
            "add a header row naming the columns"
        )
    for index, name in enumerate(names):
        if not name:
            raise DataFileError(f"{path}, line {line_number}: column {index + 1} has no name; name every column")
        if name in names[:index]:
            raise DataFileError(
                f"{path}, line {line_number}: the column name {name!r} appears twice "
                f"(columns {names.index(name) + 1} and {index + 1}); rename one of them"
            )
    return names


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _check_cell(cell: str, where: str) -> None:
    """Raise DataFileError if the cell is empty, not a number, or not finite."""
    if not cell.strip():
        raise DataFileError(f"{where}: empty cell; fill it in or remove the row")
    try:
        value = float(cell)
    except ValueError:
        raise DataFileError(
            f"{where}: {cell.strip()[:40]!r} is not a number; fix the value or remove the row"
        ) from None
    if not np.isfinite(value):
        raise DataFileError(f"{where}: {cell.strip()[:40]!r} is not a finite number; replace it or remove the row")
