"""Canned replies: one Jinja2 template per SOP template name, rendered in a sandbox.

Template text lives in ``config/templates/`` so the desk can change wording without code.
The sandbox (no attribute access to Python internals) and StrictUndefined (a misspelt
variable is an error, never an empty hole in an email to a customer) are deliberate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import nodes

# Jinja2 is imported when a template is first checked or rendered: a job that sends no
# canned reply never loads it.


def template_file_name(sop_name: str) -> str:
    """'Onboard: Doc ready to test - first email' -> 'onboard_doc_ready_to_test_first_email.j2'."""
    slug = re.sub(r"[^a-z0-9]+", "_", sop_name.casefold()).strip("_")
    return f"{slug}.j2"


@dataclass(frozen=True)
class TemplateSpec:
    """A canned reply a job sends: its SOP name and the variables the job provides."""

    name: str
    variables: frozenset[str]

    @property
    def file_name(self) -> str:
        return template_file_name(self.name)


class TemplateProblem(Exception):
    pass


class Templates:
    def __init__(self, directory: Path) -> None:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self.directory = directory
        self._env = ImmutableSandboxedEnvironment(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        self._cache: dict[str, Any] = {}

    def _source(self, spec: TemplateSpec) -> str:
        path = self.directory / spec.file_name
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            raise TemplateProblem(
                f"template {spec.name!r}: file {path} is missing or unreadable"
            ) from None
        except UnicodeDecodeError as exc:
            raise TemplateProblem(
                f"template {spec.name!r} ({spec.file_name}): not UTF-8 text (byte "
                f"0x{exc.object[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
            ) from None

    def check(self, spec: TemplateSpec) -> list[str]:
        """Problems with one template: missing file, syntax error, unknown variables."""
        from jinja2 import TemplateError, meta, nodes

        try:
            source = self._source(spec)
        except TemplateProblem as exc:
            return [str(exc)]
        try:
            parsed = self._env.parse(source)
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            return [f"template {spec.name!r} ({spec.file_name}, line {line}): {exc}"]
        # Each reply is one file: there is no loader, so include/import/extends would only
        # fail at send time ("no loader for this environment specified").
        loading = _loading_nodes()
        loads = sorted({loading[type(node)] for node in parsed.find_all(tuple(loading))})
        if loads:
            return [
                f"template {spec.name!r} ({spec.file_name}): {{% {loads[0]} %}} is not "
                "supported; each reply is one self-contained file"
            ]
        private = sorted(
            {
                name
                for node in parsed.find_all((nodes.Getattr, nodes.Getitem))
                if (name := _private_name(node))
            }
        )
        if private:
            return [
                f"template {spec.name!r} ({spec.file_name}): access to internal attribute(s) "
                f"{', '.join(private)} is not allowed"
            ]
        unknown = sorted(meta.find_undeclared_variables(parsed) - spec.variables)
        if unknown:
            allowed = ", ".join(sorted(spec.variables))
            return [
                f"template {spec.name!r} ({spec.file_name}): unknown variable(s) "
                f"{', '.join(unknown)}; available: {allowed}"
            ]
        return []

    def render(self, spec: TemplateSpec, values: Mapping[str, Any]) -> str:
        if spec.name not in self._cache:
            problems = self.check(spec)
            if problems:
                raise TemplateProblem(problems[0])
            self._cache[spec.name] = self._env.from_string(self._source(spec))
        try:
            text = self._cache[spec.name].render(**dict(values))
        except Exception as exc:  # an attribute the value lacks, a division by zero, ...
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise TemplateProblem(f"template {spec.name!r} ({spec.file_name}): {detail}") from None
        return str(text).strip() + "\n"


def _loading_nodes() -> dict[type[nodes.Node], str]:
    from jinja2 import nodes

    return {
        nodes.Include: "include",
        nodes.Import: "import",
        nodes.FromImport: "from ... import",
        nodes.Extends: "extends",
    }


def _private_name(node: nodes.Node) -> str | None:
    """``x._y`` / ``x['__y']``: the sandbox refuses these at render time; say so up front."""
    from jinja2 import nodes

    if isinstance(node, nodes.Getattr):
        return node.attr if node.attr.startswith("_") else None
    arg = getattr(node, "arg", None)
    if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and arg.value.startswith("_"):
        return arg.value
    return None


def check_templates(directory: Path, specs: Iterable[TemplateSpec]) -> list[str]:
    specs = list(specs)
    if not specs:
        return []
    templates = Templates(directory)
    return [problem for spec in specs for problem in templates.check(spec)]
