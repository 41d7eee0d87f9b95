"""A student's script as text: UTF-8 (with or without a BOM), or GB18030, which editors on Chinese Windows
save as their "ANSI" encoding. Everything is stored and shown as UTF-8 afterwards."""
from __future__ import annotations

import re

MAX_SOURCE_BYTES = 200 * 1024  # a homework script is a few KB; uploads (student and instructor) stop here
UTF8 = "utf-8"
GB18030 = "gb18030"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def decode_script(data: bytes) -> tuple[str, str]:
    """(text, the encoding it was in). Raises the UTF-8 UnicodeDecodeError when it is neither.

    GB18030 can read almost any bytes, so it is believed only when the result has Chinese characters and no
    control characters: a GBK-saved script with Chinese comments or prints, not random bytes."""
    try:
        return data.decode("utf-8-sig"), UTF8
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode(GB18030)
        except UnicodeDecodeError:
            raise utf8_error from None
        if not _CJK.search(text) or _CONTROL.search(text):
            raise utf8_error from None
        return text, GB18030
