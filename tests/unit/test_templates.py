from __future__ import annotations

from pathlib import Path

import pytest

from jobs.render.templates import TemplateProblem, Templates, TemplateSpec, check_templates

SPEC = TemplateSpec("Onboard Reset - Release tonight", frozenset({"customer_name", "key"}))


def test_it_derives_the_file_name_from_the_sop_name() -> None:
    assert SPEC.file_name == "onboard_reset_release_tonight.j2"


def test_it_reports_a_missing_template_file(tmp_path: Path) -> None:
    problems = check_templates(tmp_path, [SPEC])
    assert problems and "onboard_reset_release_tonight.j2" in problems[0]


def test_it_reports_unknown_variables_with_the_ones_available(tmp_path: Path) -> None:
    (tmp_path / SPEC.file_name).write_text("Hi {{ customer_name }}, {{ secret_sauce }}")
    problems = check_templates(tmp_path, [SPEC])
    assert "secret_sauce" in problems[0] and "available: customer_name, key" in problems[0]


def test_it_reports_syntax_errors_with_a_line(tmp_path: Path) -> None:
    (tmp_path / SPEC.file_name).write_text("Hi\n{% if %}")
    assert "line" in check_templates(tmp_path, [SPEC])[0]


def test_check_config_refuses_access_to_python_internals(tmp_path: Path) -> None:
    spec = TemplateSpec("evil", frozenset({"key"}))
    (tmp_path / spec.file_name).write_text("{{ key.__class__.__mro__[1].__subclasses__() }}")
    problems = check_templates(tmp_path, [spec])
    assert problems and "__class__" in problems[0] and "not allowed" in problems[0]
    with pytest.raises(TemplateProblem, match="not allowed"):
        Templates(tmp_path).render(spec, {"key": "SS-1"})


def test_the_sandbox_refuses_internals_reached_at_render_time(tmp_path: Path) -> None:
    spec = TemplateSpec("sly", frozenset({"key"}))
    (tmp_path / spec.file_name).write_text("{{ key|attr('__class__') }}")
    with pytest.raises(TemplateProblem) as info:
        Templates(tmp_path).render(spec, {"key": "SS-1"})
    assert "sly" in str(info.value)


def test_an_attribute_the_value_lacks_is_a_one_line_template_problem(tmp_path: Path) -> None:
    (tmp_path / SPEC.file_name).write_text("Hi {{ customer_name.nickname }}")
    with pytest.raises(TemplateProblem) as info:
        Templates(tmp_path).render(SPEC, {"customer_name": "Ana", "key": "SS-1"})
    assert "nickname" in str(info.value) and "\n" not in str(info.value)


def test_it_renders_declared_variables(tmp_path: Path) -> None:
    (tmp_path / SPEC.file_name).write_text("Hi {{ customer_name }} ({{ key }})")
    text = Templates(tmp_path).render(SPEC, {"customer_name": "Ana", "key": "SS-1"})
    assert text == "Hi Ana (SS-1)\n"


def test_a_missing_value_is_an_error_not_an_empty_hole(tmp_path: Path) -> None:
    (tmp_path / SPEC.file_name).write_text("Hi {{ customer_name }}")
    with pytest.raises(Exception, match="customer_name"):
        Templates(tmp_path).render(SPEC, {"key": "SS-1"})


def test_rendering_a_broken_template_raises_a_template_problem(tmp_path: Path) -> None:
    (tmp_path / SPEC.file_name).write_text("{{ nope }}")
    with pytest.raises(TemplateProblem, match="nope"):
        Templates(tmp_path).render(SPEC, {"key": "SS-1", "customer_name": "Ana"})


@pytest.mark.parametrize(
    ("body", "tag"),
    [
        ("{% include 'footer.j2' %}", "include"),
        ("{% import 'macros.j2' as m %}{{ key }}", "import"),
        ("{% from 'macros.j2' import sig %}{{ key }}", "from ... import"),
        ("{% extends 'base.j2' %}", "extends"),
    ],
)
def test_check_config_refuses_templates_that_load_other_files(
    tmp_path: Path, body: str, tag: str
) -> None:
    (tmp_path / SPEC.file_name).write_text(body)
    problems = check_templates(tmp_path, [SPEC])
    assert problems == [
        f"template {SPEC.name!r} ({SPEC.file_name}): {{% {tag} %}} is not supported; "
        "each reply is one self-contained file"
    ]


def test_a_template_that_is_not_utf8_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / SPEC.file_name).write_bytes(b"Hi \xff\xfe {{ customer_name }}")
    [problem] = check_templates(tmp_path, [SPEC])
    assert "not UTF-8" in problem and SPEC.file_name in problem and "\n" not in problem
    with pytest.raises(TemplateProblem, match="not UTF-8"):
        Templates(tmp_path).render(SPEC, {"customer_name": "Ana", "key": "SS-1"})


def test_an_error_while_rendering_is_a_one_line_template_problem(tmp_path: Path) -> None:
    (tmp_path / SPEC.file_name).write_text("Hi {{ customer_name }} {{ 1 // 0 }}")
    with pytest.raises(TemplateProblem) as info:
        Templates(tmp_path).render(SPEC, {"customer_name": "Ana", "key": "SS-1"})
    assert SPEC.file_name in str(info.value) and "\n" not in str(info.value)
