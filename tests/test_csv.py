"""pyffi.csv: differential tests against csv.reader, chunk boundaries, every error.

Both backends.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import FREE_THREADED, UNDER_VALGRIND, examples

import pyffi

QUOTING = [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC, csv.QUOTE_NONE]


def reference(text: str, **dialect: str) -> list[list[str]] | str:
    """csv.reader's rows (as Python 3.11+ reads them), or 'error' where it raises csv.Error.

    Before 3.11, csv.reader refused any NUL ("line contains NUL"); since then NUL is an
    ordinary character, as it is for pyffi. On older Pythons it stands in for a character
    the text does not hold, which is mapped back.
    """
    stand_in = None
    if sys.version_info < (3, 11) and "\0" in text:
        stand_in = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
        text = text.replace("\0", stand_in)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True, **dialect))
    except csv.Error:
        return "error"
    if stand_in is not None:
        rows = [[field.replace(stand_in, "\0") for field in row] for row in rows]
    return rows


def ours(data: bytes, **kwargs: object) -> list[list[str]] | str:
    try:
        return pyffi.csv.read(data, **kwargs)  # type: ignore[arg-type]
    except pyffi.CsvError:
        return "error"


fields = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=examples(400), deadline=None)
@given(
    st.lists(st.lists(fields, min_size=1, max_size=6), max_size=8),
    st.sampled_from(QUOTING),
    st.sampled_from(["\r\n", "\n", "\r"]),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_rows_written_by_csv_writer_read_back_the_same(rows, quoting, terminator, delimiter):
    out = io.StringIO(newline="")
    try:
        csv.writer(
            out,
            quoting=quoting,
            lineterminator=terminator,
            delimiter=delimiter,
            escapechar="\\" if quoting == csv.QUOTE_NONE else None,
        ).writerows(rows)
    except csv.Error:
        return  # QUOTE_NONE cannot write some fields
    text = out.getvalue()
    expected = reference(text, delimiter=delimiter)
    if quoting == csv.QUOTE_NONE:
        assert ours(text.encode(), delimiter=delimiter) == expected  # escapes stay literal
        return
    assert ours(text.encode(), delimiter=delimiter) == expected


@settings(max_examples=examples(1500), deadline=None)
@given(st.text(alphabet='ab ,"\r\n\t;é', max_size=40))
def test_byte_soups_match_csv_reader_including_its_errors(text):
    assert ours(text.encode()) == reference(text)


@settings(max_examples=examples(500), deadline=None)
@given(st.text(alphabet='ab ,"\r\n\t', max_size=30))
def test_lenient_mode_matches_csv_reader_strict_false(text):
    expected = list(csv.reader(io.StringIO(text, newline=""), strict=False))
    assert pyffi.csv.read(text.encode(), strict=False) == expected


# Long inputs: the parser reads 64-byte blocks as bit masks while every quote
# is a plain one and falls back to a byte-by-byte loop at a record start
# when one is not; these reach both loops and the switches between them.
soup = st.text(alphabet='ab ,"\r\n\t;é', min_size=60, max_size=400)
quoted_soup = st.lists(
    st.sampled_from(
        [
            '"a,b"',
            '""',
            '"x""y"',
            "ab",
            ",",
            "\n",
            "\r\n",
            "\r",
            '"',
            "é",
            " ",
            'c"d',
            '"q"z',
            '"\n"',
            "abcdefghij" * 3,
        ]
    ),
    min_size=10,
    max_size=120,
).map("".join)


@settings(max_examples=examples(800), deadline=None)
@given(st.one_of(soup, quoted_soup))
def test_long_soups_match_csv_reader_strict_and_lenient(text):
    assert ours(text.encode()) == reference(text)
    expected = list(csv.reader(io.StringIO(text, newline=""), strict=False))
    assert pyffi.csv.read(text.encode(), strict=False) == expected


@settings(max_examples=examples(400), deadline=None)
@given(st.one_of(soup, quoted_soup), st.booleans())
def test_long_soups_trimmed_match_small_chunks(text, strict):
    # small chunks are parsed byte by byte: an oracle for the block loop
    data = text.encode()
    try:
        whole = pyffi.csv.read(data, trim=True, strict=strict)
    except pyffi.CsvError:
        whole = "error"
    try:
        chunked = list(pyffi.csv.iter_rows(data, chunk_size=5, trim=True, strict=strict))
    except pyffi.CsvError:
        chunked = "error"
    assert whole == chunked


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("", []),
        ("\n", [[]]),
        ("a", [["a"]]),
        ("a,b\r\nc,d\r\n", [["a", "b"], ["c", "d"]]),
        ("a\rb\rc", [["a"], ["b"], ["c"]]),
        ("a,\n", [["a", ""]]),
        (",,", [["", "", ""]]),
        ('""', [[""]]),
        ('"a,b","c\r\nd"', [["a,b", "c\r\nd"]]),
        ('"say ""hi"""', [['say "hi"']]),
        ('a"b', [['a"b']]),
        ("a\n\n\nb\n", [["a"], [], [], ["b"]]),
        ("\x00,x\x00y", [["\x00", "x\x00y"]]),
        ("é,中文,🎉\n", [["é", "中文", "🎉"]]),
    ],
)
def test_known_inputs(text, rows):
    assert pyffi.csv.read(text.encode()) == rows == reference(text)


def test_bom_is_dropped_and_trim():
    assert pyffi.csv.read(b"\xef\xbb\xbfa,b\n") == [["a", "b"]]
    assert pyffi.csv.read(b' a ,\t"b c" , d\t\n', trim=True) == [["a", "b c", "d"]]
    assert pyffi.csv.read(b"  \n", trim=True) == [[""]]
    assert pyffi.csv.read(b'a;"b;c"', delimiter=";") == [["a", "b;c"]]
    assert pyffi.csv.read(b"a,'b,c'", quotechar="'") == [["a", "b,c"]]


def test_sources(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"x,y\n1,2\n")
    expected = [["x", "y"], ["1", "2"]]
    assert pyffi.csv.read(path) == expected
    assert pyffi.csv.read(str(path)) == expected
    assert pyffi.csv.read(bytearray(path.read_bytes())) == expected
    assert pyffi.csv.read(memoryview(path.read_bytes())) == expected
    assert pyffi.parse_csv_fast(path) == expected


def test_trim_never_strips_a_tab_delimiter():
    text = b'"x"\t\t a \t"b" \n\t\n' + b"long enough for the 64-byte block loop," * 3 + b"\n"
    rows = pyffi.csv.read(text, delimiter="\t", trim=True)
    assert rows[:2] == [["x", "", "a", "b"], ["", ""]]
    assert list(pyffi.csv.iter_rows(text, chunk_size=3, delimiter="\t", trim=True)) == rows


def test_strict_errors_give_line_and_column():
    with pytest.raises(
        pyffi.CsvError,
        match=r"^csv: line 2, column 6: 'x' after a closing "
        r"quote",
    ) as info:
        pyffi.csv.read(b'a,b\r\nc,"d"x\n')
    assert isinstance(info.value, ValueError) and isinstance(info.value, pyffi.Error)
    with pytest.raises(
        pyffi.CsvError,
        match=r"^csv: line 4, column 3: '\"' opens a quoted "
        r"field that is not closed",
    ):
        pyffi.csv.read('a\n"b\r\nc"\né,"d'.encode())  # line breaks in quotes count too
    with pytest.raises(pyffi.CsvError, match=r"^csv: line 1, column 4: 'é' after a closing "):
        pyffi.csv.read('"a"é'.encode())
    with pytest.raises(pyffi.CsvError, match="column 3: '\"' opens a quoted field"):
        pyffi.csv.read(b'x,"never closed')
    assert pyffi.csv.read(b'a,"b"x', strict=False) == [["a", "bx"]]
    assert pyffi.csv.read(b'a,"b', strict=False) == [["a", "b"]]


utf8_pieces = st.sampled_from(
    [
        b"a",
        b",",
        b"\n",
        b"abcdefgh",
        "é".encode(),
        "東".encode(),
        "😀".encode(),
        b"\x80",
        b"\xbf",
        b"\xc0\xaf",
        b"\xc2",
        b"\xe0\x80\x80",
        b"\xed\xa0\x80",
        b"\xf0\x8f\xbf\xbf",
        b"\xf4\x90\x80\x80",
        b"\xf5",
        b"\xff",
        b"\xe2\x82",
        b"\xf0\x9f\x98",
    ]
)


@settings(max_examples=examples(1000), deadline=None)
@given(st.lists(utf8_pieces, min_size=1, max_size=80).map(b"".join))
def test_utf8_errors_match_python_decoding(data):
    # 32-byte blocks are validated at once, the rest byte by byte: both must
    # find what bytes.decode finds, at the same offset
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        with pytest.raises(pyffi.Utf8Error, match=rf"at byte offset {e.start}$"):
            pyffi.csv.read(data)
        with pytest.raises(pyffi.Utf8Error, match=rf"at byte offset {e.start}$"):
            list(pyffi.csv.iter_rows(data, chunk_size=7))
    else:
        assert pyffi.csv.read(data) == reference(text)


def test_invalid_utf8_names_the_byte_offset():
    with pytest.raises(pyffi.Utf8Error, match=r"^csv: invalid UTF-8 at byte offset 6$"):
        pyffi.csv.read(b"ab,cd,\xff\n")
    with pytest.raises(pyffi.Utf8Error, match=r"at byte offset 6$"):  # offsets count the BOM
        pyffi.csv.read(b"\xef\xbb\xbfab,\xc3(")
    for cut in (b"\xf0\x9f\x98", b"\xe6\x9d", b"\xc3"):  # cut off where a 32-byte block ends
        for extra in (b"\xf0\x9f\x98\x80", b"a", b""):
            data = b"x" * (32 - len(cut)) + cut + extra
            with pytest.raises(pyffi.Utf8Error, match=rf"at byte offset {32 - len(cut)}$"):
                pyffi.csv.read(data)


def test_file_errors_are_opens(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        pyffi.csv.read(tmp_path / "missing.csv")
    assert info.value.errno == 2 and info.value.filename == str(tmp_path / "missing.csv")
    with pytest.raises(IsADirectoryError):
        pyffi.csv.read(tmp_path)
    locked = tmp_path / "locked.csv"
    locked.write_bytes(b"a\n")
    locked.chmod(0)
    if os.geteuid() != 0:  # root reads anything
        with pytest.raises(PermissionError):
            pyffi.csv.read(locked)
    with pytest.raises(FileNotFoundError):
        pyffi.csv.iter_rows(tmp_path / "missing.csv")  # at the call, not at the first row


def test_argument_errors():
    with pytest.raises(TypeError, match="argument 'delimiter' must be a 1-character str"):
        pyffi.csv.read(b"a", delimiter=",,")
    with pytest.raises(ValueError, match="must be an ASCII character other than a line break"):
        pyffi.csv.read(b"a", quotechar="\n")
    with pytest.raises(ValueError, match="must be an ASCII character"):
        pyffi.csv.read(b"a", delimiter="é")
    with pytest.raises(ValueError, match="delimiter and quotechar are both ','"):
        pyffi.csv.read(b"a", quotechar=",")
    with pytest.raises(TypeError, match="must be a path or a bytes-like object, not int"):
        pyffi.csv.read(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'chunk_size' must be at least 1, not 0"):
        pyffi.csv.iter_rows(b"a", chunk_size=0)
    with pytest.raises(TypeError, match="'chunk_size' must be int"):
        pyffi.csv.iter_rows(b"a", chunk_size=1.5)  # type: ignore[arg-type]


SAMPLES = [
    '\ufeffname,"note, with comma"\r\n"multi\nline","say ""hi"""\r\nx,\r\n\r\nlast',
    'a,b\rc,"d\r\ne"\r"f"\n',
    'é,中文\n🎉,"q"""\n,\n',
]


@pytest.mark.parametrize("text", SAMPLES)
def test_iter_rows_every_chunk_size(text):
    data = text.encode()
    expected = pyffi.csv.read(data)
    for size in range(1, len(data) + 2):
        assert list(pyffi.csv.iter_rows(data, chunk_size=size)) == expected, size


@pytest.mark.parametrize("text", SAMPLES)
def test_iter_rows_from_a_file(text, tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(text.encode())
    for size in (1, 2, 3, 7, 1 << 20):
        assert list(pyffi.csv.iter_rows(path, chunk_size=size)) == pyffi.csv.read(path)


def test_iter_rows_errors_across_chunks():
    data = b'a,b\nc,d\ne,"f"g\n'
    with pytest.raises(pyffi.CsvError, match=r"line 3, column 6"):
        list(pyffi.csv.iter_rows(data, chunk_size=3))
    with pytest.raises(pyffi.Utf8Error, match=r"byte offset 9$"):
        list(pyffi.csv.iter_rows(b"abc\ndef\n,\xff", chunk_size=2))
    with pytest.raises(pyffi.CsvError, match="not closed"):
        list(pyffi.csv.iter_rows(b'a\n"bc', chunk_size=2))


def _outcome(parse, data):
    try:
        return parse(data)
    except (pyffi.CsvError, pyffi.Utf8Error) as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=examples(500), deadline=None)
@given(
    st.lists(
        st.sampled_from([b"a", b",", b'"', b"\n", b"\r", b"\xc3\xa9", b"\xc3", b"\xff", b"x"]),
        max_size=30,
    ).map(b"".join),
    st.integers(1, 8),
)
def test_read_and_iter_rows_raise_the_same_error_for_the_same_bytes(data, size):
    # the error first in the text wins in both (a CSV error before a bad byte, or after)
    expected = _outcome(pyffi.csv.read, data)
    assert _outcome(lambda d: list(pyffi.csv.iter_rows(d, chunk_size=size)), data) == expected


def test_a_csv_error_before_a_bad_byte_is_the_error():
    data = b'"a"x,b\n\xc3'  # 'x' after a closing quote, then a cut character
    for parse in (pyffi.csv.read, lambda d: list(pyffi.csv.iter_rows(d, chunk_size=2))):
        with pytest.raises(pyffi.CsvError, match="line 1, column 4: 'x' after a closing") as info:
            parse(data)
        assert not isinstance(info.value, pyffi.Utf8Error)
    with pytest.raises(pyffi.Utf8Error, match=r"byte offset 3$"):  # the bad byte comes first
        pyffi.csv.read(b'"a"\xc3x,b\n')


def test_iter_rows_parses_a_long_field_a_few_times(monkeypatch):
    # one 8 MB field read 64 KB at a time: the pending record is parsed again only
    # once it has doubled (it was parsed again at every chunk: quadratic)
    parsed = []
    real = pyffi.csv._parse

    def counting(data, start, *rest):
        parsed.append(len(data) - start)
        return real(data, start, *rest)

    monkeypatch.setattr(pyffi.csv, "_parse", counting)
    data = b'a,"' + b"x" * (8 << 20) + b'",b\n1,2,3\n'
    rows = list(pyffi.csv.iter_rows(data, chunk_size=1 << 16))
    assert rows == [["a", "x" * (8 << 20), "b"], ["1", "2", "3"]]
    assert sum(parsed) < 4 * len(data), (sum(parsed), len(parsed))


@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet='ab,"\r\né', max_size=30), st.integers(1, 8))
def test_iter_rows_matches_read_for_any_split(text, size):
    data = text.encode()
    try:
        expected: object = pyffi.csv.read(data)
    except pyffi.CsvError as exc:
        expected = str(exc)
    try:
        got: object = list(pyffi.csv.iter_rows(data, chunk_size=size))
    except pyffi.CsvError as exc:
        got = str(exc)
    assert got == expected


# --- read_columns -------------------------------------------------------------------


def test_read_columns_types_and_inference():
    import numpy as np

    data = b"id,price,name,mixed\n1,2.5,ab,1\n-2,4,cd,x\n3,1e3,,2\n"
    cols = pyffi.csv.read_columns(data)
    assert isinstance(cols["id"], pyffi.Vector) and cols["id"] == [1, -2, 3]
    assert cols["price"].tolist() == [2.5, 4.0, 1000.0]
    assert cols["name"] == ["ab", "cd", ""] and cols["mixed"] == ["1", "x", "2"]
    ids, prices = np.asarray(cols["id"]), np.asarray(cols["price"])
    assert ids.dtype == np.int64 and prices.dtype == np.float64
    assert memoryview(cols["price"]).format == "d"
    assert np.shares_memory(prices, np.asarray(cols["price"]))  # zero-copy views of C memory
    del ids, prices
    cols["id"].close()
    typed = pyffi.csv.read_columns(data, types={"id": float, "price": str})
    assert typed["id"].tolist() == [1.0, -2.0, 3.0] and typed["price"] == ["2.5", "4", "1e3"]
    plain = pyffi.csv.read_columns(b"1,2\n3,4\n", header=False)
    assert list(plain) == ["0", "1"] and plain["1"] == [2, 4]
    assert [len(v) for v in pyffi.csv.read_columns(b"a,b\n").values()] == [0, 0]


def test_read_columns_errors_name_row_column_and_text():
    with pytest.raises(
        pyffi.CsvError,
        match=r"^csv: row 3, column 'n': '1\.5' is not an "
        r"integer$",
    ):
        pyffi.csv.read_columns(b"n\n1\n1.5\n", types={"n": int})
    with pytest.raises(
        pyffi.CsvError,
        match=r"row 2, column 'n': '9223372036854775808' does "
        r"not fit int64",
    ):
        pyffi.csv.read_columns(b"n\n9223372036854775808\n", types={"n": int})
    with pytest.raises(pyffi.CsvError, match=r"row 2, column 'x': 'abc' is not a number"):
        pyffi.csv.read_columns(b"x\nabc\n", types={"x": float})
    with pytest.raises(pyffi.CsvError, match=r"row 3, column 'b': the row has only 1 field"):
        pyffi.csv.read_columns(b"a,b\n1,2\n3\n", types={"b": int})
    with pytest.raises(pyffi.CsvError, match=r"row 3, column 'b': the row has only 1 field"):
        pyffi.csv.read_columns(b"a,b\n1,x\n3\n")
    with pytest.raises(KeyError, match="types names 'zz', not a column"):
        pyffi.csv.read_columns(b"a\n1\n", types={"zz": int})
    with pytest.raises(TypeError, match="must be int, float or str"):
        pyffi.csv.read_columns(b"a\n1\n", types={"a": bytes})
    with pytest.raises(ValueError, match="duplicate column names"):
        pyffi.csv.read_columns(b"a,a\n1,2\n")
    assert pyffi.csv.read_columns(b"n\n+7\n", types={"n": int})["n"] == [7]
    for bad in (b"", b"-", b" 1", b"1 ", b"0x1"):
        with pytest.raises(pyffi.CsvError):
            pyffi.csv.read_columns(b"n\n" + bad + b"\n", types={"n": int})


BIG = b"id,x\n" + b"12345,2.5\n" * 350_000  # 3.5 MB: a few progress reports


@pytest.mark.parametrize("func", [pyffi.csv.read, pyffi.csv.read_columns])
def test_progress_reports_in_order_then_the_end(func, tmp_path):
    calls: list[tuple[int, int]] = []
    func(BIG, progress=lambda done, total: calls.append((done, total)))
    assert 3 <= len(calls) <= 5 and calls[-1] == (len(BIG), len(BIG))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert {total for _, total in calls} == {len(BIG)}
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + BIG)  # the BOM counts: totals are the file's size
    calls.clear()
    func(path, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(BIG) + 3, len(BIG) + 3)
    func(b"", progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (0, 0)


@pytest.mark.parametrize("func", [pyffi.csv.read, pyffi.csv.read_columns])
@pytest.mark.parametrize("exc_type", [ZeroDivisionError, KeyboardInterrupt])
def test_progress_exception_stops_the_parse_and_propagates(func, exc_type, capfd):
    raised = exc_type("stop here")
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise raised

    with pytest.raises(exc_type) as info:
        func(BIG, progress=progress)
    assert info.value is raised and len(calls) == 2  # stopped at once
    assert any(entry.name == "progress" for entry in info.traceback)
    assert capfd.readouterr() == ("", "")
    with pytest.raises(
        TypeError,
        match=rf"{func.__name__}\(\) argument 'progress' must be "
        r"callable or None, not int",
    ):
        func(BIG, progress=1)  # type: ignore[call-overload]


@pytest.mark.skipif(UNDER_VALGRIND, reason="valgrind runs one thread at a time, GIL or not")
@pytest.mark.skipif(
    FREE_THREADED, reason="no GIL to release: other threads run whatever C does (test_threads)"
)
def test_the_gil_is_released_while_c_parses():
    # A thread woken at the first progress report needs the GIL to record
    # that it ran. This thread holds the GIL except inside C (the switch
    # interval is long), so the thread can only have run by the last
    # report if C released the GIL while parsing.
    go, ran, seen = threading.Event(), [], []
    thread = threading.Thread(target=lambda: (go.wait(), ran.append(True)))
    thread.start()

    def progress(done: int, total: int) -> None:
        go.set()
        if done == total:
            seen.append(bool(ran))

    old = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    try:
        pyffi.csv.read_columns(BIG + BIG[5:] * 7, progress=progress)
    finally:
        sys.setswitchinterval(old)
        go.set()
        thread.join()
    assert seen == [True]


def test_read_columns_types_must_be_a_mapping():
    for types in ("x", ["a"], 5):
        with pytest.raises(TypeError, match="argument 'types' must be a mapping of column names"):
            pyffi.csv.read_columns(b"a,b\n1,2\n", types=types)
