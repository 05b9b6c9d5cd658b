"""Characters no text field may hold.

NUL is refused by PostgreSQL, and C0 control characters, lone surrogates and U+FFFE/U+FFFF
cannot be written to XML at all: one such title would make every feed and sitemap fail.
Tab, line feed and carriage return are fine.
"""

import re
from typing import Any

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def reject_control_characters(value: Any) -> Any:
    """A validator for text fields (and lists of them); other values pass through."""
    if isinstance(value, str):
        if _FORBIDDEN.search(value):
            raise ValueError("control characters (such as NUL) are not allowed")
    elif isinstance(value, list):
        for item in value:
            reject_control_characters(item)
    return value


def remove_control_characters(value: str) -> str:
    """`value` without the characters XML cannot hold (for text echoed from a query string)."""
    return _FORBIDDEN.sub("", value)
