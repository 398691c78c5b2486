"""Stream the rows of a CSV file, plain or gzip-compressed, whatever its text encoding.

Pure Python, no Django. The reader never loads the file whole: it yields one
:class:`RawRow` at a time with the line number the record starts on, so a
200k-row file costs a few megabytes and a bad row can be reported by line.

Encoding (decided here once, documented in ``import_calls --help``):

* gzip is detected by its magic bytes (``1f 8b``), not by the file name;
* a UTF-8 byte-order mark on the first line is dropped;
* each physical line is decoded as UTF-8; a line that is not valid UTF-8 is
  decoded as Windows-1252 (the latin-1 superset spreadsheet exports use) and
  counted in :attr:`CsvSource.fallback_lines`, so the command can warn. Lines
  are decoded one by one because a file is streamed: an export that is UTF-8
  except for one pasted name should not be refused after 100k good rows.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = "\ufeff"
# Longest field accepted from a file. Real CAD exports have narratives of a few
# kilobytes; anything longer is a broken quote swallowing the rest of the file.
MAX_FIELD_CHARS = 100_000


class CsvFormatError(ValueError):
    """The file cannot be read as CSV at all (no header, empty, not text)."""


@dataclass(frozen=True, slots=True)
class RawRow:
    """One CSV record: the line it starts on, its fields by column, or why it cannot be read."""

    line: int
    values: dict[str, str]
    fields: list[str]
    error: str = ""


def _decode(line: bytes) -> tuple[str, bool]:
    try:
        return line.decode("utf-8"), False
    except UnicodeDecodeError:
        try:
            return line.decode("cp1252"), True
        except UnicodeDecodeError:
            # cp1252 leaves five bytes undefined; latin-1 maps every byte.
            return line.decode("latin-1"), True


def _open_binary(path: Path) -> BinaryIO:
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


@dataclass
class CsvSource:
    """A CSV file opened for streaming: ``header`` is read at once, ``rows()`` yields the rest."""

    path: Path
    header: list[str] = field(default_factory=list)
    fallback_lines: int = 0
    _binary: BinaryIO | None = None
    _lines: Iterator[str] | None = None
    _line_no: int = 0

    def __enter__(self) -> CsvSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Open the file and read the header row; raise :class:`CsvFormatError` if there is none."""
        self._binary = _open_binary(self.path)
        self._lines = self._text_lines(self._binary)
        try:
            reader = csv.reader(self._lines)
            header = next(reader)
        except StopIteration:
            self.close()
            raise CsvFormatError("The file is empty: no header row.") from None
        except (OSError, EOFError, csv.Error) as exc:
            self.close()
            raise CsvFormatError(f"Cannot read the header row: {exc}") from None
        self.header = [name.strip() for name in header]
        if not any(self.header):
            self.close()
            raise CsvFormatError("The header row is empty.")

    def close(self) -> None:
        """Close the underlying file."""
        if self._binary is not None:
            self._binary.close()
            self._binary = None

    def _text_lines(self, binary: BinaryIO) -> Iterator[str]:
        first = True
        for raw_line in binary:
            self._line_no += 1
            text, fallback = _decode(raw_line)
            if fallback:
                self.fallback_lines += 1
            if first:
                text = text.removeprefix(UTF8_BOM)
                first = False
            yield text

    def rows(self, limit: int | None = None) -> Iterator[RawRow]:
        """Yield the data rows (at most ``limit``), each with the line number it starts on."""
        assert self._lines is not None, "open() the source first"  # noqa: S101
        reader = csv.reader(self._lines)
        width = len(self.header)
        count = 0
        while limit is None or count < limit:
            start = self._line_no + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The csv module resets its state for the next record, so one
                # mangled line costs one row, not the rest of the file.
                count += 1
                yield RawRow(line=start, values={}, fields=[], error=f"Unreadable CSV: {exc}")
                continue
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line
            count += 1
            if len(fields) != width:
                yield RawRow(
                    line=start,
                    values={},
                    fields=fields,
                    error=f"Expected {width} columns, found {len(fields)}.",
                )
                continue
            long = next(
                (n for n, v in zip(self.header, fields, strict=True) if len(v) > MAX_FIELD_CHARS),
                None,
            )
            if long is not None:
                yield RawRow(
                    line=start,
                    values={},
                    fields=[f[:200] for f in fields],
                    error=f"Field {long!r} is longer than {MAX_FIELD_CHARS} characters.",
                )
                continue
            yield RawRow(
                line=start, values=dict(zip(self.header, fields, strict=True)), fields=fields
            )
