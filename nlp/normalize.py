"""Unicode and tone-placement normalisation of Vietnamese text, and folding for search.

``normalize_text`` is applied once by the pipeline to every stored text field, before
hashing, so that the same article arriving in NFC or NFD, with old ("hoà", "thuỷ") or new
("hòa", "thủy") tone placement, or with non-breaking spaces, hashes and matches the same.

Unlike ``underthesea.text_normalize`` (which tokenises its input and re-joins the tokens with
single spaces: "khoẻ, uỷ ban.\\n" becomes "khỏe , ủy ban ."), it never touches layout: every
space, punctuation mark and newline stays where it was, apart from the documented fixes below.

``fold`` makes the search form: lower case, no diacritics, "đ" -> "d". SQLite FTS5's
``remove_diacritics`` does not fold "đ", so the store indexes this form as well.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_text", "fold", "fold_char", "fix_tone_placement", "fold_with_offsets"]

# --- characters fixed before NFC -------------------------------------------------------------

_SPACE_LIKE = (
    "\u00a0"  # NO-BREAK SPACE
    "\u1680"  # OGHAM SPACE MARK
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"  # EN QUAD … HAIR SPACE
    "\u202f"  # NARROW NO-BREAK SPACE
    "\u205f"  # MEDIUM MATHEMATICAL SPACE
    "\u3000"  # IDEOGRAPHIC SPACE
)
_INVISIBLE = (
    "\u00ad"  # SOFT HYPHEN (invisible unless a line breaks there; splits words for matching)
    "\u200b\u200c\u200d"  # ZERO WIDTH SPACE / NON-JOINER / JOINER
    "\u2060"  # WORD JOINER
    "\ufeff"  # ZERO WIDTH NO-BREAK SPACE (BOM)
)
_SPECIAL: dict[str, str] = {"\r\n": "\n", "\r": "\n"}
_SPECIAL.update({c: " " for c in _SPACE_LIKE})
_SPECIAL.update({c: "" for c in _INVISIBLE})
# Latin eth is a frequent stand-in for Vietnamese "đ" in converted legacy encodings
# (underthesea's character map does the same): "QÐ-TTg" with U+00D0 is "QĐ-TTg".
_SPECIAL.update({"\u00d0": "\u0110", "\u00f0": "\u0111"})
_SPECIAL_RE = re.compile(
    "\r\n?|[" + "".join(c for c in _SPECIAL if len(c) == 1 and c != "\r") + "]"
)

# --- tone placement ----------------------------------------------------------------------------
# Old style puts the tone on the second vowel of the open diphthongs oa, oe, uy ("hoà",
# "khoẻ", "thuỷ"); the style underthesea (and most current Vietnamese text) uses puts it on the
# first ("hòa", "khỏe", "thủy"). Only syllables that END in the diphthong move: a final
# consonant or vowel fixes the tone on the second vowel in both styles ("hoàn", "toàn",
# "hoạch", "quyết", "hoài", "khuỷu", "ngoẻo").

_TONE_MARKS = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền sắc hỏi ngã nặng


def _compose(base: str, mark: str) -> str:
    return unicodedata.normalize("NFC", base + mark)


_TONE_PAIRS: dict[str, str] = {}
for _first, _second in (("o", "a"), ("o", "e"), ("u", "y")):
    for _mark in _TONE_MARKS:
        for _f in (_first, _first.upper()):
            for _s in (_second, _second.upper()):
                _TONE_PAIRS[_f + _compose(_s, _mark)] = _compose(_f, _mark) + _s

# Exactly the old-style pairs: a character class of first and second vowels would also match
# misspellings such as "luá" or "Hoý", which are no pair of the table. A letter or combining
# mark after the pair means the syllable goes on: leave it.
_TONE_RE = re.compile("(?:" + "|".join(sorted(_TONE_PAIRS)) + r")(?![^\W\d_]|[\u0300-\u036f])")

# Onsets (initial consonants) that may precede the diphthong. "q" is left out on purpose:
# in "quỳ", "quý" the "u" belongs to the onset "qu" and the tone is already on the nucleus.
_ONSETS = frozenset(
    ["", *"b c ch d đ g gh gi h k kh l m n ng ngh nh p ph r s t th tr v x".split()]
)


def _tone_sub(match: re.Match[str]) -> str:
    pair = match.group()
    text = match.string
    i = match.start()
    j = i
    # The onset: the letters right before the pair, back to the start of the word.
    while j > 0 and text[j - 1].isalpha() and i - j <= 3:
        j -= 1
    if j > 0 and text[j - 1].isalpha():
        return pair  # longer than any onset: not one syllable
    if text[j:i].lower() not in _ONSETS:
        return pair
    return _TONE_PAIRS[pair]


def fix_tone_placement(text: str) -> str:
    """Move old-style tones in open oa/oe/uy syllables to the first vowel.

    Expects NFC text. Changes no length: each replacement swaps two characters for two, so
    spans computed on the input stay valid on the output.
    """
    return _TONE_RE.sub(_tone_sub, text)


_TRAILING_RE = re.compile(r"[ \t]+(?=\n|\Z)")


def normalize_text(text: str | None) -> str | None:
    """Normalise stored Vietnamese text without changing its layout.

    In this order:

    1. CR-LF and lone CR -> LF; no-break and other Unicode spaces -> " "; zero-width
       characters, soft hyphens and BOMs removed; Latin eth (Ð/ð) -> Vietnamese Đ/đ.
    2. Unicode NFC.
    3. Tone placement in open oa/oe/uy syllables: "hoà" -> "hòa", "thuỷ" -> "thủy",
       "KHOẺ" -> "KHỎE" (see ``fix_tone_placement``).
    4. Spaces and tabs at the end of each line (and of the text) removed.

    Everything else — runs of spaces, tabs inside lines, blank lines, punctuation — is kept.
    Idempotent. ``None`` stays ``None``.
    """
    if text is None:
        return None
    if _SPECIAL_RE.search(text) is not None:
        text = _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group()], text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _TONE_RE.search(text) is not None:
        text = _TONE_RE.sub(_tone_sub, text)
    if " \n" in text or "\t\n" in text or text.endswith((" ", "\t")):
        text = _TRAILING_RE.sub("", text)
    return text


# --- folding -----------------------------------------------------------------------------------


def fold_char(char: str) -> str:
    """The folded form of one character: lower case, no combining marks, đ -> d.

    Returns "" for a combining mark, usually one character otherwise.
    """
    lowered = unicodedata.normalize("NFD", char.lower())
    out = "".join(c for c in lowered if not unicodedata.combining(c))
    return out.replace("đ", "d").replace("ð", "d")


class _FoldTable(dict):
    """``str.translate`` table filled lazily, one entry per distinct code point seen."""

    def __missing__(self, code_point: int) -> str:
        value = fold_char(chr(code_point))
        self[code_point] = value
        return value


_FOLD_TABLE = _FoldTable()


def fold(text: str | None) -> str:
    """Search form of ``text``: lower case, diacritics removed, "đ"/"Đ" -> "d".

    Spaces and punctuation are kept: ``fold("Đắk Đoa")`` is ``"dak doa"``,
    ``fold("ô nhiễm")`` is ``"o nhiem"``. Works on NFC and NFD input alike. ``None`` -> "".
    """
    if not text:
        return ""
    return text.translate(_FOLD_TABLE)


def fold_with_offsets(text: str, fold_one=None) -> tuple[str, list[int] | None, list[int] | None]:
    """Fold `text` character by character (`fold_one`, default `fold_char`) and return
    (folded, starts, ends): the input offsets of each folded character, so a match in the
    folded text maps back to a span of the input. `starts`/`ends` are None when every
    character folded to exactly one (the usual case for NFC input): offsets are then equal."""
    fold_one = fold_one or fold_char
    pieces = [fold_one(c) for c in text]
    if all(len(p) == 1 for p in pieces):
        return "".join(pieces), None, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, piece in enumerate(pieces):
        if not piece:
            if ends:
                ends[-1] = i + 1  # a dropped combining mark belongs to the character before it
            continue
        for p in piece:
            out.append(p)
            starts.append(i)
            ends.append(i + 1)
    return "".join(out), starts, ends
