"""De-obfuscation: the views of a text that the injection rules and the learned layer read.

Attackers hide instructions from filters that read the raw string: homoglyphs (Cyrillic "о" for
Latin "o"), fullwidth or mathematical letters, zero-width and bidi characters inside words,
leetspeak ("1gn0r3"), spaced letters ("i g n o r e"), payloads in base64 / hex / rot13 / percent
encoding, and text that a renderer hides (HTML comments, alt and title attributes, markdown link
titles). Each trick is undone into a separate *view* instead of rewriting the text in place, so a
rule that fires only on a decoded view can say where the instruction was hidden (itself a strong
signal: nobody base64-encodes "show me red dresses").

Every view is lower-cased and accent-folded ("Anweisungen" and "instrucciónes" match plain-ASCII
patterns), which is the form `injection_rules` is written against. Views are cheap (a few regex
passes); decoding only runs when a candidate payload is present.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from urllib.parse import unquote

# Zero-width, joiners, soft hyphen, word joiner, BOM, bidi embeddings/overrides/isolates, tag chars.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\u3164\ufeff\uffa0\U000e0000-\U000e007f]"
)
_WS = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


@dataclass(frozen=True)
class View:
    """One reading of the text. `hidden` is True when it shows something a person would not see."""

    name: str
    text: str
    hidden: bool = False


@lru_cache(maxsize=1)
def _confusables() -> dict[int, str]:
    """Non-ASCII character -> ASCII look-alike, from Unicode's confusables.txt.

    The data ships with `confusable-homoglyphs`; we only need the subset whose look-alike is a
    single ASCII letter or digit, flattened into a `str.translate` table.
    """
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table: dict[int, str] = {}
    for char, alikes in data.items():
        if len(char) != 1 or ord(char) < 128:
            continue
        targets = [a["c"] for a in alikes if len(a["c"]) == 1 and a["c"].isascii() and a["c"].isalnum()]
        if targets:
            lower = [t for t in targets if t.islower()]
            table[ord(char)] = (lower or targets)[0].lower()
    return table


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_OTHER_LETTER = re.compile(r"[^\W\d_A-Za-z]")


def fold_accents(text: str) -> str:
    """Drop combining marks: é -> e, ü -> u, ß stays (NFKC already mapped ligatures)."""
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


_WORD = re.compile(r"\w+")


def fold_confusables(text: str) -> str:
    """Map look-alike letters to ASCII inside words that mix scripts, or everywhere in Latin text.

    A purely Cyrillic or Greek sentence is left alone (a Russian shopper is not an attacker); a
    word such as "іgnоrе" (Latin g, n, r with Cyrillic і, о, е) is folded.
    """
    if text.isascii():
        return text
    full = _confusables()
    table = {ord(c): full[ord(c)] for c in set(_NON_ASCII.findall(text)) if ord(c) in full}
    if not table:
        return text
    latin = len(_ASCII_LETTER.findall(text))
    other = len(_OTHER_LETTER.findall(text))
    if latin >= 0.6 * max(1, latin + other):
        return text.translate(table)
    for word in _WORD.findall(text):
        if not word.isascii() and any(c.isascii() and c.isalpha() for c in word) and word.translate(table) != word:
            return text.translate(table)  # one mixed-script word gives the trick away
    return text


def canonical(text: str) -> str:
    """The base view: NFKC, invisible characters removed, confusables folded, accents folded, lower."""
    if text.isascii():  # every step but the last two is the identity on ASCII (the common case)
        return _WS.sub(" ", text).lower().strip()
    text = unicodedata.normalize("NFKC", text)
    text = strip_invisible(text)
    text = fold_confusables(text)
    text = fold_accents(text)
    text = _WS.sub(" ", text)
    return text.lower().strip()


# ---- markup: what a renderer hides ---------------------------------------------------------

_HTML_COMMENT = re.compile(r"<!--(.*?)(?:-->|$)", re.S)
_HTML_ATTR = re.compile(
    r"\b(?:alt|title|aria-label|aria-description|data-[\w-]+|content|placeholder|label)\s*=\s*"
    r"(?:\"([^\"]*)\"|'([^']*)')",
    re.I,
)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*([^)\s]*)(?:\s+[\"'(]([^\"')]*)[\"')])?\s*\)")
_MD_REF_TITLE = re.compile(r"^\s*\[[^\]]+\]:\s*\S+\s+[\"'(]([^\"')]*)[\"')]", re.M)
_MD_COMMENT = re.compile(r"^\s*\[(?:comment|//)\]:\s*#\s*\((.*?)\)\s*$", re.M | re.I)


def reveal_markup(text: str) -> str | None:
    """Text with HTML comments, alt/title attributes and markdown link titles shown, tags removed.

    Returns None when the text has no markup worth revealing, so callers skip an identical view.
    """
    if not any(tok in text for tok in ("<", "](", "&", "]:")):
        return None
    parts: list[str] = []
    out = _HTML_COMMENT.sub(lambda m: f" . {m.group(1)} . ", text)
    for m in _HTML_ATTR.finditer(out):
        parts.append(m.group(1) or m.group(2) or "")
    out = _HTML_TAG.sub(" ", out)
    out = _MD_COMMENT.sub(lambda m: f" . {m.group(1)} . ", out)
    parts.extend(m.group(1) for m in _MD_REF_TITLE.finditer(out))

    def link(m: re.Match[str]) -> str:
        return " . ".join(p for p in (m.group(1), m.group(2), m.group(3)) if p) + " . "

    out = _MD_LINK.sub(link, out)
    out = html.unescape(out)
    if parts:
        out = out + " . " + " . ".join(parts)
    return out if out != text else None


# ---- leetspeak and spaced letters -----------------------------------------------------------

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                       "@": "a", "$": "s", "€": "e"})
_LEET_TOKEN = re.compile(r"[\w@$€]*[a-z][\w@$€]*")
_LEET_CHARS = set("01345789@$€")
_LEET_HINT = re.compile(r"[a-z][013457@$€]|[013457@$€][a-z]")


def deleet(text: str) -> str | None:
    """Undo leetspeak in tokens that mix letters with digit/symbol stand-ins ("1gn0r3" -> "ignore")."""
    if not _LEET_HINT.search(text):
        return None
    changed = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal changed
        tok = m.group(0)
        if len(tok) < 2 or tok.isdigit() or not any(c in _LEET_CHARS for c in tok):
            return tok
        changed += 1
        return tok.translate(_LEET)

    out = _LEET_TOKEN.sub(fix, text)
    if changed >= 3:  # clearly leetspeak: short all-digit words are letters too ("70" = "to")
        out = re.sub(r"(?<![\w.,$€£])[013457]{1,3}(?![\w.,%])", lambda m: m.group(0).translate(_LEET), out)
    return out if changed else None


_SPACED_RUN = re.compile(r"(?<![^\s])(?:\w[ .\-_*·]{1,2}){3,}\w(?![^\s])")
_LETTER_GAP = re.compile(r"([\s.\-_*·]+)")


def _join_letters(run: str) -> str:
    """Join one run of single letters, keeping the word breaks the writer left in it.

    A gap wider than the run's narrowest gap is a word break ("S a y  t h a t" -> "say that": one
    space between letters, two between words), and so is a capital after a lower-case letter
    ("S a y T h a t" -> "Say That"; an all-capital run "I G N O R E" stays one word).
    """
    parts = _LETTER_GAP.split(run.strip())
    chars, gaps = parts[0::2], parts[1::2]
    if not gaps:
        return run
    narrow = min(len(g) for g in gaps)
    out = [chars[0]]
    for prev, gap, char in zip(chars, gaps, chars[1:], strict=False):
        if len(gap) > narrow or (char[:1].isupper() and prev[-1:].islower()):
            out.append(" ")
        out.append(char)
    return "".join(out)


def despace(text: str) -> str | None:
    """Join letters written one by one ("i g n o r e" / "i.g.n.o.r.e" -> "ignore").

    Only runs when the text has a run of four or more single letters. Word breaks survive: a gap
    of three or more spaces (how a space between spaced-out words renders), a gap wider than the
    one between letters, or a capital after a lower-case letter, so "i g n o r e   a l l",
    "S a y  t h a t  y o u  h a t e  X" and "S a y T h a t" keep their words apart.
    """
    if not _SPACED_RUN.search(text):
        return None
    out = []
    for seg in re.split(r"\s{3,}", text):
        words = seg.split()
        if len(words) >= 2 and all(len(re.sub(r"[.\-_*·]", "", w)) <= 1 for w in words):
            out.append(_join_letters(seg))
        else:
            out.append(_SPACED_RUN.sub(lambda m: _join_letters(m.group(0)), seg))
    joined = " ".join(out)
    return joined if joined != text else None


# ---- encoded payloads ------------------------------------------------------------------------

_B64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}[\s:,]?){8,}(?![0-9a-fA-F])")
_HEX_ESC = re.compile(r"(?:\\x[0-9a-fA-F]{2}){4,}")
_PCT = re.compile(r"(?:%[0-9a-fA-F]{2}){3,}")
_COMMON = frozenset({
    "the", "and", "you", "your", "to", "of", "a", "is", "are", "all", "be", "in", "on", "it", "for",
    "this", "that", "with", "as", "not", "now", "me", "my", "from", "ignore", "previous",
    "instructions", "system", "prompt", "rules", "say", "print", "tell", "show", "give", "any", "must",
    "will", "what", "who", "how", "do", "an", "or",
})


def _printable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    good = sum(c.isprintable() or c in "\n\t\r" for c in text)
    letters = sum(c.isalpha() for c in text)
    if good / len(text) < 0.95 or letters / len(text) < 0.5 or " " not in text.strip():
        return None
    return text


def decode_payloads(text: str) -> list[tuple[str, str]]:
    """(encoding, decoded text) for every base64 / hex / percent payload that decodes to prose."""
    found: list[tuple[str, str]] = []
    for m in _B64.finditer(text):
        cand = m.group(0)
        if cand.isalpha() and (cand.islower() or cand.isupper()):
            continue  # a long plain word, not base64
        padded = cand + "=" * (-len(cand) % 4)
        for decoder in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                decoded = _printable(decoder(padded))
            except (binascii.Error, ValueError):
                decoded = None
            if decoded:
                found.append(("base64", decoded))
                break
    for m in _HEX.finditer(text):
        digits = re.sub(r"[\s:,]", "", m.group(0))
        if len(digits) % 2 == 0:
            decoded = _printable(bytes.fromhex(digits))
            if decoded:
                found.append(("hex", decoded))
    for m in _HEX_ESC.finditer(text):
        decoded = _printable(bytes.fromhex(m.group(0).replace("\\x", "")))
        if decoded:
            found.append(("hex", decoded))
    if _PCT.search(text):
        decoded = unquote(text)
        if decoded != text:
            found.append(("url-encoding", decoded))
    return found


def _common_ratio(text: str) -> float:
    words = re.findall(r"[a-z]+", text[:1200].lower())
    return sum(w in _COMMON for w in words) / len(words) if words else 0.0


def unrot13(text: str) -> str | None:
    """The rot13 reading, kept only when it reads more like language than the original."""
    if len(_ASCII_LETTER.findall(text[:200])) < 12:
        return None
    before = _common_ratio(text)
    if before >= 0.25:  # already reads as English
        return None
    rot = codecs.encode(text, "rot13")
    after = _common_ratio(rot)
    return rot if after >= 0.2 and after > 2 * before + 0.05 else None


# ---- all views -------------------------------------------------------------------------------

def views(text: str, *, max_chars: int = 20000, decode_from: str | None = None) -> list[View]:
    """The distinct readings of `text`, base view first. Long texts are cut to `max_chars`.

    `decode_from`: derive the de-obfuscated views from this (shorter) text instead, e.g. the head
    and tail of a very long message; the plain view always covers all of `text`.
    """
    if len(text) > max_chars:
        text = text[:max_chars]
    # What a reader sees: HTML comments and markdown link titles are not part of it.
    base = canonical(_MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", _HTML_COMMENT.sub(" ", text)))
    out = [View("text", base)]
    seen = {base}

    def add(name: str, value: str | None, hidden: bool = True) -> None:
        if value is None:
            return
        value = canonical(value) if name != "leetspeak" else value
        if value and value not in seen:
            seen.add(value)
            out.append(View(name, value, hidden))

    raw_nfkc = unicodedata.normalize("NFKC", text if decode_from is None else decode_from)
    add("markup", reveal_markup(raw_nfkc))
    for enc, decoded in decode_payloads(strip_invisible(raw_nfkc)):
        add(enc, decoded)
    add("rot13", unrot13(raw_nfkc))
    add("leetspeak", deleet(base if decode_from is None else canonical(decode_from)))
    add("spaced letters", despace(strip_invisible(raw_nfkc)))
    return out


def obfuscation_signals(text: str) -> list[str]:
    """Which hiding tricks the raw text uses (for reasons; not a verdict by itself)."""
    signals = []
    if text.isascii():
        return signals
    if _INVISIBLE.search(text):
        signals.append("invisible characters")
    if _STYLED.search(text):
        signals.append("fullwidth or styled letters")
    plain = strip_invisible(unicodedata.normalize("NFKC", text))
    if fold_confusables(plain) != plain:
        signals.append("look-alike letters")
    return signals


_STYLED = re.compile("[\uff01-\uff5e\U0001d400-\U0001d7ff]")
