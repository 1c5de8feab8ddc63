"""Reading scene, device and room JSON safely: the file's limits, `SceneError`, and typed field
readers that name the offending field.

Whatever a file holds, reading it either returns plain JSON values or raises `SceneError` with
one line of at most `MAX_MESSAGE_CHARS` characters (control characters escaped, long values
abbreviated). The limits (`MAX_FILE_BYTES`, `MAX_DEPTH`, `MAX_INT_DIGITS`, text and list
lengths) are far above what a real scene needs and are checked before anything large is built;
presets/SCHEMA.md lists them.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

MAX_FILE_BYTES = 2_000_000
"""Largest scene, device or room file, bytes (a 1 000-vertex floor plan takes ~40 kB)."""
MAX_DEPTH = 16
"""Deepest nesting of lists and objects (the schema needs 6)."""
MAX_INT_DIGITS = 30
"""Longest integer literal, digits (json would otherwise build 4 300-digit integers)."""
MAX_MESSAGE_CHARS = 500
"""Longest error line, file name included."""
MAX_NAME_CHARS = 200
"""Longest name or other one-line text field (file references: `MAX_PATH_CHARS`)."""
MAX_PATH_CHARS = 4096
MAX_DESCRIPTION_CHARS = 10_000

_VALUE_CHARS = 40  # a string value is shown up to this many characters
_VALUE_ITEMS = 4  # a list value is shown up to this many items
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
# A JSON string, or an unterminated one running to the end: always matches, so stripping
# strings is one linear pass whatever the quotes and backslashes.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\[\s\S])*+(?:"|\\?\Z)')


def one_line(text: str, limit: int) -> str:
    """`text` on one line of at most `limit` characters: control, format and surrogate
    characters escaped (\\n, \\u202e, ...), the middle elided when too long."""
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"):
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    s = "".join(out)
    if len(s) <= limit:
        return s
    head = (limit - 1) * 2 // 3
    return s[:head] + "…" + s[len(s) - (limit - 1 - head):]


class SceneError(ValueError):
    """Invalid scene input. `field` is the path of the offending field ('' for the whole file).

    str(error) is one line of at most MAX_MESSAGE_CHARS characters: "file: detail" or "detail".
    """

    def __init__(self, message: str, field: str = "", file: str | None = None):
        self.field, self.file = field, file
        self.detail = one_line(message, MAX_MESSAGE_CHARS)
        head = f"{one_line(file, 160)}: " if file else ""
        super().__init__(head + one_line(self.detail, MAX_MESSAGE_CHARS - len(head)))

    def in_file(self, file: str) -> SceneError:
        return SceneError(self.detail, self.field, file)


class LongInteger:
    """An integer literal of more than MAX_INT_DIGITS digits, kept as text: json would build
    (or refuse to build) the int; the field reader that gets it names the field instead."""

    def __init__(self, literal: str):
        self.literal = literal


def fmt(value: Any, depth: int = 0) -> str:
    """A JSON value as it would read in the file, abbreviated: long text and lists are cut,
    nested containers beyond one level shown as [...] / {...}, huge integers in e-notation."""
    if value is None:
        return "null"
    if isinstance(value, LongInteger):
        return f"{value.literal[:12]}… ({len(value.literal.lstrip('-'))} digits)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if abs(value) < 10**15:
            return str(value)
        exponent = math.floor(math.log10(abs(value)))  # exact for any int size; str() is not
        mantissa = 10.0 ** (math.log10(abs(value)) - exponent)
        return f"{'-' if value < 0 else ''}{mantissa:.3g}e+{exponent}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return f"{value:g}"
    if isinstance(value, str):
        shown = json.dumps(value[:_VALUE_CHARS], ensure_ascii=False)
        more = len(value) - _VALUE_CHARS
        return shown if more <= 0 else f"{shown[:-1]}…\" ({len(value)} characters)"
    if isinstance(value, (list, tuple)):
        if depth >= 1 and value:
            return "[…]"
        items = [fmt(v, depth + 1) for v in value[:_VALUE_ITEMS]]
        if len(value) > _VALUE_ITEMS:
            items.append(f"… ({len(value)} items)")
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        return "{…}" if value else "{}"
    return f"<{type(value).__name__}>"


def _parse_int(literal: str) -> int | LongInteger:
    return LongInteger(literal) if len(literal.lstrip("-")) > MAX_INT_DIGITS else int(literal)


def _check_digits(v: Any, path: str) -> None:
    if isinstance(v, LongInteger):
        raise SceneError(f"{path} = {fmt(v)} has more than {MAX_INT_DIGITS} digits", path)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # json would silently keep the last one
            raise SceneError(f"has the key {fmt(key)} twice in one object")
        out[key] = value
    return out


def _check_nesting(text: str) -> None:
    skeleton = _JSON_STRING.sub('""', text).encode("utf-8")
    b = np.frombuffer(skeleton, dtype=np.uint8)
    step = ((b == ord("[")) | (b == ord("{"))).astype(np.int32)
    step -= (b == ord("]")) | (b == ord("}"))
    depth = np.cumsum(step)
    if depth.size and depth.max() > MAX_DEPTH:
        at = int(np.argmax(depth > MAX_DEPTH))
        line = skeleton.count(b"\n", 0, at) + 1  # raw newlines never sit inside JSON strings
        raise SceneError(f"nests lists or objects more than {MAX_DEPTH} levels deep"
                         f" (line {line})")


def read_json(path: Path) -> Any:
    """Parse a scene, device or room file within the limits; raises SceneError naming it."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise SceneError(f"cannot be read: {e.strerror or e}", file=str(path)) from e
    try:
        if len(data) > MAX_FILE_BYTES:
            raise SceneError(f"is larger than {MAX_FILE_BYTES / 1e6:g} MB, the limit for"
                             " scene, device and room files")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SceneError(f"is not UTF-8 text ({e.reason} at byte {e.start})") from e
        _check_nesting(text)
        try:
            # NaN/Infinity parse to floats on purpose: the field readers then name the field.
            return json.loads(text, parse_int=_parse_int, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as e:
            raise SceneError(f"is not valid JSON: {e.msg} (line {e.lineno}, column"
                             f" {e.colno})") from e
    except SceneError as e:
        raise e.in_file(str(path)) from None


# ---------------------------------------------------------------------------------------------
# Typed readers: each one checks a value and names its field path on failure.


def number(v: Any, path: str, lo: float, hi: float, unit: str = "",
           lo_open: bool = False) -> float:
    """A finite JSON number in [lo, hi] (or (lo, hi] with lo_open) as float."""
    u = f" {unit}" if unit else ""
    _check_digits(v, path)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SceneError(f"{path} = {fmt(v)} must be a number{u and ' in' + u}", path)
    if isinstance(v, int) and abs(v) > 1e300:  # float(v) would overflow
        raise SceneError(f"{path} = {fmt(v)}{u} is far too large", path)
    v = float(v)
    if not math.isfinite(v):
        raise SceneError(f"{path} = {fmt(v)} is not a finite number", path)
    if lo_open and v <= lo:
        raise SceneError(f"{path} = {fmt(v)}{u} must be > {fmt(lo)}{u}", path)
    if v < lo or v > hi:
        raise SceneError(f"{path} = {fmt(v)}{u} is outside {fmt(lo)} .. {fmt(hi)}{u}", path)
    return v


def vector(v: Any, path: str, n: int, lo: float, hi: float, unit: str = "") -> tuple[float, ...]:
    """A list of exactly n numbers in [lo, hi]."""
    if not isinstance(v, list) or len(v) != n:
        raise SceneError(f"{path} = {fmt(v)} must be a list of {n} numbers", path)
    return tuple(number(x, f"{path}[{i}]", lo, hi, unit) for i, x in enumerate(v))


def text(v: Any, path: str, max_chars: int = MAX_NAME_CHARS, multiline: bool = False) -> str:
    """A string of valid Unicode, at most max_chars long, on one line unless `multiline`."""
    if not isinstance(v, str):
        raise SceneError(f"{path} = {fmt(v)} must be a string", path)
    if len(v) > max_chars:
        raise SceneError(f"{path} = {fmt(v)} is too long (at most {max_chars} characters)",
                         path)
    for ch in v:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            raise SceneError(f"{path} = {fmt(v)} is not valid Unicode (a lone surrogate)", path)
        if cat == "Cc" and not (multiline and ch in "\n\t"):
            raise SceneError(f"{path} = {fmt(v)} holds a control character", path)
    return v


class Obj:
    """A JSON object being read: tracks its field path and which keys were consumed."""

    def __init__(self, data: Any, path: str):
        if not isinstance(data, dict):
            raise SceneError(f"{path or 'file'} = {fmt(data)} must be an object {{...}}", path)
        self.data, self.path, self.used = data, path, set()

    def sub(self, key: str) -> str:
        """Field path of `key`: `path.key`, or `path["odd key"]` for keys that are not names."""
        if not _PLAIN_KEY.fullmatch(key):
            return f"{self.path}[{fmt(key)}]"
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise SceneError(f"{self.sub(key)} is missing", self.sub(key))
            return default
        return self.data[key]

    def number(self, key: str, lo: float, hi: float, unit: str = "", default: Any = ...,
               lo_open: bool = False) -> float | None:
        v = self.raw(key, default)
        if v is None and default is None:
            return None
        return number(v, self.sub(key), lo, hi, unit, lo_open)

    def integer(self, key: str, lo: int, hi: int, default: Any = ...) -> int | None:
        v = self.raw(key, default)
        if v is None and default is None:
            return None
        _check_digits(v, self.sub(key))
        if isinstance(v, bool) or not isinstance(v, int):
            raise SceneError(f"{self.sub(key)} = {fmt(v)} must be an integer ({lo} .. {hi})",
                             self.sub(key))
        if not lo <= v <= hi:
            raise SceneError(f"{self.sub(key)} = {fmt(v)} is outside {lo} .. {hi}",
                             self.sub(key))
        return v

    def string(self, key: str, default: Any = ..., choices: tuple[str, ...] | None = None,
               max_chars: int = MAX_NAME_CHARS, multiline: bool = False) -> str:
        v = text(self.raw(key, default), self.sub(key), max_chars, multiline)
        if choices is not None and v not in choices:
            raise SceneError(f"{self.sub(key)} = {fmt(v)} must be one of {', '.join(choices)}",
                             self.sub(key))
        return v

    def boolean(self, key: str, default: Any = ...) -> bool:
        v = self.raw(key, default)
        if not isinstance(v, bool):
            raise SceneError(f"{self.sub(key)} = {fmt(v)} must be true or false", self.sub(key))
        return v

    def vector(self, key: str, n: int, lo: float, hi: float, unit: str = "",
               default: Any = ...) -> tuple[float, ...]:
        return vector(self.raw(key, default), self.sub(key), n, lo, hi, unit)

    def array(self, key: str, max_items: int, default: Any = ...) -> list:
        v = self.raw(key, default)
        if not isinstance(v, list):
            raise SceneError(f"{self.sub(key)} = {fmt(v)} must be a list [...]", self.sub(key))
        if len(v) > max_items:
            raise SceneError(f"{self.sub(key)} has {len(v)} entries (at most {max_items})",
                             self.sub(key))
        return v

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            where = self.sub(unknown[0])
            allowed = ", ".join(sorted(self.used)) or "none"
            raise SceneError(f"{where}: unknown key (allowed here: {allowed})", where)
