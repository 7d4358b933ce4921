"""pyffi.csv: a fast, correct CSV reader; the parsing is C (lib/csv.c).

``read`` gives exactly the rows Python's ``csv.reader(..., strict=True)``
gives for the same dialect, wherever csv.reader accepts the input, and
raises :class:`pyffi.CsvError` (with the line and column) where it raises
``csv.Error``. The GIL is released while C parses; Python objects are made
in C too (``pyffi._rows``), one str per field.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Union

if TYPE_CHECKING:
    from typing_extensions import TypeIs

from ._chapters.array import Vector
from ._chapters.backend import ffi, lib, raise_status
from ._chapters.callback import check_progress, fail, pending, progress_entry
from ._core.errors import CsvError
from ._rows import rows as _table_rows

__all__ = ["iter_rows", "parse_csv_fast", "read", "read_columns"]

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]
Progress = Callable[[int, int], object]
_BOM = b"\xef\xbb\xbf"


def _options(func: str, delimiter: str, quotechar: str, trim: bool, strict: bool) -> Any:
    for name, value in (("delimiter", delimiter), ("quotechar", quotechar)):
        if not isinstance(value, str) or len(value) != 1:
            raise TypeError(f"{func}() argument '{name}' must be a 1-character str, not {value!r}")
        if not value.isascii() or value in "\r\n":
            raise ValueError(
                f"{func}() argument '{name}' must be an ASCII character other "
                f"than a line break, not {value!r}"
            )
    if delimiter == quotechar:
        raise ValueError(f"{func}(): delimiter and quotechar are both {delimiter!r}")
    return ffi.new(
        "pyffi_csv_options *",
        {
            "delimiter": delimiter.encode(),
            "quotechar": quotechar.encode(),
            "trim": bool(trim),
            "strict": bool(strict),
        },
    )


def _progress(func: str, options: Any, progress: Progress | None, skipped: int) -> Any:
    """Make C call ``progress(done, total)`` as it parses (counting the ``skipped``
    BOM bytes too). Returns the per-call state, which must stay alive until
    the parse returns (None without progress)."""
    if progress is None:
        return None
    report = (
        progress if not skipped else (lambda done, total: progress(done + skipped, total + skipped))
    )
    state = pending(report, func)
    handle = ffi.new_handle(state)
    options.progress = progress_entry
    options.progress_user = handle
    return [state, handle]


def _address(cdata: Any) -> int:
    return int(ffi.cast("uintptr_t", cdata))


@contextmanager
def _parsed(
    data: Any, start: int, options: Any, final: bool, line: int, offset: int, progress: Any = None
) -> Iterator[Any]:
    """The C table of data[start:], freed on exit; data stays exported (so a
    bytearray cannot be resized) while the table points into it."""
    buf = ffi.from_buffer(data)
    try:
        out = ffi.new("pyffi_csv_table **")
        status = lib.pyffi_csv_parse(
            out, buf + start, len(buf) - start, options, final, line, offset
        )
        if status:
            fail(status, progress[0] if progress else None)
        try:
            yield out[0]
        finally:
            lib.pyffi_csv_table_free(out[0])
    finally:
        ffi.release(buf)


def _rows_of(table: Any, first: int = 0, stop: int | None = None) -> list[list[str]]:
    return _table_rows(_address(table), first, table.n_rows if stop is None else stop)


def _parse(
    data: Any, start: int, options: Any, final: bool, line: int, offset: int
) -> tuple[list[list[str]], int, int]:
    """Rows of data[start:], the bytes consumed and the line breaks in them."""
    with _parsed(data, start, options, final, line, offset) as table:
        return _rows_of(table), table.consumed, table.lines


def _is_path(source: object) -> TypeIs[str | os.PathLike[str]]:
    return isinstance(source, (str, os.PathLike))


def _source_bytes(func: str, source: Source) -> tuple[Any, int]:
    """(the whole data as a buffer, where it starts after a BOM)."""
    if _is_path(source):
        with open(source, "rb") as f:  # open()'s own errors: FileNotFoundError, ...
            data: Any = f.read()
    else:
        try:
            data = memoryview(source).cast("B")
        except TypeError:
            raise TypeError(
                f"{func}() argument 'source' must be a path or a bytes-like "
                f"object, not {type(source).__name__}"
            ) from None
    return data, 3 if bytes(data[:3]) == _BOM else 0


def read(
    source: Source,
    *,
    delimiter: str = ",",
    quotechar: str = '"',
    trim: bool = False,
    strict: bool = True,
    progress: Progress | None = None,
) -> list[list[str]]:
    '''All rows of a CSV file (a path) or of bytes, as lists of str.

    Quoted fields, doubled quotes, delimiters and line breaks inside quotes,
    LF / CRLF / lone CR line ends, a last line without a line break, a UTF-8
    BOM (dropped). ``trim=True`` strips spaces and tabs (but not a tab
    delimiter) around fields. A blank line is an empty row, as in csv.reader.

    ``progress(done_bytes, total_bytes)``, if given, is called while C parses
    (with the GIL released otherwise): about every MiB, and once at the end
    with ``done_bytes == total_bytes``. An exception it raises stops the
    parse and comes out of ``read`` itself.

    >>> pyffi.csv.read(b'name,note\\r\\n"Smith, J","said ""hi"""\\n')
    [['name', 'note'], ['Smith, J', 'said "hi"']]
    >>> pyffi.csv.read(b"a,b\\n", progress=lambda done, total: print(done, total))
    4 4
    [['a', 'b']]
    '''
    options = _options("read", delimiter, quotechar, trim, strict)
    check_progress("read", progress)
    data, start = _source_bytes("read", source)
    state = _progress("read", options, progress, start)
    with _parsed(data, start, options, True, 1, start, state) as table:
        return _rows_of(table)


_COLUMN = {
    int: (lib.pyffi_csv_column_i64, "int64_t **", "q"),
    float: (lib.pyffi_csv_column_f64, "double **", "d"),
}


def _typed_column(table: Any, index: int, first: int, name: str, kind: type) -> Vector:
    convert, out_type, fmt = _COLUMN[kind]
    out = ffi.new(out_type)
    key = name.encode("utf-8", "surrogatepass")
    status = convert(out, table, index, first, key, len(key))
    if status:
        raise_status(status)
    return Vector._adopt(out[0], table.n_rows - first, lib.pyffi_csv_column_free, fmt)


def read_columns(
    source: Source,
    *,
    header: bool = True,
    types: dict[str, type] | None = None,
    delimiter: str = ",",
    quotechar: str = '"',
    trim: bool = False,
    strict: bool = True,
    progress: Progress | None = None,
) -> dict[str, Vector | list[str]]:
    """Columns by name: int and float columns as :class:`pyffi.Vector` (C arrays, zero-copy
    into numpy: ``numpy.asarray(col)``), str columns as lists.

    ``header=True`` takes the names from the first row (else "0", "1", ...).
    ``types`` maps names to ``int``, ``float`` or ``str``; a column not in it
    is inferred (int if every cell is an integer, else float if every cell is
    a number, else str). An unparsable cell in a typed column raises
    :class:`pyffi.CsvError` naming the row, the column and the text. Numbers
    are converted in C, with no Python object per cell. ``progress`` is as
    in :func:`read` (it reports the parsing).

    >>> cols = pyffi.csv.read_columns(b"id,price,name\\n1,2.5,ab\\n2,4,cd\\n")
    >>> cols["id"].tolist(), cols["price"].tolist(), cols["name"]
    ([1, 2], [2.5, 4.0], ['ab', 'cd'])
    """
    options = _options("read_columns", delimiter, quotechar, trim, strict)
    check_progress("read_columns", progress)
    data, start = _source_bytes("read_columns", source)
    state = _progress("read_columns", options, progress, start)
    with _parsed(data, start, options, True, 1, start, state) as table:
        n_rows = table.n_rows
        width = table.rows[0].fields_end if n_rows else 0
        if header:
            header_rows = _rows_of(table, 0, min(n_rows, 1))
            names = header_rows[0] if header_rows else []
        else:
            names = [str(i) for i in range(width)]
        first = 1 if header else 0
        if len(set(names)) != len(names):
            raise ValueError(f"read_columns(): duplicate column names in the header: {names}")
        types = _column_types(types, names)
        columns: dict[str, Vector | list[str]] = {}
        rows: list[list[str]] | None = None
        for index, name in enumerate(names):
            kind = types.get(name)
            if kind in (int, float):
                columns[name] = _typed_column(table, index, first, name, kind)
                continue
            if kind is None:  # inferred: int, else float, else str
                for candidate in (int, float):
                    try:
                        columns[name] = _typed_column(table, index, first, name, candidate)
                        break
                    except CsvError:
                        continue
                if name in columns:
                    continue
            if rows is None:
                rows = _rows_of(table, first)
            try:
                columns[name] = [row[index] for row in rows]
            except IndexError:
                short = next(i for i, row in enumerate(rows) if len(row) <= index)
                raise CsvError(
                    f"csv: row {short + first + 1}, column {name!r}: the row has "
                    f"only {len(rows[short])} field(s)",
                    int(lib.PYFFI_CSV),
                ) from None
        return columns


def _column_types(types: object, names: list[str]) -> dict[str, type]:
    """read_columns()'s ``types``, checked against the header's column names."""
    if types is not None and not isinstance(types, Mapping):
        raise TypeError(
            "read_columns() argument 'types' must be a mapping of column names to "
            f"int, float or str, not {type(types).__name__}"
        )
    checked = dict(types or {})
    for name, given in checked.items():
        if name not in names:
            raise KeyError(f"read_columns(): types names {name!r}, not a column (columns: {names})")
        if given not in (int, float, str):
            raise TypeError(
                f"read_columns(): the type of {name!r} must be int, float or str, not {given!r}"
            )
    return checked


def parse_csv_fast(path: str | os.PathLike[str]) -> list[list[str]]:
    """The simple entry point: ``read(path, trim=True)`` (commas, trimmed, quotes honoured).

    >>> import tempfile; f = tempfile.NamedTemporaryFile(suffix=".csv", delete=False)
    >>> _ = f.write(b' a , "b, c" \\n1,2\\n'); f.close()
    >>> pyffi.parse_csv_fast(f.name)
    [['a', 'b, c'], ['1', '2']]
    """
    return read(path, trim=True)


def iter_rows(
    source: Source,
    *,
    chunk_size: int = 1 << 20,
    delimiter: str = ",",
    quotechar: str = '"',
    trim: bool = False,
    strict: bool = True,
) -> Iterator[list[str]]:
    """Yield the rows of a CSV file or bytes, reading ``chunk_size`` bytes at a time.

    Memory stays bounded by a chunk plus the longest record, whatever the
    file size; fields and quoted line breaks across chunk boundaries are
    handled (a record is parsed once it is complete). Same dialect and
    errors as :func:`read`; a missing file raises at the call, not at the
    first row.

    >>> list(pyffi.csv.iter_rows(b'a,"b\\nc"\\nd,e\\n', chunk_size=3))
    [['a', 'b\\nc'], ['d', 'e']]
    """
    options = _options("iter_rows", delimiter, quotechar, trim, strict)
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool):
        raise TypeError(
            f"iter_rows() argument 'chunk_size' must be int, not {type(chunk_size).__name__}"
        )
    if chunk_size < 1:
        raise ValueError(f"iter_rows() argument 'chunk_size' must be at least 1, not {chunk_size}")
    if _is_path(source):
        f: BinaryIO = open(source, "rb")  # noqa: SIM115 - closed by the generator
        return _iter_file(f, chunk_size, options)
    try:
        view = memoryview(source).cast("B")
    except TypeError:
        raise TypeError(
            f"iter_rows() argument 'source' must be a path or a bytes-like "
            f"object, not {type(source).__name__}"
        ) from None
    return _iter_chunks(
        (view[k : k + chunk_size] for k in range(0, len(view), chunk_size)), options
    )


def _iter_file(f: BinaryIO, chunk_size: int, options: Any) -> Iterator[list[str]]:
    with f:
        yield from _iter_chunks(iter(lambda: f.read(chunk_size), b""), options)


def _iter_chunks(chunks: Iterator[Any], options: Any) -> Iterator[list[str]]:
    """The rows of the chunks' bytes. An incomplete record stays pending and is
    parsed again only once the pending bytes have doubled: a 100 MB field costs
    a few passes over it, not one per chunk."""
    pending = bytearray()
    line, offset, first = 1, 0, True
    retry_at = 0  # parse again once this much is pending
    for chunk in chunks:
        pending += chunk
        if len(pending) < retry_at:
            continue
        start = 0
        if first:
            if len(pending) < 3 and _BOM.startswith(pending):
                continue  # too short to tell whether a BOM starts the data
            first = False
            start = offset = 3 if pending[:3] == _BOM else 0
        rows, consumed, lines = _parse(pending, start, options, False, line, offset)
        yield from rows
        line += lines
        offset += consumed
        del pending[: start + consumed]
        retry_at = 2 * len(pending)
    if first and pending[:3] == _BOM:
        del pending[:3]
        offset = 3
    rows, _, _ = _parse(pending, 0, options, True, line, offset)
    yield from rows
