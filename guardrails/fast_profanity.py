"""A constant-time word lookup for better-profanity, with exactly the library's matching rules.

Why: better-profanity keeps its ~900 words as a list of `VaryingString` and answers `word in
CENSOR_WORDSET` by comparing the word with every entry in Python. The censor asks that question
several times per word of the text, so scoring one shop answer (~100 words) cost 0.3-1 s of CPU on
the event loop — most of a chat turn, and the throughput ceiling under load (bench_load).

`VariantWordSet` answers the same question by walking a trie of the plain words. better-profanity's
substitutions are single characters (`a` may be written `@`, `*` or `4`; `i` as `*`, `l` or `1`;
...), so a text word matches a list word exactly when they have the same length and, position by
position, the text character is one of the list character's allowed spellings. Inverting the map
gives, for each text character, the list characters it can stand for; the walk follows only those
branches, so it stops after a letter or two for almost every word. Same answers as the list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

_END = ""  # trie key marking the end of a word (no text character is the empty string)


class VariantWordSet:
    """Drop-in for better-profanity's CENSOR_WORDSET (`in`, `append`, iteration)."""

    def __init__(self, words: Iterable[object], char_map: Mapping[str, Sequence[str]]):
        self._char_map = {k: tuple(v) for k, v in char_map.items()}
        if any(len(c) != 1 for combos in self._char_map.values() for c in combos):
            raise ValueError("only single-character substitutions are supported")
        self._inverse: dict[str, tuple[str, ...]] = {}
        for original, spellings in self._char_map.items():
            for spelling in spellings:
                self._inverse.setdefault(spelling, ())
                self._inverse[spelling] += (original,)
        self._items: list[object] = []
        self._trie: dict[str, Any] = {}
        for word in words:
            self.append(word)

    def append(self, word: object) -> None:
        self._items.append(word)
        node = self._trie
        for char in str(word):
            node = node.setdefault(char, {})
        node[_END] = True

    def __iter__(self) -> Iterator[object]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def _originals(self, char: str) -> tuple[str, ...]:
        """The list characters that `char` in a text can stand for."""
        originals = self._inverse.get(char, ())
        # A character with no substitution rule of its own matches only itself.
        return originals if char in self._char_map else (*originals, char)

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return text in self._items
        nodes = [self._trie]
        for char in text:
            originals = self._originals(char)
            nodes = [child for node in nodes for o in originals if (child := node.get(o)) is not None]
            if not nodes:
                return False
        return any(_END in node for node in nodes)


def speed_up(profanity: object) -> object:
    """Swap a loaded `better_profanity.profanity`'s word list for a `VariantWordSet` (same answers)."""
    words = getattr(profanity, "CENSOR_WORDSET")  # noqa: B009 - the library's attribute name
    if not isinstance(words, VariantWordSet):
        profanity.CENSOR_WORDSET = VariantWordSet(words, profanity.CHARS_MAPPING)  # type: ignore[attr-defined]
    return profanity
