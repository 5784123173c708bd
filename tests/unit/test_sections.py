"""Settings sections (`jobs.sections`): types read as a YAML file holds them, every problem
located on its key, validators in order, frozen values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.sections import (
    Coerce,
    Field,
    Section,
    SectionError,
    ValidationInfo,
    field_validator,
    make_section,
    model_validator,
)


class Inner(Section):
    name: str
    count: int = 1


class Kinds(Section):
    text: str = ""
    number: int = 0
    ratio: float = 0.0
    flag: bool = False
    day: date | None = None
    choice: Literal["a", "b"] = "a"
    words: list[str] = Field(default_factory=list)
    table: dict[str, str | None] = Field(default_factory=dict)
    inner: Inner | None = None
    inners: list[Inner] = Field(default_factory=list)
    either: Literal["calendar", "off"] | dict[str, int] = "calendar"
    bounded: int = Field(5, ge=1, le=10)
    above_one: float = Field(2.0, gt=1.0)
    some: list[str] = Field(default_factory=lambda: ["x"], min_length=1)
    scaled: Annotated[int, Coerce(lambda v: int(str(v).removesuffix("x")) * 10)] = 0


def problems(data: dict[str, Any], model: type[Section] = Kinds) -> list[tuple[Any, str, str]]:
    with pytest.raises(SectionError) as raised:
        model.model_validate(data)
    return [(e["loc"], e["type"], e["msg"]) for e in raised.value.errors()]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("text", "hello", "hello"),
        ("number", 7, 7),
        ("number", "7", 7),
        ("number", " 7 ", 7),
        ("number", 7.0, 7),
        ("ratio", 2, 2.0),
        ("ratio", "2.5", 2.5),
        ("flag", True, True),
        ("flag", "yes", True),
        ("flag", "Off", False),
        ("flag", 1, True),
        ("day", date(2026, 12, 24), date(2026, 12, 24)),
        ("day", "2026-12-24", date(2026, 12, 24)),
        ("day", datetime(2026, 12, 24), date(2026, 12, 24)),
        ("day", None, None),
        ("choice", "b", "b"),
        ("words", ("a", "b"), ["a", "b"]),
        ("table", {"x": None, "y": "z"}, {"x": None, "y": "z"}),
        ("inner", {"name": "n"}, Inner(name="n", count=1)),
        ("inners", [{"name": "n", "count": "2"}], [Inner(name="n", count=2)]),
        ("either", "off", "off"),
        ("either", {"mon": 9}, {"mon": 9}),
        ("scaled", "3x", 30),
    ],
)
def test_it_reads_each_type_as_a_yaml_file_holds_it(key: str, value: Any, expected: Any) -> None:
    assert getattr(Kinds.model_validate({key: value}), key) == expected


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("text", 5, "string_type"),
        ("text", ["a"], "string_type"),
        ("number", "lots", "int_parsing"),
        ("number", 2.5, "int_from_float"),
        ("number", True, "int_type"),  # `tab_index: true` is a slip, not 1
        ("ratio", "x", "float_parsing"),
        ("ratio", False, "float_type"),
        ("flag", "perhaps", "bool_parsing"),
        ("flag", 2, "bool_parsing"),
        ("day", "someday", "date_parsing"),
        ("day", datetime(2026, 12, 24, 9, 30), "date_type"),
        ("choice", "A", "literal_error"),
        ("words", "a", "list_type"),
        ("table", ["a"], "dict_type"),
        ("inner", "n", "model_type"),
        ("bounded", 0, "greater_than_equal"),
        ("bounded", 11, "less_than_equal"),
        ("above_one", 1, "greater_than"),
        ("some", [], "too_short"),
        ("scaled", "x", "value_error"),
    ],
)
def test_a_wrong_value_is_one_problem_on_its_key(key: str, value: Any, kind: str) -> None:
    [(loc, found, _)] = problems({key: value})
    assert (loc, found) == ((key,), kind)


def test_bounds_read_as_the_settings_wrote_them() -> None:
    assert problems({"above_one": 1}) == [
        (("above_one",), "greater_than", "Input should be greater than 1")
    ]
    assert problems({"bounded": 11})[0][2] == "Input should be less than or equal to 10"


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    found = problems(
        {
            "number": "x",
            "words": ["a", 5, "c", 6],
            "inner": {"count": "many", "nmae": "typo"},
            "inners": [{"name": "ok"}, {"name": 3}],
            "table": {"k": 1},
            "surprise": True,
        }
    )
    assert sorted((".".join(map(str, loc)), kind) for loc, kind, _ in found) == [
        ("inner.count", "int_parsing"),
        ("inner.name", "missing"),
        ("inner.nmae", "extra_forbidden"),
        ("inners.1.name", "string_type"),
        ("number", "int_parsing"),
        ("surprise", "extra_forbidden"),
        ("table.k", "string_type"),
        ("words.1", "string_type"),
        ("words.3", "string_type"),
    ]


def test_a_union_reports_the_arm_the_value_is_shaped_for() -> None:
    """A mapping is a wrong mapping, not a wrong word; a word is a wrong word."""
    assert [p[:2] for p in problems({"either": {"mon": "nine"}})] == [
        (("either", "mon"), "int_parsing")
    ]
    assert [p[:2] for p in problems({"either": "sometimes"})] == [(("either",), "literal_error")]
    assert [p[:2] for p in problems({"either": 42})] == [(("either",), "literal_error")]


def test_defaults_are_not_validated_and_never_shared() -> None:
    first, second = Kinds(), Kinds()
    assert first.words == [] and first.words is not second.words
    assert first.some == ["x"] and first.some is not second.some
    assert Kinds.model_fields["number"].default == 0
    assert first.model_fields_set == frozenset()
    assert Kinds(number=3).model_fields_set == frozenset({"number"})


def test_a_required_field_that_is_missing_is_named() -> None:
    assert problems({}, Inner) == [(("name",), "missing", "Field required")]


def test_unknown_keys_are_kept_where_the_section_allows_them() -> None:
    class Open(Inner, extra="allow"):
        pass

    section = Open.model_validate({"name": "n", "later": 3})
    assert section.later == 3  # type: ignore[attr-defined]
    assert section.model_extra == {"later": 3}
    assert problems({"name": "n", "later": 3}, Inner) == [
        (("later",), "extra_forbidden", "Extra inputs are not permitted")
    ]


class Checked(Section):
    a: int = 0
    b: str = ""
    seen: list[str] = Field(default_factory=list)

    @field_validator("*")
    @classmethod
    def _everywhere(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and "\n" in value:
            raise ValueError(f"{info.field_name} is more than one line")
        return value

    @field_validator("a")
    @classmethod
    def _small(cls, value: int, info: ValidationInfo) -> int:
        if value > 100 and not (info.context or {}).get("lenient"):
            raise ValueError("a is at most 100")
        return value

    @field_validator("b")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _consistent(self) -> Checked:
        if self.a and not self.b:
            raise ValueError("a needs b")
        return self


def test_field_validators_run_after_the_type_with_the_callers_context() -> None:
    assert Checked.model_validate({"a": 5, "b": "  x  "}).b == "x"
    assert problems({"a": 500, "b": "x"}, Checked) == [
        (("a",), "value_error", "Value error, a is at most 100")
    ]
    assert Checked.model_validate({"a": 500, "b": "x"}, context={"lenient": True}).a == 500
    assert problems({"b": "two\nlines"}, Checked) == [
        (("b",), "value_error", "Value error, b is more than one line")
    ]
    assert [p[:2] for p in problems({"a": "x"}, Checked)] == [(("a",), "int_parsing")]


def test_a_section_check_runs_once_every_field_is_valid_and_names_the_section() -> None:
    assert problems({"a": 1}, Checked) == [((), "value_error", "Value error, a needs b")]
    # with a field wrong, only that field is reported
    assert [p[:2] for p in problems({"a": 1, "b": 5}, Checked)] == [(("b",), "string_type")]

    class Outer(Section):
        checked: Checked = Field(default_factory=Checked)

    assert problems({"checked": {"a": 1}}, Outer) == [
        (("checked",), "value_error", "Value error, a needs b")
    ]


def test_a_validator_that_validates_a_section_reports_under_its_key() -> None:
    class Hours(Section):
        start: int = Field(9, ge=0, le=23)

    class Desk(Section):
        hours: dict[str, Any] = Field(default_factory=dict)

        @field_validator("hours")
        @classmethod
        def _as_hours(cls, value: dict[str, Any]) -> dict[str, Any]:
            Hours(**value)
            return value

    assert [p[:2] for p in problems({"hours": {"start": 30}}, Desk)] == [
        (("hours", "start"), "less_than_equal")
    ]


def test_sections_are_frozen_values() -> None:
    one = Inner(name="n")
    with pytest.raises(TypeError, match="frozen"):
        one.name = "m"  # type: ignore[misc]
    assert one == Inner(name="n") and one != Inner(name="m")
    assert hash(one) == hash(Inner(name="n"))
    assert repr(one) == "Inner(name='n', count=1)"
    changed = one.model_copy(update={"count": 4})
    assert (changed.count, one.count) == (4, 1)
    assert changed.model_fields_set == frozenset({"name", "count"})


def test_a_field_redeclared_below_keeps_its_place_and_takes_the_new_default() -> None:
    class Base(Section):
        schedule: str
        enabled: bool = True

    class Job(Base):
        schedule: str = "*/15 * * * *"
        extra_setting: int = 1

    assert list(Job.model_fields) == ["schedule", "enabled", "extra_setting"]
    assert Job.model_fields["schedule"].default == "*/15 * * * *"
    assert Job().schedule == "*/15 * * * *"
    assert problems({}, Base) == [(("schedule",), "missing", "Field required")]


def test_a_section_made_at_run_time_validates_like_a_declared_one() -> None:
    Made = make_section(
        "Made", Section, {"inner": (Inner, Field(default_factory=lambda: Inner(name="d")))}
    )
    assert Made().inner == Inner(name="d")  # type: ignore[attr-defined]
    assert [p[:2] for p in problems({"inner": {"name": 1}}, Made)] == [
        (("inner", "name"), "string_type")
    ]


def test_an_error_says_what_failed_in_its_text() -> None:
    with pytest.raises(SectionError) as raised:
        Inner(name=5, count="x")
    text = str(raised.value)
    assert text.startswith("2 validation errors for Inner")
    assert "Input should be a valid string" in text and "count" in text


def test_a_subclass_reads_its_own_annotations_and_keeps_its_bases() -> None:
    """Fields come from the class's own annotations (evaluated in its module) on top of its
    bases' fields, read once; the bases' validators still apply."""

    class Base(Checked):
        c: DayOrNone = None

    class Child(Base):
        a: int = 7  # a new default for a base field, which keeps its place and validator

    assert list(Child.model_fields) == ["a", "b", "seen", "c"]
    assert Child.model_fields["c"].annotation == date | None
    assert Child(b="x").a == 7 and Child(c="2026-12-24", b="x").c == date(2026, 12, 24)
    assert [p[:2] for p in problems({"a": 500, "b": "x"}, Child)] == [(("a",), "value_error")]


DayOrNone = date | None


# -- the real settings, fed anything a YAML file can hold -------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["2h", "3bd", "0s", "calendar", "off", "*/15 * * * *", "09:00-17:00", "yes"]),
    st.dates(),
    st.datetimes(),
)
_YAML_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _setting_paths() -> list[tuple[str, ...]]:
    """Every key of the real settings model, sections and leaves (lists entered at item 0)."""
    import typing

    from jobs.config import _settings_model
    from jobs.registry import all_jobs

    model = _settings_model({n: j.spec.config_model for n, j in all_jobs().items()})
    paths: list[tuple[str, ...]] = []

    def walk(section: type[Section], path: tuple[str, ...]) -> None:
        for name, info in section.model_fields.items():
            paths.append((*path, name))
            for arm in (info.annotation, *typing.get_args(info.annotation)):
                if isinstance(arm, type) and issubclass(arm, Section):
                    walk(arm, (*path, name))

    walk(model, ())
    return paths


_PATHS = _setting_paths()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.sampled_from(_PATHS), _YAML_VALUES), min_size=1, max_size=3))
def test_any_value_anywhere_is_a_located_problem_or_valid_settings(
    changes: list[tuple[tuple[str, ...], Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever a file holds at any key, loading it gives settings or ConfigError problems
    that each name a key path; never another exception."""
    import yaml

    from jobs.config import ConfigError, load_settings
    from jobs.registry import all_jobs

    data: dict[str, Any] = {}
    for path, value in changes:
        node = data
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}  # a change inside a section replaces a value there
            node = child
        node[path[-1]] = value
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "settings.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    models = {n: j.spec.config_model for n, j in all_jobs().items()}
    try:
        load_settings(folder / "settings.yaml", models)
    except ConfigError as exc:
        assert exc.problems, data
        for problem in exc.problems:
            assert "\n" not in problem and ":" in problem, problem


class Window(Section):
    hours: int = Field(1, ge=1)


def test_a_section_check_that_validates_a_section_reports_under_the_section() -> None:
    """A section validator, or a coercion, that builds a section of its own brings that
    section's problems, each one line with its full path."""

    class Plan(Section):
        window: dict[str, Any] = Field(default_factory=dict)
        coerced: Annotated[Any, Coerce(lambda v: Window(**v))] = None

        @model_validator(mode="after")
        def _window_is_a_window(self) -> Plan:
            Window(**self.window)
            return self

    assert [p[:2] for p in problems({"window": {"hours": 0}}, Plan)] == [
        (("hours",), "greater_than_equal")
    ]
    assert [p[:2] for p in problems({"coerced": {"hours": 0}}, Plan)] == [
        (("coerced", "hours"), "greater_than_equal")
    ]


def test_a_word_where_a_section_belongs_names_the_sections_keys() -> None:
    assert problems({"inner": "n"}) == [
        (("inner",), "model_type", "Input should be a mapping of settings (keys: name, count)")
    ]
