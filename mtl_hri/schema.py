"""Mappings read from JSON or YAML into dataclasses, every value checked against its field's annotation.

`from_dict(ModelCard, json.loads(text), "model card x/model.json")` either returns the dataclass or raises
one ValueError naming where, the dotted path and what was wrong:

    model card x/model.json: input.frames: expected int, got str '16'

Strict on purpose, as a card or recipe is written once and read by a robot much later: a bool is not an int,
a string is never parsed into a number, floats must be finite, unknown and missing keys are errors. An int
where a float is declared is fine (YAML and JSON write 4.0 as 4). Lists become tuples where a tuple is
declared (JSON and YAML have none).
"""
from __future__ import annotations

import dataclasses
import functools
import math
import reprlib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

T = TypeVar("T")

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxdict, _short.maxlevel = 40, 40, 4, 4, 2


class _Mismatch(Exception):
    """A value that does not fit its annotation, at `path` (dotted, from the top)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path, self.problem = path, problem


def from_dict(cls: type[T], values: Any, where: str = "model card") -> T:
    """`cls` (a dataclass) built from `values`; ValueError "`where`: path: problem" if anything does not fit."""
    try:
        return _convert(cls, values, "")
    except _Mismatch as exc:
        raise ValueError(f"{where}: {exc.path}: {exc.problem}" if exc.path else f"{where}: {exc.problem}") from None


def type_name(tp: Any) -> str:
    """How an annotation reads in a message: int, list[str], tuple[float, float], str | None."""
    if tp is type(None):
        return "None"
    if tp is Any:
        return "any JSON value"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is not None:
        return f"{origin.__name__}[{', '.join('...' if a is Ellipsis else type_name(a) for a in args)}]"
    return getattr(tp, "__name__", str(tp))


def _got(value: Any) -> str:
    return f"got {type(value).__name__} {_short.repr(value)}"


def _join(path: str, key: Any) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # the modules use `from __future__ import annotations`: strings to types


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _dataclass(tp, value, path)
    if tp is Any:
        _check_finite(value, path)
        return value
    if tp is type(None):
        if value is not None:
            raise _Mismatch(path, f"expected None, {_got(value)}")
        return None
    if origin in (Union, types.UnionType):
        return _union(tp, args, value, path)
    if origin is Literal:
        if not any(type(value) is type(a) and value == a for a in args):  # 1 is not True, nor "1" 1
            raise _Mismatch(path, f"expected {type_name(tp)}, {_got(value)}")
        return value
    if tp is bool:
        if type(value) is not bool:
            raise _Mismatch(path, f"expected bool (true or false), {_got(value)}")
        return value
    if tp is int:
        if type(value) is not int:  # bool is a subclass of int, and "16" is text: both refused
            raise _Mismatch(path, f"expected int, {_got(value)}")
        return value
    if tp is float:
        return _float(value, path)
    if tp is str:
        if not isinstance(value, str):
            raise _Mismatch(path, f"expected str, {_got(value)}")
        return value
    if tp is Path:
        if not isinstance(value, (str, Path)):
            raise _Mismatch(path, f"expected a path (str), {_got(value)}")
        return Path(value)
    if origin is tuple:
        return _tuple(tp, args, value, path)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise _Mismatch(path, f"expected {type_name(tp)}, {_got(value)}")
        return [_convert(args[0], v, _join(path, i)) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _Mismatch(path, f"expected {type_name(tp)}, {_got(value)}")
        return {_key(args[0], k, path): _convert(args[1], v, _join(path, k)) for k, v in value.items()}
    raise TypeError(f"{path}: annotation {tp!r} is not supported by mtl_hri.schema")


def _key(tp: Any, key: Any, path: str) -> Any:
    try:
        return _convert(tp, key, path)
    except _Mismatch as exc:
        raise _Mismatch(path, f"key {_short.repr(key)}: {exc.problem}") from None


def _dataclass(cls: type, value: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        raise _Mismatch(path, f"expected a mapping (a JSON object / YAML mapping) for {cls.__name__}, {_got(value)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in value if k not in fields]
    if unknown:
        raise _Mismatch(path, f"unknown key {_short.repr(unknown[0])} (known: {', '.join(fields)})")
    missing = [name for name, f in fields.items() if name not in value
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise _Mismatch(path, f"missing required key {missing[0]!r}")
    hints = _hints(cls)
    kwargs = {k: _convert(hints[k], v, _join(path, k)) for k, v in value.items()}
    try:
        return cls(**kwargs)
    except ValueError as exc:  # a __post_init__ check (e.g. SourceConfig's adapter names)
        raise _Mismatch(path, str(exc)) from None


def _union(tp: Any, args: tuple, value: Any, path: str) -> Any:
    if value is None and type(None) in args:
        return None
    options = [a for a in args if a is not type(None)]
    if len(options) == 1:  # X | None: X's own message is the precise one
        return _convert(options[0], value, path)
    for option in options:
        try:
            return _convert(option, value, path)
        except _Mismatch:
            continue
    raise _Mismatch(path, f"expected {type_name(tp)}, {_got(value)}")


def _float(value: Any, path: str) -> float:
    if type(value) not in (int, float):
        hint = ""
        if isinstance(value, str):
            try:
                float(value)
                hint = " (YAML reads 1e-3 as text: write 1.0e-3)"
            except ValueError:
                pass
        raise _Mismatch(path, f"expected float, {_got(value)}{hint}")
    if not math.isfinite(value):
        raise _Mismatch(path, f"expected a finite float, got {value!r}")
    return float(value)


def _tuple(tp: Any, args: tuple, value: Any, path: str) -> tuple:
    if not isinstance(value, (list, tuple)):
        raise _Mismatch(path, f"expected {type_name(tp)} (a list), {_got(value)}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_convert(args[0], v, _join(path, i)) for i, v in enumerate(value))
    if len(value) != len(args):
        raise _Mismatch(path, f"expected {len(args)} values ({type_name(tp)}), got {len(value)}")
    return tuple(_convert(a, v, _join(path, i)) for i, (a, v) in enumerate(zip(args, value)))


def _check_finite(value: Any, path: str) -> None:
    """Free-form data (dict[str, Any]) holds no NaN or infinity either: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        raise _Mismatch(path, f"expected a finite number, got {value!r}")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_finite(v, _join(path, k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_finite(v, _join(path, i))
