"""A small JQL parser and evaluator for the Jira emulator.

Grammar (the subset our jobs and tests use; anything else is a 400 like Jira's)::

    query    := [or_expr] [ORDER BY sort_key ("," sort_key)*]
    or_expr  := and_expr ((OR | "||") and_expr)*
    and_expr := not_expr ((AND | "&&") not_expr)*
    not_expr := (NOT | "!") not_expr | "(" or_expr ")" | clause
    clause   := field operator operand
    field    := word | "quoted name" | cf[10010]
    operator := = | != | ~ | !~ | > | >= | < | <= | IN | NOT IN | IS | IS NOT
    operand  := EMPTY | NULL | value | function "(" [arg ("," arg)*] ")"
              | "(" operand ("," operand)* ")"
    sort_key := field [ASC | DESC]

Quoted strings take ``\\"``, ``\\'``, ``\\\\``, ``\\n``, ``\\t``, ``\\r`` and ``\\uXXXX``
escapes, exactly as Jira does; any other backslash sequence is an error, so a value that was
spliced into a query without escaping fails loudly instead of matching the wrong tickets.

Semantics follow Jira Cloud where our jobs can tell the difference:

- ``!=`` and ``NOT IN`` never match an empty field (``assignee != x`` leaves unassigned ones out);
- ``~`` is a case-insensitive word search: every word must appear (a light stemmer stands in for
  Jira's, ``onboard`` finds ``Onboarding``), ``word*`` is a prefix, and an inner ``"quoted phrase"``
  must appear as consecutive words;
- values of enumerated fields (project, status, issue type, users...) must exist, or the query is
  refused with Jira's "The value 'x' does not exist for the field 'y'.";
- dates are compared at minute precision in the emulator's time zone (UTC);
  ``startOfWeek()`` starts on Sunday, as for Jira's default en_US locale.

The evaluator knows nothing about issues: the emulator hands it a ``field`` resolver returning a
`FieldSpec` (kind + how to read values from an issue), so this module can be tested on its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', "
    "'IN', 'NOT IN', 'IS' and 'IS NOT'."
)
RESERVED = frozenset({"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY"})


class JqlError(ValueError):
    """A query Jira would refuse; the emulator answers 400 ``Error in the JQL Query: <message>``."""


# -- tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str
    """word, string, op, lparen, rparen, comma or eof."""
    text: str
    """Unescaped text (strings), upper-cased keyword for && || !, or the word as written."""
    pos: int
    """0-based offset into the query, for Jira-style (line, character) messages."""
    raw: str


_OPERATORS = ("!=", ">=", "<=", "!~", "=", "~", ">", "<")
_WORD_STOP = set("(),=!~<>\"'") | {" ", "\t", "\n", "\r"}
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r", " ": " "}


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    return f"(line {line}, character {pos - start + 1})"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "(),":
            kind = {"(": "lparen", ")": "rparen", ",": "comma"}[c]
            tokens.append(Token(kind, c, i, c))
            i += 1
            continue
        if text.startswith("&&", i) or text.startswith("||", i):
            word = "AND" if c == "&" else "OR"
            tokens.append(Token("word", word, i, text[i : i + 2]))
            i += 2
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("op", op, i, op))
            i += len(op)
            continue
        if c == "!":
            tokens.append(Token("word", "NOT", i, "!"))
            i += 1
            continue
        if c in "\"'":
            value, end = _read_string(text, i)
            tokens.append(Token("string", value, i, text[i:end]))
            i = end
            continue
        start = i
        while i < n and text[i] not in _WORD_STOP:
            i += 1
        tokens.append(Token("word", text[start:i], start, text[start:i]))
    tokens.append(Token("eof", "", n, "EOF"))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            return "".join(out), i + 1
        if c == "\\":
            if i + 1 >= len(text):
                break
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            raise JqlError(
                f"The escape sequence '\\{nxt}' in the string '{text[start + 1 : i + 2]}' is "
                f"invalid. {_where(text, i)}"
            )
        if c in "\r\n":
            break
        out.append(c)
        i += 1
    raise JqlError(
        f"The quoted string '{text[start + 1 : i]}' has not been completed. {_where(text, start)}"
    )


# -- syntax tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool = False


@dataclass(frozen=True)
class FunctionCall:
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmptyValue:
    pass


@dataclass(frozen=True)
class ListOperand:
    items: tuple[Value | FunctionCall | EmptyValue, ...]


Operand = Value | FunctionCall | EmptyValue | ListOperand


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str
    """Lower case: '=', '!=', '~', '!~', '<', '<=', '>', '>=', 'in', 'not in', 'is', 'is not'."""
    operand: Operand


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    where: Node | None
    order_by: tuple[SortKey, ...] = ()

    def fields(self) -> list[str]:
        """Every field the query names, in order of appearance (for validation)."""
        names: list[str] = []

        def walk(node: Node | None) -> None:
            if isinstance(node, Clause):
                names.append(node.field)
            elif isinstance(node, And | Or):
                for part in node.parts:
                    walk(part)
            elif isinstance(node, Not):
                walk(node.part)

        walk(self.where)
        names.extend(k.field for k in self.order_by)
        return names


# -- parser ----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def is_keyword(self, tok: Token, *words: str) -> bool:
        return tok.kind == "word" and tok.text.upper() in words

    def fail(self, message: str, tok: Token) -> JqlError:
        got = "the end of the query" if tok.kind == "eof" else f"'{tok.raw}'"
        return JqlError(message.replace("{got}", got) + f" {_where(self.text, tok.pos)}")

    def parse(self) -> Query:
        where: Node | None = None
        if self.peek().kind != "eof" and not self.is_keyword(self.peek(), "ORDER"):
            where = self.or_expr()
        order: list[SortKey] = []
        if self.is_keyword(self.peek(), "ORDER"):
            self.take()
            if not self.is_keyword(self.peek(), "BY"):
                raise self.fail("Expecting 'by' but got {got}.", self.peek())
            self.take()
            order.append(self.sort_key())
            while self.peek().kind == "comma":
                self.take()
                order.append(self.sort_key())
        tok = self.peek()
        if tok.kind != "eof":
            raise self.fail("Expecting either 'OR' or 'AND' but got {got}.", tok)
        return Query(where, tuple(order))

    def sort_key(self) -> SortKey:
        name = self.field_name()
        descending = False
        if self.is_keyword(self.peek(), "ASC", "DESC"):
            descending = self.take().text.upper() == "DESC"
        return SortKey(name, descending)

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.is_keyword(self.peek(), "OR"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.is_keyword(self.peek(), "AND"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self) -> Node:
        tok = self.peek()
        if self.is_keyword(tok, "NOT"):
            self.take()
            return Not(self.not_expr())
        if tok.kind == "lparen":
            self.take()
            inner = self.or_expr()
            if self.peek().kind != "rparen":
                raise self.fail("Expecting ')' but got {got}.", self.peek())
            self.take()
            return inner
        return self.clause()

    def field_name(self) -> str:
        tok = self.peek()
        if tok.kind == "string":
            self.take()
            return tok.text
        if tok.kind == "word":
            if tok.text.upper() in RESERVED:
                raise self.fail(
                    f"'{tok.raw}' is a reserved JQL word. You must surround it in quotation "
                    "marks to use it in a query.",
                    tok,
                )
            self.take()
            return tok.text
        raise self.fail("Expecting a field name but got {got}.", tok)

    def clause(self) -> Clause:
        name = self.field_name()
        operator = self.operator()
        return Clause(name, operator, self.operand(operator))

    def operator(self) -> str:
        tok = self.peek()
        if tok.kind == "op":
            self.take()
            return tok.text
        if self.is_keyword(tok, "IN"):
            self.take()
            return "in"
        if self.is_keyword(tok, "NOT") and self.is_keyword(self.peek(1), "IN"):
            self.take()
            self.take()
            return "not in"
        if self.is_keyword(tok, "IS"):
            self.take()
            if self.is_keyword(self.peek(), "NOT"):
                self.take()
                return "is not"
            return "is"
        if self.is_keyword(tok, "WAS", "CHANGED"):
            raise self.fail("History searches ({got}) are not supported by the emulator.", tok)
        raise self.fail("Expecting operator but got {got}. " + VALID_OPERATORS, tok)

    def operand(self, operator: str) -> Operand:
        tok = self.peek()
        if operator in ("is", "is not"):
            if self.is_keyword(tok, "EMPTY", "NULL"):
                self.take()
                return EmptyValue()
            raise self.fail(
                f"The operator '{operator.upper()}' only supports EMPTY or NULL, got {{got}}.", tok
            )
        if tok.kind == "lparen":
            if operator not in ("in", "not in"):
                raise self.fail(
                    f"The operator '{operator}' does not support a list of values; got {{got}}.",
                    tok,
                )
            self.take()
            items = [self.single_operand()]
            while self.peek().kind == "comma":
                self.take()
                items.append(self.single_operand())
            if self.peek().kind != "rparen":
                raise self.fail("Expecting ')' but got {got}.", self.peek())
            self.take()
            return ListOperand(tuple(items))
        single = self.single_operand()
        if operator in ("in", "not in") and not isinstance(single, FunctionCall):
            raise self.fail(
                f"The operator '{operator.upper()}' needs a list of values in parentheses.", tok
            )
        return single

    def single_operand(self) -> Value | FunctionCall | EmptyValue:
        tok = self.peek()
        if tok.kind == "string":
            self.take()
            return Value(tok.text, quoted=True)
        if tok.kind == "word":
            if self.is_keyword(tok, "EMPTY", "NULL"):
                self.take()
                return EmptyValue()
            if tok.text.upper() in RESERVED:
                raise self.fail(
                    "Expecting either a value, list or function but got {got}. You must "
                    "surround reserved words in quotation marks to use them as values.",
                    tok,
                )
            self.take()
            if self.peek().kind == "lparen":
                return self.function_call(tok)
            return Value(tok.text)
        raise self.fail("Expecting either a value, list or function but got {got}.", tok)

    def function_call(self, name: Token) -> FunctionCall:
        self.take()  # (
        args: list[str] = []
        if self.peek().kind != "rparen":
            while True:
                tok = self.peek()
                if tok.kind not in ("word", "string"):
                    raise self.fail("Expecting a function argument but got {got}.", tok)
                args.append(self.take().text)
                if self.peek().kind != "comma":
                    break
                self.take()
        if self.peek().kind != "rparen":
            raise self.fail("Expecting ')' but got {got}.", self.peek())
        self.take()
        return FunctionCall(name.text, tuple(args))


def parse(text: str) -> Query:
    """Parse a JQL string; raises `JqlError` with Jira's wording and position."""
    return _Parser(text).parse()


# -- evaluation ------------------------------------------------------------------------------


class Kind(StrEnum):
    TEXT = "text"
    """Free text searched with ~ (summary, description, text)."""
    NAME = "name"
    """Enumerated values matched by any alias (project, status, labels, organizations...)."""
    USER = "user"
    KEY = "key"
    DATE = "date"
    DATETIME = "datetime"
    SLA = "sla"


@dataclass(frozen=True)
class Named:
    """One value of an enumerated field with every spelling Jira accepts for it (name, id, key)."""

    aliases: frozenset[str]
    """Case-folded."""
    sort: Any = None

    @classmethod
    def of(cls, *aliases: object, sort: Any = None) -> Named:
        """The first alias is the name: it is what ORDER BY sorts on unless ``sort`` says.

        The same spellings give the same (frozen) value: a query asks each issue's fields
        for theirs, and building them anew for each of 100,000 issues was most of a search."""
        try:
            return _named(aliases, sort)
        except TypeError:  # an unhashable sort value: built, not kept
            return _new_named(aliases, sort)


def _new_named(aliases: tuple[object, ...], sort: Any) -> Named:
    given = [str(a).casefold() for a in aliases if a is not None and a != ""]
    return Named(frozenset(given), sort if sort is not None else (given[0] if given else ""))


_named = functools.lru_cache(maxsize=1 << 17)(_new_named)


@dataclass(frozen=True)
class SlaState:
    running: bool
    paused: bool
    breached: bool
    completed: bool
    ever_breached: bool
    within_calendar_hours: bool = True
    remaining: timedelta | None = None
    elapsed: timedelta = timedelta(0)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    """As Jira names it in messages (e.g. 'status', 'Time to first response')."""
    kind: Kind
    get: Callable[[Any], Sequence[Any]]
    """Issue -> values: list[str] for TEXT, list[Named] for NAME/USER/KEY, list[date|datetime]..."""
    known: Callable[[], Iterable[str]] | None = None
    """Every alias that exists (case-folded); literals outside it are refused like Jira does.
    A set (`collections.abc.Set`) is asked as it is, anything else is read into one."""
    empty_aliases: frozenset[str] = frozenset()
    """Literals that mean "no value" for this field, e.g. ``resolution = Unresolved``."""


@dataclass
class Context:
    now: datetime
    current_user: str | None
    field: Callable[[str], FieldSpec | None]
    tz: tzinfo = UTC


_OPS_BY_KIND: dict[Kind, set[str]] = {
    Kind.TEXT: {"~", "!~", "is", "is not"},
    Kind.NAME: {"=", "!=", "in", "not in", "is", "is not"},
    Kind.USER: {"=", "!=", "in", "not in", "is", "is not"},
    Kind.KEY: {"=", "!=", "in", "not in", "is", "is not", "<", "<=", ">", ">="},
    Kind.DATE: {"=", "!=", "in", "not in", "is", "is not", "<", "<=", ">", ">="},
    Kind.DATETIME: {"=", "!=", "in", "not in", "is", "is not", "<", "<=", ">", ">="},
    Kind.SLA: {"=", "!=", "<", "<=", ">", ">="},
}

Predicate = Callable[[Any], bool]


def compile_query(query: Query, ctx: Context) -> tuple[Predicate, Callable[[list[Any]], list[Any]]]:
    """Validate ``query`` against the fields ``ctx`` knows; return (matches, sort)."""
    predicate = _compile(query.where, ctx) if query.where is not None else (lambda _issue: True)
    keys = [(_spec(ctx, k.field), k.descending) for k in query.order_by]

    def sort(issues: list[Any]) -> list[Any]:
        ordered = list(issues)
        for spec, descending in reversed(keys):
            ordered.sort(key=functools.partial(_sort_value, spec), reverse=descending)
        return ordered

    return predicate, sort


def _spec(ctx: Context, name: str) -> FieldSpec:
    spec = ctx.field(name)
    if spec is None:
        raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
    return spec


def _compile(node: Node, ctx: Context) -> Predicate:
    if isinstance(node, And):
        parts = [_compile(p, ctx) for p in node.parts]
        return lambda issue: all(p(issue) for p in parts)
    if isinstance(node, Or):
        parts = [_compile(p, ctx) for p in node.parts]
        return lambda issue: any(p(issue) for p in parts)
    if isinstance(node, Not):
        inner = _compile(node.part, ctx)
        return lambda issue: not inner(issue)
    return _compile_clause(node, ctx)


def _compile_clause(clause: Clause, ctx: Context) -> Predicate:
    spec = _spec(ctx, clause.field)
    op = clause.operator
    if op not in _OPS_BY_KIND[spec.kind]:
        raise JqlError(f"The operator '{op.upper()}' is not supported by the '{spec.name}' field.")
    if op in ("is", "is not"):
        want_empty = op == "is"
        return lambda issue: (len(spec.get(issue)) == 0) == want_empty
    if spec.kind is Kind.TEXT:
        return _text_clause(spec, clause)
    if spec.kind is Kind.SLA:
        return _sla_clause(spec, clause, ctx)
    if spec.kind in (Kind.DATE, Kind.DATETIME):
        return _date_clause(spec, clause, ctx)
    return _named_clause(spec, clause, ctx)


# -- text --------------------------------------------------------------------------------------

_WORDS = re.compile(r"\w+")


def _stem(word: str) -> str:
    for suffix in ("ingly", "edly", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def text_stems(text: str) -> set[str]:
    """The stems ``~`` compares a text's words by: an issue matches a query only if every stem
    the query asks for (in a phrase or alone) is among these."""
    return {_stem(w.casefold()) for w in _WORDS.findall(text)}


@dataclass(frozen=True)
class TextQuery:
    """The right side of ``~`` read once: its quoted phrases (as stems), its plain words (as
    stems) and its ``word*`` prefixes."""

    phrases: tuple[tuple[str, ...], ...]
    stems: tuple[str, ...]
    prefixes: tuple[str, ...]

    @classmethod
    def parse(cls, query: str) -> TextQuery:
        phrases = []
        for phrase in re.findall(r'"([^"]*)"', query):
            wanted = tuple(_stem(w.casefold()) for w in _WORDS.findall(phrase))
            if wanted:
                phrases.append(wanted)
        rest = re.sub(r'"[^"]*"', " ", query)
        stems, prefixes = [], []
        for term in re.findall(r"\w+\*?", rest):
            if term.endswith("*"):
                prefixes.append(term[:-1].casefold())
            else:
                stems.append(_stem(term.casefold()))
        return cls(tuple(phrases), tuple(stems), tuple(prefixes))

    @functools.cached_property
    def needles(self) -> tuple[str, ...]:
        """Texts a match must contain: a word's stem is the start of the word, so each stem
        and prefix asked for appears in the case-folded text of any match."""
        return (*(s for p in self.phrases for s in p), *self.stems, *self.prefixes)

    def matches(self, text: str) -> bool:
        """Jira's ``~``: every word (or inner quoted phrase) of the query appears in ``text``."""
        if not self.needles:
            return False  # nothing to look for matches nothing
        folded = text.casefold()
        if not all(needle in folded for needle in self.needles):
            return False  # most texts end here, before being split into words
        words = [w.casefold() for w in _WORDS.findall(text)]
        stems = [_stem(w) for w in words]
        for phrase in self.phrases:
            wanted = list(phrase)
            if not any(stems[i : i + len(wanted)] == wanted for i in range(len(stems))):
                return False
        if any(stem not in stems for stem in self.stems):
            return False
        return all(any(w.startswith(prefix) for w in words) for prefix in self.prefixes)


def _text_clause(spec: FieldSpec, clause: Clause) -> Predicate:
    operand = clause.operand
    if not isinstance(operand, Value):
        raise JqlError(f"The operator '{clause.operator}' needs a text value for '{spec.name}'.")
    wanted = clause.operator == "~"
    query = TextQuery.parse(operand.text)
    return lambda issue: any(query.matches(t) for t in spec.get(issue)) == wanted


# -- enumerated values, users and keys --------------------------------------------------------


def _literals(
    spec: FieldSpec, operand: Operand, ctx: Context
) -> tuple[list[str], bool, list[tuple[str, str]]]:
    """Case-folded literals, whether EMPTY was among them, and (raw, key-sorted) for comparisons."""
    items = operand.items if isinstance(operand, ListOperand) else (operand,)
    values: list[str] = []
    raws: list[tuple[str, str]] = []
    has_empty = False
    for item in items:
        if isinstance(item, EmptyValue):
            has_empty = True
            continue
        if isinstance(item, FunctionCall):
            fname = item.name.casefold()
            if fname == "currentuser" and spec.kind is Kind.USER:
                if ctx.current_user:
                    values.append(ctx.current_user.casefold())
                continue
            if fname in _KNOWN_FUNCTIONS:
                raise JqlError(
                    f"The function '{item.name}' is not supported by the '{spec.name}' field."
                )
            raise JqlError(f"Unable to find JQL function '{item.name}()'.")
        if item.text.casefold() in spec.empty_aliases:
            has_empty = True
            continue
        values.append(item.text.casefold())
        raws.append((item.text, item.text.casefold()))
    if spec.known is not None:
        found = spec.known()
        known = found if isinstance(found, AbstractSet) else set(found)
        for raw, folded in raws:
            if folded not in known:
                if spec.kind is Kind.KEY:
                    raise JqlError(
                        f"An issue with key '{raw}' does not exist for field '{spec.name}'."
                    )
                raise JqlError(f"The value '{raw}' does not exist for the field '{spec.name}'.")
    return values, has_empty, raws


def _key_sort(text: str) -> tuple[str, int] | None:
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)-(\d+)", text)
    return (m.group(1).upper(), int(m.group(2))) if m else None


def _named_clause(spec: FieldSpec, clause: Clause, ctx: Context) -> Predicate:
    op = clause.operator
    values, has_empty, raws = _literals(spec, clause.operand, ctx)
    wanted = set(values)
    if op in ("<", "<=", ">", ">="):
        if len(raws) != 1 or _key_sort(raws[0][0]) is None:
            raise JqlError(f"The operator '{op}' needs an issue key for the field '{spec.name}'.")
        bound = _key_sort(raws[0][0])
        assert bound is not None
        compare = _COMPARE[op]

        def key_compare(issue: Any) -> bool:
            for v in spec.get(issue):
                s = v.sort
                if isinstance(s, tuple) and s[0] == bound[0] and compare(s, bound):
                    return True
            return False

        return key_compare

    def matches(issue: Any) -> bool:
        return any(not v.aliases.isdisjoint(wanted) for v in spec.get(issue))

    if op in ("=", "in"):
        return lambda issue: matches(issue) or (has_empty and not spec.get(issue))
    # != and NOT IN leave empty fields out, as Jira does.
    if op == "!=" and has_empty and not wanted:
        return lambda issue: bool(spec.get(issue))
    return lambda issue: bool(spec.get(issue)) and not matches(issue)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


# -- dates -------------------------------------------------------------------------------------

_ABSOLUTE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?")
_PERIOD_PART = re.compile(r"([+-]?)(\d+)([wdhm])")
_PERIOD = re.compile(r"[+-]?\d+[wdhm](\s*[+-]?\d+[wdhm])*")
_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}
_DATE_FORMATS = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)
_KNOWN_FUNCTIONS = {
    "now",
    "currentuser",
    "startofday",
    "endofday",
    "startofweek",
    "endofweek",
    "startofmonth",
    "endofmonth",
    "startofyear",
    "endofyear",
    "breached",
    "running",
    "paused",
    "completed",
    "everbreached",
    "withincalendarhours",
    "remaining",
    "elapsed",
}


def parse_period(text: str) -> timedelta | None:
    """'-30d', '2h', '-4w 2d', '1h 30m' -> timedelta; a leading sign applies to the whole period."""
    text = text.strip()
    if not _PERIOD.fullmatch(text):
        return None
    total = timedelta(0)
    sign = -1 if text.startswith("-") else 1
    for part_sign, number, unit in _PERIOD_PART.findall(text):
        part = int(number) * _UNITS[unit]
        total += -part if part_sign == "-" and sign == 1 else part
    return sign * total


def _literal_datetime(text: str, spec: FieldSpec, ctx: Context) -> datetime:
    m = _ABSOLUTE.fullmatch(text.strip())
    if m:
        year, month, day, hour, minute = m.groups()
        try:
            return datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=ctx.tz
            )
        except ValueError:
            pass
    period = parse_period(text)
    if period is not None:
        return ctx.now + period
    raise JqlError(f"Date value '{text}' for field '{spec.name}' is invalid. {_DATE_FORMATS}")


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def _date_function(call: FunctionCall, spec: FieldSpec, ctx: Context) -> datetime:
    name = call.name.casefold()
    local_now = ctx.now.astimezone(ctx.tz)
    midnight = datetime.combine(local_now.date(), time(0), tzinfo=ctx.tz)
    if name == "now":
        base = ctx.now
        unit = timedelta(days=1)
    elif name in ("startofday", "endofday"):
        base, unit = midnight, timedelta(days=1)
    elif name in ("startofweek", "endofweek"):
        days_since_sunday = (local_now.weekday() + 1) % 7
        base, unit = midnight - timedelta(days=days_since_sunday), timedelta(weeks=1)
    elif name in ("startofmonth", "endofmonth"):
        base, unit = midnight.replace(day=1), timedelta(0)
    elif name in ("startofyear", "endofyear"):
        base, unit = midnight.replace(month=1, day=1), timedelta(0)
    elif name in _KNOWN_FUNCTIONS:
        raise JqlError(f"The function '{call.name}' is not supported by the '{spec.name}' field.")
    else:
        raise JqlError(f"Unable to find JQL function '{call.name}()'.")
    if call.args:
        arg = call.args[0].strip()
        if re.fullmatch(r"[+-]?\d+", arg):
            count = int(arg)
            if name.endswith("month"):
                base = _add_months(base, count)
            elif name.endswith("year"):
                base = _add_months(base, 12 * count)
            else:
                base = base + count * unit
        else:
            period = parse_period(arg)
            if period is None:
                raise JqlError(f"The argument '{arg}' of '{call.name}' is not a period.")
            base = base + period
    if name.startswith("end"):
        span = {
            "endofday": lambda b: b + timedelta(days=1),
            "endofweek": lambda b: b + timedelta(weeks=1),
            "endofmonth": lambda b: _add_months(b, 1),
            "endofyear": lambda b: _add_months(b, 12),
        }[name]
        base = span(base) - timedelta(milliseconds=1)
    return base


def _as_datetime(value: date | datetime, tz: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), tzinfo=tz)


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def _date_clause(spec: FieldSpec, clause: Clause, ctx: Context) -> Predicate:
    op = clause.operator
    items = clause.operand.items if isinstance(clause.operand, ListOperand) else (clause.operand,)
    bounds: list[datetime] = []
    has_empty = False
    for item in items:
        if isinstance(item, EmptyValue):
            has_empty = True
        elif isinstance(item, FunctionCall):
            bounds.append(_date_function(item, spec, ctx))
        else:
            bounds.append(_literal_datetime(item.text, spec, ctx))

    def values(issue: Any) -> list[datetime]:
        return [_minute(_as_datetime(v, ctx.tz)) for v in spec.get(issue)]

    minutes = [_minute(b) for b in bounds]
    if op in ("=", "in"):
        return lambda issue: (
            any(v in minutes for v in values(issue)) or (has_empty and not spec.get(issue))
        )
    if op in ("!=", "not in"):
        if not minutes and has_empty:
            return lambda issue: bool(spec.get(issue))
        return lambda issue: bool(spec.get(issue)) and not any(v in minutes for v in values(issue))
    if len(minutes) != 1:
        raise JqlError(f"The operator '{op}' needs one date for the field '{spec.name}'.")
    compare, bound = _COMPARE[op], minutes[0]
    return lambda issue: any(compare(v, bound) for v in values(issue))


# -- SLA fields (Jira Service Management) -------------------------------------------------------

_SLA_STATES: dict[str, Callable[[SlaState], bool]] = {
    "breached": lambda s: s.breached,
    "running": lambda s: s.running,
    "paused": lambda s: s.paused,
    "completed": lambda s: s.completed,
    "everbreached": lambda s: s.ever_breached,
    "withincalendarhours": lambda s: s.within_calendar_hours,
}


def _sla_clause(spec: FieldSpec, clause: Clause, ctx: Context) -> Predicate:
    operand = clause.operand
    if not isinstance(operand, FunctionCall):
        raise JqlError(
            f"The field '{spec.name}' needs an SLA function, e.g. breached() or remaining(\"1h\")."
        )
    name = operand.name.casefold()
    op = clause.operator
    if name in _SLA_STATES:
        if op not in ("=", "!="):
            raise JqlError(
                f"The operator '{op}' is not supported with the function '{operand.name}'."
            )
        test, wanted = _SLA_STATES[name], op == "="
        return lambda issue: any(test(s) == wanted for s in spec.get(issue))
    if name in ("remaining", "elapsed"):
        if op in ("=", "!="):
            raise JqlError(
                f"The operator '{op}' is not supported with the function '{operand.name}'."
            )
        period = parse_period(operand.args[0]) if operand.args else None
        if period is None:
            raise JqlError(f"The function '{operand.name}' needs a period such as \"2h\".")
        compare = _COMPARE[op]

        def measure(state: SlaState) -> timedelta | None:
            if name == "elapsed":
                return state.elapsed
            return state.remaining if not state.completed else None

        def check(issue: Any) -> bool:
            for state in spec.get(issue):
                value = measure(state)
                if value is not None and compare(value, period):
                    return True
            return False

        return check
    if name in _KNOWN_FUNCTIONS:
        raise JqlError(
            f"The function '{operand.name}' is not supported by the '{spec.name}' field."
        )
    raise JqlError(f"Unable to find JQL function '{operand.name}()'.")


# -- ordering ----------------------------------------------------------------------------------


@dataclass(order=True, frozen=True)
class _SortValue:
    empty: bool
    value: Any = field(compare=True)


def _sort_value(spec: FieldSpec, issue: Any) -> _SortValue:
    # Empty values sort as the greatest, so they come last ascending and first descending.
    values = list(spec.get(issue))
    if not values:
        return _SortValue(True, 0)
    first = values[0]
    if spec.kind is Kind.TEXT:
        return _SortValue(False, str(first).casefold())
    if spec.kind in (Kind.DATE, Kind.DATETIME):
        return _SortValue(False, _as_datetime(first, UTC))
    if spec.kind is Kind.SLA:
        remaining = first.remaining
        return _SortValue(remaining is None, remaining or timedelta(0))
    return _SortValue(False, first.sort)
