"""Company names as people type them: normalize, then compare with a token-aware score.

The financier's sheet, the Jira Organizations field and the onboarding form are typed by
different people: "Bright Path Energy, LLC", "BRIGHT PATH ENERGY" and "Brightpath Energy"
are one installer; "Sun Power Co" and "SunPower Solar Inc" are two. So:

`normalize_name` folds what never distinguishes two companies: case, accents, punctuation,
"&" vs "and", a leading "The", legal suffixes (LLC, Inc, Corp, Co, Ltd, ...), extra spaces.
It is deterministic, idempotent and total (any string in, never an exception).

`compare_names` scores two names 0-100 by aligning their *words*, not their characters.
A plain character score (rapidfuzz ``token_sort_ratio``) rates "Sunrise Solar" vs "Sunset
Solar" 88 because the shared "Solar" carries it, and "Bright Path Energy" vs "Brightpath
Energy" only 74. Here instead:

- words pair up one-to-one when they are equal or nearly so (a typo: ratio >= 85, and only
  in words longer than 3 characters; numbers must be equal);
- a word may equal two or three adjacent words of the other name ("brightpath" =
  "bright" + "path");
- trade words ("solar", "energy", "roofing", ...) count half, and names that share only
  trade words score at most `TRADE_ONLY` (50), so two installers are not made alike by
  their trade;
- score = the weighted share of both names' letters that found a partner (words matched
  only across spaces count `JOIN_WEIGHT`); 100 only for the same words in any order;
- anything short of identical words (a typo in a distinctive word, different spacing) is
  capped at `NEEDS_A_LOOK` (89): at the default match threshold of 90 it is reported as a
  possible match for a person to check, never silently accepted;
- when every word of the shorter name appears in the longer one (and it has a distinctive
  word), the score is at least `CONTAINED` (80): "Solar Guys" vs "Solar Guys of Texas"
  deserves a look.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

LEGAL_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("llc",),
    ("l", "l", "c"),
    ("inc",),
    ("incorporated",),
    ("corp",),
    ("corporation",),
    ("co",),
    ("company",),
    ("ltd",),
    ("limited",),
    ("lp",),
    ("l", "p"),
    ("llp",),
    ("l", "l", "p"),
    ("lllp",),
    ("pllc",),
    ("plc",),
    ("pc",),
)
"""Trailing words that say what kind of legal entity, not which company."""

GENERIC_WORDS = frozenset(
    {
        "and",
        "of",
        "the",
        "solar",
        "energy",
        "power",
        "electric",
        "electrical",
        "roofing",
        "renewable",
        "renewables",
        "systems",
        "solutions",
        "services",
        "service",
        "home",
        "homes",
        "construction",
        "contractors",
        "contracting",
        "installers",
        "installations",
        "group",
        "enterprises",
        "holdings",
        "pv",
        "usa",
    }
)
"""Words many installers share; they count half when scoring."""

TYPO_RATIO = 85.0
"""Two words at least this similar (rapidfuzz Indel ratio) are the same word with a typo."""
GENERIC_WEIGHT = 0.5
NEEDS_A_LOOK = 89
"""Highest score for names whose words are not all identical: a person should confirm."""
CONTAINED = 80
"""Lowest score when one name's words all appear in the other."""
JOIN_WEIGHT = 0.85
"""Words that only match once spaces are ignored ("sun power" / "sunpower") are weaker evidence."""
TRADE_ONLY = 50
"""Highest score for names that share only trade words ("Sunrise Solar" / "Sunset Solar")."""
MAX_WORDS = 24
"""Longer names are cut for scoring: no company name has more words; bounds the work."""

_FIXED_POINT_PASSES = 5
_ACRONYM = re.compile(r"(?<![^\W_])((?:[^\W_]\.){2,})")
_APOSTROPHES = str.maketrans("", "", "'\u2018\u2019\u02bc`\u00b4")


def _fold(text: str) -> str:
    """Case folded, accents off. Most names are ASCII: that is lower case, in one step."""
    if text.isascii():
        return text.lower()
    return _fold_unicode(text)


def _fold_unicode(text: str) -> str:
    """Case folded, accents off; repeated until stable (each step can feed the other)."""
    for _ in range(_FIXED_POINT_PASSES):
        # Case before accents: "ı" meets "I" only through upper(), and a combining mark
        # such as U+0345 upper-cases to a letter.
        cased = text.upper().casefold()
        decomposed = unicodedata.normalize("NFKD", cased)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
        if folded == text:
            break
        text = folded
    return text


_ASCII_WORD = re.compile(r"[a-z0-9]+")


def _words(folded: str) -> list[str]:
    """The runs of letters and digits in folded text; anything else separates words."""
    if folded.isascii():  # folded ASCII has no capitals: its letters and digits are these
        return _ASCII_WORD.findall(folded)
    return _words_unicode(folded)


def _words_unicode(folded: str) -> list[str]:
    return "".join(c if c.isalnum() else " " for c in folded).split()


def _tokens_once(text: str) -> list[str]:
    text = _fold(text)
    text = text.replace("&", " and ")
    # "L.L.C." and "J.B." are one word each; any other dot separates words ("St.Louis").
    text = _ACRONYM.sub(lambda m: m.group(1).replace(".", ""), text)
    text = text.translate(_APOSTROPHES)  # "O'Brien" == "OBrien", "Joe's" == "Joes"
    words = _words(text)
    stripped = True
    while stripped:
        stripped = False
        for suffix in LEGAL_SUFFIXES:
            n = len(suffix)
            if len(words) > n and tuple(words[-n:]) == suffix:
                del words[-n:]
                stripped = True
                break
    # After the suffixes, so "The LLC" stays "the" like "The" does, not "llc".
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    return words


@lru_cache(maxsize=8192)
def _tokens_cached(text: str) -> tuple[str, ...]:
    words = _tokens_once(text)
    # Each pass can only remove or split; a few passes reach the fixed point that makes
    # normalize_name idempotent (e.g. a suffix uncovered by folding "ＬＬＣ" twice).
    for _ in range(_FIXED_POINT_PASSES):
        again = _tokens_once(" ".join(words))
        if again == words:
            break
        words = again
    return tuple(words)


def name_tokens(text: object) -> tuple[str, ...]:
    """The words of a company name after normalization; () for None or a blank cell."""
    if text is None:
        return ()
    if not isinstance(text, str):
        text = str(text)
    return _tokens_cached(text)


def normalize_name(text: object) -> str:
    """ "Bright Path Energy, L.L.C." -> "bright path energy"; "" when nothing is left."""
    return " ".join(name_tokens(text))


# -- scoring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameMatch:
    """How alike two names are, and in words a person can check."""

    score: int
    """0-100; 100 only for names that normalize to the same words."""
    reason: str
    left: str
    right: str
    """The two normalized names that were compared."""


def _weight(word: str) -> float:
    return len(word) * (GENERIC_WEIGHT if word in GENERIC_WORDS else 1.0)


@cache
def _indel() -> Any:
    from rapidfuzz.distance import Indel  # imported on first use: `jobs list` stays fast

    return Indel


def _word_ratio(a: str, b: str) -> float:
    if a == b:
        return 100.0
    if len(a) <= 3 or len(b) <= 3 or a.isdigit() or b.isdigit():
        return 0.0  # one letter off in "abc" or "12" is another name, not a typo
    return float(_indel().normalized_similarity(a, b) * 100)


def _pair_up(
    left: Sequence[str], right: Sequence[str]
) -> tuple[list[tuple[int, int, float]], set[int], set[int]]:
    """One-to-one pairs of equal or nearly equal words, best pairs first (ties by position)."""
    candidates = []
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            ratio = _word_ratio(a, b)
            if ratio >= TYPO_RATIO:
                # The key depends only on the two words, so compare(a, b) == compare(b, a).
                candidates.append((-ratio, -(_weight(a) + _weight(b)), min(a, b), max(a, b), i, j))
    candidates.sort()
    pairs: list[tuple[int, int, float]] = []
    used_left: set[int] = set()
    used_right: set[int] = set()
    for neg_ratio, _, _, _, i, j in candidates:
        if i in used_left or j in used_right:
            continue
        pairs.append((i, j, -neg_ratio))
        used_left.add(i)
        used_right.add(j)
    return pairs, used_left, used_right


def _joins(
    words: Sequence[str], used: set[int], others: Sequence[str], used_others: set[int]
) -> list[tuple[list[int], int]]:
    """Runs of 2-3 adjacent unpaired ``words`` that spell one unpaired word of ``others``."""
    found: list[tuple[list[int], int]] = []
    for j, target in enumerate(others):
        if j in used_others:
            continue
        for size in (2, 3):
            for start in range(len(words) - size + 1):
                run = list(range(start, start + size))
                if any(k in used for k in run):
                    continue
                if "".join(words[k] for k in run) == target:
                    found.append((run, j))
                    used.update(run)
                    used_others.add(j)
                    break
            if j in used_others:
                break
    return found


def _compare_tokens(left: tuple[str, ...], right: tuple[str, ...]) -> tuple[int, str]:
    if not left or not right:
        return 0, "a name is empty"
    if left == right:
        return 100, "same name"
    if sorted(left) == sorted(right):
        return 100, "same words in another order"
    left, right = left[:MAX_WORDS], right[:MAX_WORDS]
    pairs, used_left, used_right = _pair_up(left, right)
    joins = _joins(left, used_left, right, used_right)
    joins_right = _joins(right, used_right, left, used_left)

    matched = 0.0
    typo = False
    for i, j, ratio in pairs:
        matched += (_weight(left[i]) + _weight(right[j])) * ratio / 100
        if ratio < 100 and not (left[i] in GENERIC_WORDS and right[j] in GENERIC_WORDS):
            typo = True
    for run, j in joins:
        matched += JOIN_WEIGHT * (sum(_weight(left[k]) for k in run) + _weight(right[j]))
    for run, i in joins_right:
        matched += JOIN_WEIGHT * (sum(_weight(right[k]) for k in run) + _weight(left[i]))
    total = sum(map(_weight, left)) + sum(map(_weight, right))
    score = 100 * matched / total

    reasons = []
    distinctive_pair = (
        joins
        or joins_right
        or any(left[i] not in GENERIC_WORDS or right[j] not in GENERIC_WORDS for i, j, _ in pairs)
    )
    if not distinctive_pair:
        score = min(score, TRADE_ONLY)
        reasons.append("only trade words in common")
    if joins or joins_right:
        reasons.append("spacing differs")
    if typo:
        reasons.append("spelling differs")
    if reasons:
        score = min(score, NEEDS_A_LOOK)
    else:
        shorter, paired = (left, used_left) if len(left) <= len(right) else (right, used_right)
        contained = len(paired) == len(shorter) and any(w not in GENERIC_WORDS for w in shorter)
        if contained and score < CONTAINED:
            score = CONTAINED
            reasons.append("one name contains the other")
    unpaired = [w for k, w in enumerate(left) if k not in used_left] + [
        w for k, w in enumerate(right) if k not in used_right
    ]
    if unpaired:
        reasons.append("unmatched: " + ", ".join(unpaired[:6]))
    # Floor, not round: a score shown as 89 must never pass a threshold of 90.
    return int(min(score, 99.0)), "; ".join(reasons) or "similar words"


def compare_names(a: object, b: object) -> NameMatch:
    """Score two company names (symmetric; 100 = the same name once normalized)."""
    left, right = name_tokens(a), name_tokens(b)
    score, reason = _compare_tokens(left, right)
    return NameMatch(score=score, reason=reason, left=" ".join(left), right=" ".join(right))


def name_score(a: object, b: object) -> int:
    return compare_names(a, b).score


def best_match(name: object, candidates: Iterable[str]) -> NameMatch | None:
    """The candidate most like ``name`` (first one on ties), or None when there are none."""
    best: NameMatch | None = None
    for candidate in candidates:
        match = compare_names(name, candidate)
        if best is None or match.score > best.score:
            best = match
    return best


# -- many names ----------------------------------------------------------------------------------


def _typo_candidate(word: str) -> bool:
    return len(word) > 3 and not word.isdigit()


def _runs(words: Sequence[str]) -> set[str]:
    return {"".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1)}


class NameIndex:
    """Many names, looked up by a name: exact (same words) or worth scoring.

    Scoring every pair is quadratic (hundreds of sheet rows by hundreds of ticket names);
    most pairs share no distinctive word and cannot score above `TRADE_ONLY`. `candidates`
    returns only the names that can: those sharing a distinctive word (exactly or with a
    typo) or a word spelled across spaces. Every name scoring above `TRADE_ONLY` is among them.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.tokens = [name_tokens(n)[:MAX_WORDS] for n in self.names]
        self._exact: dict[tuple[str, ...], list[int]] = {}
        self._by_word: dict[str, set[int]] = {}
        self._by_run: dict[str, set[int]] = {}
        for k, words in enumerate(self.tokens):
            if words:
                self._exact.setdefault(tuple(sorted(words)), []).append(k)
            for word in words:
                self._by_word.setdefault(word, set()).add(k)
            for run in _runs(words):
                self._by_run.setdefault(run, set()).add(k)
        self._typo_vocabulary = sorted(w for w in self._by_word if _typo_candidate(w))

    def exact(self, name: object) -> list[int]:
        """Indices of the names with the same words (in any order), in input order."""
        return list(self._exact.get(tuple(sorted(name_tokens(name))), []))

    def candidates(self, name: object) -> list[int]:
        """Indices of the names that may score above `TRADE_ONLY` against ``name``, in order."""
        words = name_tokens(name)[:MAX_WORDS]
        found: set[int] = set(self.exact(name))  # "Solar Energy" is itself, trade words or not
        for word in words:
            if word not in GENERIC_WORDS:
                found |= self._by_word.get(word, set())
            found |= self._by_run.get(word, set())
            if _typo_candidate(word):
                for similar in self._similar(word):
                    if word not in GENERIC_WORDS or similar not in GENERIC_WORDS:
                        found |= self._by_word[similar]
        for run in _runs(words):
            found |= self._by_word.get(run, set())
        return sorted(found)

    def _similar(self, word: str) -> list[str]:
        from rapidfuzz import process

        matches = process.extract(
            word,
            self._typo_vocabulary,
            scorer=_indel().normalized_similarity,
            score_cutoff=TYPO_RATIO / 100,
            limit=None,
        )
        return [m[0] for m in matches if m[0] != word]
