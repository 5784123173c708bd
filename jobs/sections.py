"""Typed, validated settings sections: the part of pydantic's model API the settings use.

A section is a class of annotated fields with defaults (``realert: DurationField =
parse_duration("24h")``). Validating a mapping (`Section.model_validate`, or calling the class)
checks every key at once and raises `SectionError`, whose ``errors()`` are pydantic-shaped
dicts (``loc``, ``type``, ``msg``, ``input``) that `jobs.config` turns into one line per key.

Why not pydantic itself: every process validates the settings as it starts, and importing
pydantic and building the settings models' schemas cost a run more CPU than the run's own work
on a small desk (about 0.15 s of a 0.5 s run). These sections are plain classes whose fields
are read from their annotations on first use, and validation is a walk over the few types
the settings hold: ``str``, ``int``, ``float``, ``bool``, ``date``, ``None``, ``Literal``,
``list``, ``dict``, unions of these, nested sections, and ``Annotated[T, Coerce(f)]`` for a
value parsed from text first (durations).

Input is read as pydantic's lax mode reads a YAML document: ``"5"`` is an int, ``yes`` a
bool, ``2026-01-02`` (text) a date; a bool is no number here (``tab_index: true`` is a slip).
"""

from __future__ import annotations

import copy
import operator
import sys
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Literal, TypeVar

_F = TypeVar("_F")
_T = TypeVar("_T")
_S = TypeVar("_S", bound="Section")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The default of a required field."""


class Coerce:
    """``Annotated[T, Coerce(f)]``: ``f`` turns the input into a ``T`` first (or raises
    ValueError, reported on the key)."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function


class FieldInfo:
    """One field of a section: its type (``Annotated`` removed), default and bounds.

    (The small classes here are plain classes, not dataclasses: every process imports this
    module as it starts, and a frozen dataclass costs about a millisecond to create.)"""

    __slots__ = (
        "name",
        "annotation",
        "default",
        "default_factory",
        "ge",
        "gt",
        "le",
        "min_length",
        "coerce",
    )

    def __init__(
        self,
        name: str,
        annotation: Any,
        default: Any = MISSING,
        default_factory: Callable[[], Any] | None = None,
        ge: float | None = None,
        gt: float | None = None,
        le: float | None = None,
        min_length: int | None = None,
        coerce: Callable[[Any], Any] | None = None,
    ) -> None:
        self.name = name
        self.annotation = annotation
        self.default = default
        self.default_factory = default_factory
        self.ge, self.gt, self.le, self.min_length = ge, gt, le, min_length
        self.coerce = coerce

    def __repr__(self) -> str:
        return f"FieldInfo({self.name!r}, {self.annotation!r}, default={self.default!r})"

    def placed(self, name: str, annotation: Any, coerce: Callable[[Any], Any] | None) -> FieldInfo:
        """This default and these bounds, for the field ``name`` of type ``annotation``."""
        return FieldInfo(
            name,
            annotation,
            self.default,
            self.default_factory,
            self.ge,
            self.gt,
            self.le,
            self.min_length,
            coerce,
        )

    def is_required(self) -> bool:
        return self.default is MISSING and self.default_factory is None

    def make_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        if isinstance(self.default, list | dict | set):
            return copy.deepcopy(self.default)
        return self.default


def Field(  # noqa: N802 - reads as the pydantic spelling it replaces
    default: Any = MISSING,
    *,
    default_factory: Callable[[], Any] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
) -> Any:
    """A field's default and bounds: ``Field(8, ge=1, le=32)``, ``Field(default_factory=list)``.
    The section's class reads it (with the field's name and type) into a `FieldInfo`."""
    return FieldInfo("", None, default, default_factory, ge, gt, le, min_length)


class ValidationInfo:
    """What a field validator may ask: the field's name and the caller's context."""

    __slots__ = ("field_name", "context")

    def __init__(self, field_name: str, context: Any = None) -> None:
        self.field_name = field_name
        self.context = context


def field_validator(*names: str, mode: Literal["after"] = "after") -> Callable[[_F], _F]:
    """Mark a classmethod ``(cls, value[, info]) -> value`` to run on these fields (``"*"``:
    every field) after their type is checked; a ValueError is reported on the field."""

    def mark(function: _F) -> _F:
        function.__validates_fields__ = names  # type: ignore[attr-defined]
        return function

    return mark


def model_validator(*, mode: Literal["after"] = "after") -> Callable[[_F], _F]:
    """Mark a method ``(self) -> self`` to run once every field is valid; a ValueError is
    reported on the section."""

    def mark(function: _F) -> _F:
        function.__validates_section__ = True  # type: ignore[attr-defined]
        return function

    return mark


class SectionError(ValueError):
    """Every problem found validating one section (and the sections inside it)."""

    def __init__(self, title: str, errors: list[dict[str, Any]]) -> None:
        self.title = title
        self._errors = errors
        lines = [f"{len(errors)} validation error{'s' if len(errors) != 1 else ''} for {title}"]
        for error in errors:
            lines.append(".".join(str(p) for p in error["loc"]) or "(section)")
            lines.append(f"  {error['msg']} [type={error['type']}, input_value={error['input']!r}]")
        super().__init__("\n".join(lines))

    def errors(self) -> list[dict[str, Any]]:
        return list(self._errors)


class _Invalid(Exception):
    """Internal: the value at hand failed; the problems are already recorded."""


class _Walk:
    """One validation: the context and the problems found so far."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.errors: list[dict[str, Any]] = []

    def fail(self, loc: tuple[Any, ...], kind: str, msg: str, value: Any) -> _Invalid:
        self.errors.append({"loc": loc, "type": kind, "msg": msg, "input": value})
        return _Invalid()

    def refused(self, loc: tuple[Any, ...], exc: ValueError, value: Any) -> _Invalid:
        """A validator's ValueError as a problem at ``loc``. One that validated a section
        of its own (`notify.quiet_hours` as calendar hours) brings that section's problems,
        each under this key, so every problem stays one line with its full path."""
        if isinstance(exc, SectionError):
            self.errors.extend({**e, "loc": (*loc, *e["loc"])} for e in exc.errors())
            return _Invalid()
        return self.fail(loc, "value_error", f"Value error, {exc}", value)


_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _literal_text(choices: tuple[Any, ...]) -> str:
    shown = [repr(c) for c in choices]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def _kind_of(annotation: Any) -> type | None:
    """The Python type an input must be to suit ``annotation`` (to pick a union's arm)."""
    origin = typing.get_origin(annotation)
    if origin is list:
        return list
    if origin is dict or (isinstance(annotation, type) and issubclass(annotation, Section)):
        return dict
    if origin is Literal:
        return type(typing.get_args(annotation)[0])
    return annotation if isinstance(annotation, type) else None


def _keys_hint(section: type[Section]) -> str:
    """The keys a section takes, for the operator who wrote a word where it belongs."""
    names = list(section.model_fields)
    shown = ", ".join(names[:8])
    return f"keys: {shown}, ..." if len(names) > 8 else f"keys: {shown}"


def _validate(annotation: Any, value: Any, loc: tuple[Any, ...], walk: _Walk) -> Any:
    """``value`` as ``annotation``, or raise _Invalid after recording why."""
    if annotation is Any:
        return value
    if annotation is str:
        if isinstance(value, str):
            return value
        raise walk.fail(loc, "string_type", "Input should be a valid string", value)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise walk.fail(
            loc, "bool_parsing", "Input should be a valid boolean, unable to interpret input", value
        )
    if annotation is int:
        return _integer(value, loc, walk)
    if annotation is float:
        return _number(value, loc, walk)
    if annotation is date:
        return _date(value, loc, walk)
    if annotation is type(None):
        if value is None:
            return None
        raise walk.fail(loc, "none_required", "Input should be None", value)
    if isinstance(annotation, type) and issubclass(annotation, Section):
        if isinstance(value, annotation):
            return value
        if not isinstance(value, Mapping):
            raise walk.fail(
                loc,
                "model_type",
                f"Input should be a mapping of settings ({_keys_hint(annotation)})",
                value,
            )
        return annotation._build(value, loc, walk)

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        for choice in args:
            if type(value) is type(choice) and value == choice:
                return choice
        raise walk.fail(loc, "literal_error", f"Input should be {_literal_text(args)}", value)
    if origin is list:
        if not isinstance(value, list | tuple):
            raise walk.fail(loc, "list_type", "Input should be a valid list", value)
        return _each(args[0], value, loc, walk)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise walk.fail(loc, "dict_type", "Input should be a valid dictionary", value)
        key_type, value_type = args
        items: dict[Any, Any] = {}
        failed = False
        for key, item in value.items():
            try:
                items[_validate(key_type, key, (*loc, key), walk)] = _validate(
                    value_type, item, (*loc, key), walk
                )
            except _Invalid:
                failed = True
        if failed:
            raise _Invalid()
        return items
    if origin in (typing.Union, types.UnionType):
        return _union(args, value, loc, walk)
    raise TypeError(f"a settings field cannot be {annotation!r}")  # a programming error


def _each(item_type: Any, values: Any, loc: tuple[Any, ...], walk: _Walk) -> list[Any]:
    """Every item of a list as ``item_type``; every wrong item is reported, at its index."""
    done = []
    failed = False
    for n, item in enumerate(values):
        try:
            done.append(_validate(item_type, item, (*loc, n), walk))
        except _Invalid:
            failed = True
    if failed:
        raise _Invalid()
    return done


def _union(arms: tuple[Any, ...], value: Any, loc: tuple[Any, ...], walk: _Walk) -> Any:
    if value is None and type(None) in arms:
        return None
    candidates = [a for a in arms if a is not type(None)]
    # The arm the input's shape suits is the one whose complaint explains the problem
    # (`quiet_hours: {mon: 5}` is a wrong mapping, not a wrong word).
    suited = [a for a in candidates if (k := _kind_of(a)) is not None and isinstance(value, k)]
    order = suited + [a for a in candidates if a not in suited]
    complaints: list[dict[str, Any]] = []
    for n, arm in enumerate(order):
        trial = _Walk(walk.context)
        try:
            return _validate(arm, value, loc, trial)
        except _Invalid:
            if n == 0:
                complaints = trial.errors
    walk.errors.extend(complaints)
    raise _Invalid()


def _integer(value: Any, loc: tuple[Any, ...], walk: _Walk) -> int:
    if isinstance(value, bool):
        raise walk.fail(loc, "int_type", "Input should be a valid integer", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise walk.fail(
            loc,
            "int_from_float",
            "Input should be a valid integer, got a number with a fractional part",
            value,
        )
    if isinstance(value, str):
        return _from_text(int, value, loc, walk, "int", "an integer")
    raise walk.fail(loc, "int_type", "Input should be a valid integer", value)


def _number(value: Any, loc: tuple[Any, ...], walk: _Walk) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return _from_text(float, value, loc, walk, "float", "a number")
    raise walk.fail(loc, "float_type", "Input should be a valid number", value)


def _from_text(
    convert: Callable[[str], _T],
    text: str,
    loc: tuple[Any, ...],
    walk: _Walk,
    kind: str,
    noun: str,
) -> _T:
    """A number written as text (a quoted ``"8"``), or the problem of one that is none."""
    try:
        return convert(text.strip())
    except ValueError:
        raise walk.fail(
            loc,
            f"{kind}_parsing",
            f"Input should be a valid {noun.split()[-1]}, unable to parse string as {noun}",
            text,
        ) from None


def _date(value: Any, loc: tuple[Any, ...], walk: _Walk) -> date:
    if isinstance(value, datetime):
        if value.time() == datetime.min.time() and value.tzinfo is None:
            return value.date()
        raise walk.fail(
            loc, "date_type", "Input should be a valid date (a day, without a time)", value
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
        raise walk.fail(
            loc, "date_parsing", "Input should be a valid date in the format YYYY-MM-DD", value
        )
    raise walk.fail(loc, "date_type", "Input should be a valid date", value)


def _bounded(info: FieldInfo, value: Any, loc: tuple[Any, ...], walk: _Walk) -> Any:
    checks = (
        (info.ge, "greater_than_equal", "greater than or equal to", operator.ge),
        (info.gt, "greater_than", "greater than", operator.gt),
        (info.le, "less_than_equal", "less than or equal to", operator.le),
    )
    if isinstance(value, int | float):
        for bound, kind, words, holds in checks:
            if bound is not None and not holds(value, bound):
                shown = int(bound) if float(bound).is_integer() else bound
                raise walk.fail(loc, kind, f"Input should be {words} {shown}", value)
    if info.min_length is not None and len(value) < info.min_length:
        raise walk.fail(
            loc,
            "too_short",
            f"List should have at least {info.min_length} item"
            f"{'s' if info.min_length != 1 else ''} after validation, not {len(value)}",
            value,
        )
    return value


class _Fields:
    """``Section.model_fields``: a class's fields, read from its annotations on first use."""

    def __get__(self, instance: object, owner: type[Section]) -> dict[str, FieldInfo]:
        return owner._fields()


class Section:
    """Base of every settings section. Subclasses declare fields as annotations with
    defaults; ``extra="allow"`` in the class line keeps unknown keys instead of refusing
    them. Instances are frozen."""

    __section_extra__: ClassVar[str] = "forbid"
    __section_fields__: ClassVar[dict[str, FieldInfo] | None] = None
    __section_validators__: ClassVar[dict[str, list[Callable[..., Any]]]]
    __section_model_validators__: ClassVar[list[Callable[..., Any]]]

    model_fields_set: frozenset[str]
    model_extra: dict[str, Any] | None

    def __init_subclass__(cls, extra: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if extra is not None:
            cls.__section_extra__ = extra
        cls.__section_fields__ = None  # read from the annotations on first use

    # -- the class's fields --------------------------------------------------------------

    @classmethod
    def _fields(cls) -> dict[str, FieldInfo]:
        fields = cls.__dict__.get("__section_fields__")
        if fields is None:
            fields = cls._read_fields()
        return fields

    @classmethod
    def _read_fields(cls) -> dict[str, FieldInfo]:
        # A base section's fields are read once, and kept; only this class's own annotations
        # are evaluated here (typing.get_type_hints would evaluate every base's again).
        hints: dict[str, tuple[Any, Callable[[Any], Any] | None]] = {}
        for base in reversed(cls.__bases__):
            if issubclass(base, Section) and base is not Section:
                hints.update((n, (f.annotation, f.coerce)) for n, f in base._fields().items())
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if name.startswith("_") or name in _STATE:
                continue
            hint = _resolve(annotation, cls)
            if typing.get_origin(hint) is ClassVar:
                continue
            coerce = None
            if typing.get_origin(hint) is typing.Annotated:
                coerce = next(
                    (m.function for m in hint.__metadata__ if isinstance(m, Coerce)), None
                )
                hint = typing.get_args(hint)[0]
            hints[name] = (hint, coerce)
        fields: dict[str, FieldInfo] = {}
        for name, (hint, coerce) in hints.items():
            declared = getattr(cls, name, MISSING)
            if not isinstance(declared, FieldInfo):  # a plain default, not Field(...)
                declared = FieldInfo(name, hint, declared)
            fields[name] = declared.placed(name, hint, coerce)
        validators: dict[str, list[Callable[..., Any]]] = {}
        model_validators: list[Callable[..., Any]] = []
        for klass in reversed(cls.__mro__):
            for attribute in vars(klass).values():
                # the marks sit on the classmethod (field validators) or the function
                function = getattr(attribute, "__func__", attribute)
                names = getattr(attribute, "__validates_fields__", None)
                if isinstance(names, tuple):
                    for field_name in fields if "*" in names else names:
                        validators.setdefault(field_name, []).append(function)
                if getattr(function, "__validates_section__", False):
                    model_validators.append(function)
        # The fields last: a thread that finds them set finds the validators set too.
        cls.__section_validators__ = validators
        cls.__section_model_validators__ = model_validators
        cls.__section_fields__ = fields
        return fields

    model_fields: ClassVar[_Fields] = _Fields()
    """The fields by name, in declaration order (a base class's first); pydantic's name."""

    # -- validation ----------------------------------------------------------------------

    @classmethod
    def model_validate(cls: type[_S], data: Any, *, context: Any = None) -> _S:
        """``data`` (a mapping) as this section; raises `SectionError` listing every problem."""
        walk = _Walk(context)
        try:
            return _validate(cls, data, (), walk)  # type: ignore[no-any-return]
        except _Invalid:
            raise SectionError(cls.__name__, walk.errors) from None

    def __init__(self, **data: Any) -> None:
        walk = _Walk(None)
        try:
            built = type(self)._build(data, (), walk)
        except _Invalid:
            raise SectionError(type(self).__name__, walk.errors) from None
        object.__setattr__(self, "__dict__", built.__dict__)

    @classmethod
    def _build(cls: type[_S], data: Mapping[Any, Any], loc: tuple[Any, ...], walk: _Walk) -> _S:
        fields = cls._fields()
        extras = {k: v for k, v in data.items() if k not in fields}
        allowed = cls.__section_extra__ == "allow"
        values: dict[str, Any] = {}
        failed = False
        for key, value in ({} if allowed else extras).items():
            walk.fail((*loc, key), "extra_forbidden", "Extra inputs are not permitted", value)
            failed = True
        for name, info in fields.items():
            where = (*loc, name)
            if name not in data:
                if info.is_required():
                    walk.fail(where, "missing", "Field required", dict(data))
                    failed = True
                else:
                    values[name] = info.make_default()
                continue
            try:
                values[name] = cls._field_value(info, data[name], where, walk)
            except _Invalid:
                failed = True
        if failed:
            raise _Invalid()
        section = cls.__new__(cls)
        state = section.__dict__
        state.update(values)
        if allowed:
            state.update(extras)
        object.__setattr__(section, "model_fields_set", frozenset(k for k in data if k in fields))
        object.__setattr__(section, "model_extra", extras if allowed else None)
        for check in cls.__section_model_validators__:
            try:
                section = check(section)
            except ValueError as exc:
                raise walk.refused(loc, exc, dict(data)) from None
        return section

    @classmethod
    def _field_value(cls, info: FieldInfo, value: Any, loc: tuple[Any, ...], walk: _Walk) -> Any:
        raw = value
        if info.coerce is not None:
            try:
                value = info.coerce(value)
            except ValueError as exc:
                raise walk.refused(loc, exc, raw) from None
            if isinstance(info.annotation, type) and not isinstance(value, info.annotation):
                raise walk.fail(
                    loc, "value_error", f"Value error, not a {info.annotation.__name__}", raw
                )
        else:
            value = _validate(info.annotation, value, loc, walk)
        value = _bounded(info, value, loc, walk)
        for check in cls.__section_validators__.get(info.name, ()):
            try:
                if check.__code__.co_argcount >= 3:
                    value = check(cls, value, ValidationInfo(info.name, walk.context))
                else:
                    value = check(cls, value)
            except ValueError as exc:
                raise walk.refused(loc, exc, raw) from None
        return value

    # -- a frozen value ------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise TypeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def _values(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in _STATE}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Section)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), *self._values().values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._values().items())
        return f"{type(self).__name__}({shown})"

    def model_copy(self: _S, *, update: Mapping[str, Any] | None = None) -> _S:
        """A copy with ``update`` applied as given (not validated, as pydantic's)."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.__dict__.update(update or {})
        if update:
            object.__setattr__(twin, "model_fields_set", self.model_fields_set | set(update))
        return twin


_STATE = frozenset({"model_fields_set", "model_extra"})

_RESOLVED: dict[tuple[str, str], Any] = {}
"""Annotations already evaluated, by module and text (``str | None`` is in most sections)."""


def _resolve(annotation: Any, owner: type) -> Any:
    """An annotation as a type: text (``from __future__ import annotations``) is evaluated in
    the module that declared it; a name only the class body defines, in the class's."""
    if isinstance(annotation, str):
        key = (owner.__module__, annotation)
        if key in _RESOLVED:
            annotation = _RESOLVED[key]
        else:
            module = sys.modules.get(owner.__module__)
            namespace = vars(module) if module else {}
            try:
                annotation = _RESOLVED[key] = eval(annotation, namespace)  # noqa: S307
            except NameError:
                annotation = eval(annotation, namespace, dict(vars(owner)))  # noqa: S307
    return type(None) if annotation is None else annotation


def make_section(name: str, base: type[_S], fields: Mapping[str, tuple[Any, Any]]) -> type[_S]:
    """A section class made at run time: ``fields`` maps a name to (type, default or Field)."""
    namespace: dict[str, Any] = {"__annotations__": {k: t for k, (t, _) in fields.items()}}
    namespace.update({k: d for k, (_, d) in fields.items()})
    namespace["__module__"] = base.__module__
    return types.new_class(name, (base,), {}, lambda ns: ns.update(namespace))


__all__ = [
    "MISSING",
    "Coerce",
    "Field",
    "FieldInfo",
    "Section",
    "SectionError",
    "ValidationInfo",
    "field_validator",
    "make_section",
    "model_validator",
]
