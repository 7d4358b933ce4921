"""The exception hierarchy and the status-to-exception mapping."""

from __future__ import annotations

import pytest

import pyffi
from pyffi._chapters.backend import ffi, lib, raise_status
from pyffi._core.errors import error_class

STATUSES = ffi.typeof("pyffi_status").elements  # {value: "PYFFI_NAME"}


def test_status_table_starts_with_ok() -> None:
    assert STATUSES[0] == "PYFFI_OK"
    assert lib.PYFFI_OK == 0


@pytest.mark.parametrize("value", [v for v in STATUSES if v != 0])
def test_every_failure_status_has_its_own_exception_class(value: int) -> None:
    cls = error_class(value)
    assert cls is not pyffi.Error, f"{STATUSES[value]} has no exception class"
    assert cls.name == STATUSES[value]
    assert cls.status == value
    assert ffi.string(lib.pyffi_status_name(value)).decode() == STATUSES[value]


def test_exception_classes_are_distinct() -> None:
    classes = [error_class(v) for v in STATUSES if v != 0]
    assert len(set(classes)) == len(classes)


@pytest.mark.parametrize(
    "cls,builtins",
    [
        (pyffi.NoMemoryError, (MemoryError,)),
        (pyffi.InvalidArgumentError, (ValueError,)),
        (pyffi.OutOfRangeError, (OverflowError,)),
        (pyffi.DivisionByZeroError, (ValueError, ZeroDivisionError)),
        (pyffi.DomainError, (ValueError,)),
    ],
)
def test_each_class_is_a_pyffi_error_and_the_fitting_builtin(
    cls: type, builtins: tuple[type, ...]
) -> None:
    assert issubclass(cls, pyffi.Error)
    for builtin in builtins:
        assert issubclass(cls, builtin)


def test_raise_status_uses_the_threads_message() -> None:
    status = lib.pyffi_scalar_add(2**31 - 1, 5).status
    assert status == lib.PYFFI_OVERFLOW
    with pytest.raises(pyffi.OutOfRangeError) as info:
        raise_status(status)
    assert str(info.value) == "add: 2147483647 + 5 does not fit int32_t"
    assert info.value.status == lib.PYFFI_OVERFLOW
    assert info.value.name == "PYFFI_OVERFLOW"


def test_nomem_maps_to_memory_error() -> None:
    with pytest.raises(MemoryError):
        raise_status(int(lib.PYFFI_NOMEM))


def test_an_unknown_status_still_raises_a_pyffi_error() -> None:
    with pytest.raises(pyffi.Error) as info:
        raise_status(9999)
    assert type(info.value) is pyffi.Error
    assert info.value.status == 9999
    assert info.value.name == "PYFFI_UNKNOWN"


def test_status_messages_are_static_text() -> None:
    assert ffi.string(lib.pyffi_status_message(lib.PYFFI_NOMEM)) == b"out of memory"
    assert ffi.string(lib.pyffi_status_message(9999)) == b"unknown status"
