"""Text: to_uppercase / to_lowercase against str.upper / str.lower."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import examples

import pyffi
from pyffi._chapters.backend import ffi, lib

# Characters an older Unicode version already assigned whose case mapping a later version
# changed, by the version that changed it: there pyffi (pyffi.unicode_version()) and an
# older Python's str.upper rightly differ. Found by comparing UnicodeData.txt 17.0.0 with
# the databases of Python 3.9 (13.0) to 3.14 (16.0), no other mapping differs.
CHANGED_IN = {
    (16, 0): {
        "\u019b": "\ua7dc",  # LATIN SMALL LETTER LAMBDA WITH STROKE gained a capital
        "\u0264": "\ua7cb",  # LATIN SMALL LETTER RAMS HORN gained a capital
    },
    (17, 0): {
        "\ua7d3": "\ua7d2",  # LATIN SMALL LETTER DOUBLE THORN gained a capital
        "\ua7d5": "\ua7d4",  # LATIN SMALL LETTER DOUBLE WYNN gained a capital
    },
}


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


PYTHON_UNICODE = _major_minor(unicodedata.unidata_version)
PYFFI_UNICODE = _major_minor(pyffi.unicode_version())
# The uppercase pyffi gives where this Python's older data says "no capital" (of the
# characters that data assigns: Python 3.9's Unicode 13 has no U+A7D3 yet).
CHANGED_UPPER = {
    c: upper
    for version, changes in CHANGED_IN.items()
    if PYTHON_UNICODE < version <= PYFFI_UNICODE
    for c, upper in changes.items()
    if unicodedata.category(c) != "Cn"
}
EVERY_ASSIGNED = [chr(cp) for cp in range(0x110000) if unicodedata.category(chr(cp)) != "Cn"]
ASSIGNED = [c for c in EVERY_ASSIGNED if c not in CHANGED_UPPER]


def test_examples() -> None:
    assert pyffi.to_uppercase("hello 古明地覺") == "HELLO 古明地覺"
    assert pyffi.to_uppercase("straße") == "STRASSE"
    assert pyffi.to_lowercase("İ") == "i\u0307"
    assert pyffi.to_uppercase("ﬃ ŉ ΐ") == "FFI \u02bcN \u0399\u0308\u0301"
    assert pyffi.to_lowercase("ΟΔΟΣ ΣΑΣ. Σ") == "οδος σας. σ"
    assert pyffi.to_uppercase("") == ""
    assert pyffi.to_lowercase(b"") == b""


@pytest.mark.parametrize(
    "ours, theirs", [(pyffi.to_uppercase, str.upper), (pyffi.to_lowercase, str.lower)]
)
def test_every_assigned_code_point(ours, theirs) -> None:  # type: ignore[no-untyped-def]
    # Every character this Python's Unicode assigns: the same, but for the ones named above.
    wrong = {c: ours(c) for c in EVERY_ASSIGNED if ours(c) != theirs(c)}
    assert wrong == (CHANGED_UPPER if ours is pyffi.to_uppercase else {})
    everything = "".join(ASSIGNED)
    assert ours(everything) == theirs(everything)
    valid = "".join(c for c in ASSIGNED if unicodedata.category(c) != "Cs")
    assert ours(valid.encode()) == theirs(valid).encode()


# Characters that exercise the special cases: Final_Sigma context (cased
# letters, case-ignorable marks and punctuation, uncased ones), one-to-many
# mappings, titlecase letters, and whatever else hypothesis picks.
_TRICKY = "ΣσςΑαaZ'.:\u0345\u0301\u00ad\u200d ß İıﬃΐǅ0-\U0001d7ca\U00010400\U0001e900"
# Only characters this Python's Unicode database assigns, as in the sweep above:
# str.upper is no reference for a character it does not know (Python 3.9 has
# Unicode 13; pyffi's tables are newer, and map Vithkuqi U+10570 -> U+10597),
# nor for those whose data changed since (CHANGED_UPPER).
_ASSIGNED_CHARS = st.characters(
    exclude_categories=("Cn",), exclude_characters="".join(CHANGED_UPPER)
)
_TEXT = st.text(st.one_of(st.sampled_from(_TRICKY), _ASSIGNED_CHARS), max_size=40)


@settings(max_examples=examples(3000), deadline=None)
@given(_TEXT)
def test_mixed_strings(s: str) -> None:
    assert pyffi.to_uppercase(s) == s.upper()
    assert pyffi.to_lowercase(s) == s.lower()
    data = s.encode("utf-8", "surrogatepass")
    if all(not 0xD800 <= ord(c) <= 0xDFFF for c in s):
        assert pyffi.to_uppercase(data) == s.upper().encode()
        assert pyffi.to_lowercase(bytearray(data)) == s.lower().encode()


@settings(max_examples=examples(3000), deadline=None)
@given(
    st.binary(max_size=12)
    | st.lists(
        st.sampled_from(
            [
                b"a",
                b"\x80",
                b"\xbf",
                b"\xc0",
                b"\xc1",
                b"\xc2",
                b"\xdf",
                b"\xe0",
                b"\xa0",
                b"\xed",
                b"\x9f",
                b"\xef",
                b"\xf0",
                b"\x90",
                b"\xf4",
                b"\x8f",
                b"\xf5",
                b"\xff",
                "Σ".encode(),
            ]
        ),
        max_size=6,
    ).map(b"".join)
)
def test_bytes_are_validated_like_python(data: bytes) -> None:
    try:
        expected = data.decode("utf-8").upper().encode()
    except UnicodeDecodeError as exc:
        with pytest.raises(pyffi.Utf8Error, match=rf" at byte offset {exc.start}$"):
            pyffi.to_uppercase(data)
        with pytest.raises(pyffi.Utf8Error, match=rf" at byte offset {exc.start}$"):
            pyffi.to_lowercase(data)
    else:
        assert pyffi.to_uppercase(data) == expected
        assert pyffi.to_lowercase(data) == data.decode().lower().encode()


def test_types_in_and_out() -> None:
    assert pyffi.to_uppercase(b"abc") == b"ABC"
    assert pyffi.to_uppercase(bytearray(b"abc")) == b"ABC"
    assert pyffi.to_uppercase(memoryview(b"xabcx")[1:4]) == b"ABC"
    assert pyffi.to_uppercase(memoryview(b"a-b-c")[::2]) == b"ABC"  # strided: gathered
    assert type(pyffi.to_uppercase(bytearray(b"x"))) is bytes
    assert type(pyffi.to_lowercase("X")) is str


def test_nul_is_an_ordinary_character() -> None:
    assert pyffi.to_uppercase("a\0ß\0") == "A\0SS\0"
    assert pyffi.to_lowercase(b"A\0B") == b"a\0b"


def test_lone_surrogates_in_str_pass_through_as_str_upper_leaves_them() -> None:
    s = "a\ud800b\udfffß"
    assert pyffi.to_uppercase(s) == s.upper() == "A\ud800B\udfffSS"
    assert pyffi.to_lowercase("Σ\udc00") == "Σ\udc00".lower()


def test_invalid_utf8_names_the_byte_offset() -> None:
    with pytest.raises(
        pyffi.Utf8Error, match=r"^to_uppercase: invalid UTF-8 at byte offset 2$"
    ) as info:
        pyffi.to_uppercase(b"ab\xff")
    assert isinstance(info.value, ValueError) and isinstance(info.value, pyffi.Error)
    assert info.value.name == "PYFFI_UTF8"
    with pytest.raises(pyffi.Utf8Error, match=r"^to_lowercase: invalid UTF-8 at byte offset 3$"):
        pyffi.to_lowercase("aé".encode() + b"\xe4\xb8")  # truncated at the end
    with pytest.raises(pyffi.Utf8Error, match=r"offset 1$"):
        pyffi.to_uppercase(b"a\xed\xa0\x80")  # an encoded surrogate is not UTF-8
    with pytest.raises(pyffi.Utf8Error, match=r"offset 0$"):
        pyffi.to_uppercase(b"\xc0\x80")  # overlong NUL


@pytest.mark.parametrize("bad", [None, 1, 3.5, ["a"], object()])
def test_other_types_are_type_errors(bad: object) -> None:
    with pytest.raises(
        TypeError,
        match=r"^to_uppercase\(\) argument must be str, bytes, "
        r"bytearray or memoryview, not \w+$",
    ):
        pyffi.to_uppercase(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^to_lowercase\(\) argument must be"):
        pyffi.to_lowercase(bad)  # type: ignore[arg-type]


def test_the_c_function_checks_its_flags_and_pointers() -> None:
    out, out_len = ffi.new("char **"), ffi.new("size_t *")
    assert lib.pyffi_utf8_to_uppercase(out, out_len, b"a", 1, 2) == lib.PYFFI_INVALID_ARGUMENT
    assert ffi.string(lib.pyffi_error_last()) == b"to_uppercase: unknown flags 0x2"
    assert lib.pyffi_utf8_to_lowercase(ffi.NULL, out_len, b"a", 1, 0) == lib.PYFFI_INVALID_ARGUMENT
    assert ffi.string(lib.pyffi_error_last()) == b"to_lowercase: NULL out"
    assert lib.pyffi_utf8_to_lowercase(out, out_len, ffi.NULL, 1, 0) == lib.PYFFI_INVALID_ARGUMENT
    assert lib.pyffi_utf8_to_lowercase(out, ffi.NULL, ffi.NULL, 0, 0) == lib.PYFFI_OK
    assert ffi.string(out[0]) == b""
    lib.pyffi_string_free(out[0])


def test_growth_past_the_first_buffer() -> None:
    # Each 2-byte U+0390 becomes 6 bytes: the output outgrows len + len/16.
    s = "\u0390" * 10_000
    assert pyffi.to_uppercase(s) == s.upper()
    assert pyffi.to_lowercase("Ⱥ" * 10_000) == "ⱥ" * 10_000  # 2 bytes -> 3


def test_generated_tables_match_the_unicode_data_files(checkout: Path) -> None:
    # The tables are generated from the Unicode data kept in tools/unicode/, never from
    # the machine's (Debian 12 ships Unicode 15.0, 13 ships 15.1): the same everywhere.
    regenerated = subprocess.run(
        [sys.executable, str(checkout / "tools" / "gen_casing.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    committed = (checkout / "lib" / "casing_data.h").read_text(encoding="utf-8")
    assert regenerated == committed
    stamps = re.findall(r"^ \*   (\w+)\.txt (\d+\.\d+\.\d+) ", committed, flags=re.M)
    assert stamps == [
        (name, pyffi.unicode_version())
        for name in ("UnicodeData", "SpecialCasing", "DerivedCoreProperties")
    ]


def test_the_named_changes_are_the_newer_data() -> None:
    # The characters named in CHANGED_IN: pyffi gives the newer capital on every Python;
    # a Python older than the change leaves them as they are.
    for version, changes in CHANGED_IN.items():
        assert version <= PYFFI_UNICODE
        for c, upper in changes.items():
            assert pyffi.to_uppercase(c) == upper
            assert pyffi.to_lowercase(upper) == c
            assert c.upper() == (upper if version <= PYTHON_UNICODE else c)
