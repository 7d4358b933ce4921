# Types of the compiled pyffi._loader._caller (pyffi/_loader/_caller.c).
from typing import Any

class Caller:
    __wrapped__: Any
    __name__: str
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

def make(
    name: str,
    raw: Any,
    slow: Any,
    state: dict[str, bool],
    codes: str,
    types: tuple[Any, ...],
    cdata_type: type,
    null: Any,
    from_buffer: Any,
    /,
) -> Caller: ...
def check_layout(cdata: Any, ctype: Any, address: int, /) -> bool: ...
