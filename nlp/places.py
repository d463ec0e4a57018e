"""Find mentions of Gia Lai's 135 communes and wards (2025 list) in Vietnamese text.

``find_places(text)`` returns one ``Place`` per mention, in text order, without overlaps.
The list of units is ``nlp/data/gialai_communes_2025.csv`` (GSO 2025 list as packaged in
the PyPI package vietnam-provinces 2025.10.1); nothing about the units is hard-coded apart
from the small spelling and ambiguity tables below.

How the text is read
--------------------
Matching runs on a folded copy of the input (``nlp.normalize.fold_char``: lower case, no
diacritics, đ -> d), so any case, NFC or NFD, old or new tone placement ("Hoà Hội"/"Hòa Hội")
and text typed without diacritics all match. Each folded character keeps the index of the
input character it came from (a dropped combining mark belongs to the character before it),
so ``start``/``end`` are offsets in the string you passed in and ``text == input[start:end]``
always holds; for NFD input ``text`` is NFD too. The pipeline calls this on text already
normalised with ``normalize_text``, where folding keeps the length and no mapping is needed.

What counts as a mention
------------------------
- ``prefix + name``: "xã"/"X." before a xã, "phường"/"P." before a phường ("X.Ia Grai",
  "P. Pleiku", "XÃ IA GRAI", "phuong Quy Nhon Bac"). The span includes the prefix. A prefix
  spelled otherwise in the input ("xa" with another tone, "phương") is not a prefix.
- ``name`` alone, only for names distinctive enough (see ``_PREFIX_REQUIRED_WORDS``):
  one-word names ("Gào", "Kbang", "Ayun"; "Pleiku" is allowed), names that are common words or
  phrases ("Thống Nhất", "An Toàn", "Tam Quan"), names of former provinces ("Bình Định",
  "Bình Dương"), and names that are also well-known places elsewhere ("Đăk Song", "Đak
  Rong"/Đakrông) need the prefix. A bare name written with diacritics must agree with the
  official ones letter by letter (unmarked letters and "Đak/Đăk/Đắk" always agree): "ấn tượng"
  is not Ân Tường, "tố tụng" not Tơ Tung, "Phú Mỹ" not Phù Mỹ; names that fold to a common
  phrase (``_BARE_NEEDS_DIACRITICS``) count bare only when written with diacritics. A bare
  name is also not taken right after "huyện", "thị xã", "thành phố", "TP", "TX", "tỉnh",
  "quận" (that is the former district/town of the same name, e.g. "TP Quy Nhơn", split into
  several wards), nor
  right after a capitalised surname or "Văn"/"Thị" ("Nguyễn Hoài Ân" is a person).
- In a list after "các"/"những"/"hai"/a number + prefix, the prefix carries over: in "các
  phường Thống Nhất, Diên Hồng và An Phú" all three count (each later span is the name,
  with its own prefix if it has one).
- Longest match wins: "phường Quy Nhơn Bắc" is Quy Nhơn Bắc only, never also Quy Nhơn.
- Word boundaries on both sides: nothing inside a longer word ("Pleikuy", "xIa Pa").

Spelling variants, built from each official name
------------------------------------------------
- between two syllables: one or more spaces, or a hyphen ("Ia-Grai", "Chư-Păh");
- after the first syllable "Ia", "Đak", "Ayun", "Kon", "Kông", "Chư" also nothing, when the next
  syllable has at least two letters ("Iagrai", "AyunPa", "ĐakĐoa"; not "Chư A Thai" -> "Chưa…");
- Đak/Đăk/Đắk/Dak all fold to "dak";
- a syllable that starts with two consonants that are not a Vietnamese digraph (K'Dang, Kbang,
  Rbol, Hrung, Pnôn…) may have an apostrophe after its first letter: "K'Dang", "K’Dang",
  "KDang", "Kdang";
- final "y" after a single consonant may be written "i" (old orthography): "Qui Nhơn",
  "Phù Mĩ", "Ia Li";
- a few whole-name spellings in ``_EXTRA_SPELLINGS``.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from pressmon.nlp.normalize import fix_tone_placement, fold_char, fold_with_offsets

__all__ = ["Place", "Commune", "find_places", "communes"]

_DATA = Path(__file__).parent / "data" / "gialai_communes_2025.csv"


@dataclass(frozen=True)
class Place:
    """One mention of a commune or ward. ``text == input[start:end]``."""

    commune_code: str  # GSO code, e.g. "23677"
    commune_name: str  # official name, e.g. "Xã Đak Đoa"
    division_type: str  # "xã" or "phường"
    start: int
    end: int
    text: str  # the mention as written, prefix included when it counted

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Commune:
    code: str
    name: str  # "Xã Đak Đoa"
    division_type: str  # "xã" or "phường"
    bare_name: str  # "Đak Đoa"
    codename: str
    source: str


@functools.lru_cache(maxsize=1)
def communes() -> tuple[Commune, ...]:
    """The 135 units of the reference list, in its order."""
    out = []
    with _DATA.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = unicodedata.normalize("NFC", row["name"]).strip()
            word, bare = name.split(" ", 1)
            division_type = row["division_type"].strip()
            if word.lower() != division_type:
                raise ValueError(f"{name!r}: prefix does not match division_type {division_type!r}")
            out.append(Commune(row["code"].strip(), name, division_type, bare,
                               row["codename"].strip(), row["source"].strip()))
    return tuple(out)


# --- tables (folded spellings) -----------------------------------------------------------------

# Names that only count with "xã"/"phường" before them. Folded bare names.
_PREFIX_REQUIRED_WORDS = {
    # common words or phrases
    "thong nhat",  # "thống nhất" = to agree, unify
    "an toan",  # "an toàn" = safety
    "an binh", "binh an",  # "peace"
    "tam quan",  # "cổng tam quan", the gate of a pagoda
    "bien ho",  # Biển Hồ lake (T'Nưng), a sight in its own right
    "tay son",  # the Tây Sơn dynasty, "nhà Tây Sơn", museums, streets
    "dien hong",  # "Hội nghị Diên Hồng", streets
    "ngo may",  # the hero Ngô Mây, streets
    "xuan an",  # a frequent personal name
    # former provinces
    "binh dinh", "binh duong",
    # names of many places elsewhere, or that fold to a well-known other place
    "an phu", "an hoa", "binh phu", "binh hiep", "kim son", "vinh quang", "vinh thinh",
    "dak song",  # Đắk Song district/commune (Lâm Đồng, formerly Đắk Nông)
    "dak rong",  # Đakrông district/commune (Quảng Trị)
}
# Names whose folded form is also a common phrase: bare, they count only when written with
# diacritics (which must then agree, see below), never in text typed without them.
_BARE_NEEDS_DIACRITICS = {
    "an tuong",  # "ấn tượng" = impression
    "to tung",  # "tố tụng" = legal proceedings
    "hoi phu",  # "Hội Phụ nữ" = the Women's Union
    "de gi",  # "vấn đề gì" = what problem
    "an luong",  # "ăn lương" = be paid
    "chu se",  # "chú sẽ" = uncle will
    "cat tien",  # Cát Tiên national park
    "phu my",  # Phú Mỹ (the industrial town in the south)
    "vinh thanh",  # "vinh thành", "vĩnh thành"…
    "po to",  # "phô tô"/"pô tô"
}
# One-word names need the prefix too ("Gào", "Kbang", "Ayun"), except these.
_BARE_ONE_WORD_OK = {
    "pleiku",  # two syllables (Plei-ku) written as one word; unambiguous
}
# Syllables whose diacritics vary in practice: "Đak"/"Đăk"/"Đắk"/"Dak".
_FREE_DIACRITICS = {"dak"}
# First syllables that may be joined to the next one without a space ("Iagrai", "AyunPa").
_FUSIBLE = {"ia", "dak", "ayun", "kon", "kong", "chu"}
# Whole-name spellings seen besides the official one (folded, space-separated syllables).
_EXTRA_SPELLINGS = {
    "dak somei": ["dak so mei"],
    "chu a thai": ["chu athai"],
    "kong bo la": ["kong bola"],
}
# Vietnamese digraph/trigraph onsets: no apostrophe variant inside these.
_DIGRAPHS = {"ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr"}
_CONSONANTS = set("bcdfghjklmnpqrstvwxz")

# Bare names right after these (folded) are the former district/town/province, not the unit.
_DESIGNATOR_RE = re.compile(
    r"(?<!\w)(?:huyen|thi[^\S\n]+xa|thanh[^\S\n]+pho|tp\.?|tx\.?|tinh|quan)[^\S\n]*\Z"
)
# Capitalised words that, right before a bare name, make it part of a personal name.
_PERSON_WORDS = {
    "nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui",
    "do", "ho", "ngo", "duong", "ly", "dinh", "truong", "luong", "mai", "to", "ha", "doan",
    "trinh", "lam", "van", "thi",
}
# Before "xã"/"phường", these start a list whose later names have no prefix of their own.
_PLURAL_RE = re.compile(r"(?<!\w)(?:cac|nhung|hai|\d+)[^\S\n]+\Z")
_PREV_WORD_RE = re.compile(r"(\w+)[^\S\n]+\Z")

_PREFIX_SPELLINGS = {"xã": "xã", "xa": "xã", "x.": "xã", "phường": "phường", "phuong": "phường",
                     "p.": "phường"}

_SP = r"[^\S\n]"
_HYPHENS = r"\-" "\u2010\u2011"  # for character classes
_SEP = rf"(?:{_SP}+|[{_HYPHENS}])"
_APOSTROPHES = "'\u2019\u2018\u02bc`"


def _syllable_pattern(syl: str) -> str:
    if len(syl) >= 2 and syl[0] in _CONSONANTS and syl[1] in _CONSONANTS and syl[:2] not in _DIGRAPHS:
        # K'Dang, K’Dang, KDang
        return re.escape(syl[0]) + f"[{_APOSTROPHES}]?" + re.escape(syl[1:])
    m = re.fullmatch(r"(qu|[bdhklmnstv])y", syl)
    if m:
        return re.escape(m.group(1)) + "[yi]"  # Quy/Qui, Ly/Li, Mỹ/Mĩ
    return re.escape(syl)


def _spelling_pattern(folded_name: str) -> str:
    syls = folded_name.split()
    parts = [_syllable_pattern(syls[0])]
    for prev, syl in zip(syls, syls[1:]):
        sep = _SEP
        if prev in _FUSIBLE and len(syl) >= 2:
            sep = f"{_SEP}?"
        parts.append(sep)
        parts.append(_syllable_pattern(syl))
    return "".join(parts)


def _fold_plain(s: str) -> str:
    return "".join(fold_char(c) for c in s)


@functools.lru_cache(maxsize=1)
def _compiled() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, Commune]]:
    units = communes()
    keyed = []
    for i, unit in enumerate(units):
        folded = _folded_name(unit)
        keyed.append((folded, i, unit))
    # Longest first: Python's alternation takes the first alternative that matches, so
    # "quy nhon bac" must be tried before "quy nhon".
    keyed.sort(key=lambda k: (-len(k[0]), k[0]))
    # Alternatives grouped by first letter behind a lookahead, so that at each word only the
    # names starting with its letter are tried (about 7x faster than one flat alternation).
    alternatives: dict[str, list[str]] = {}
    list_alternatives: dict[str, list[str]] = {}  # without the prefix condition: "các xã A, B"
    by_group: dict[str, Commune] = {}
    for folded, i, unit in keyed:
        spellings = [folded, *_EXTRA_SPELLINGS.get(folded, [])]
        pattern = plain = "|".join(_spelling_pattern(s) for s in spellings)
        group = f"u{i}"
        by_group[group] = unit
        if _needs_prefix(unit):
            prefix_group = "px" if unit.division_type == "xã" else "pp"
            pattern = f"(?({prefix_group})(?:{pattern})|(?!))"
        alternatives.setdefault(folded[0], []).append(f"(?P<{group}>{pattern})")
        list_alternatives.setdefault(folded[0], []).append(f"(?P<{group}>{plain})")
    regex = (
        r"(?<!\w)"
        rf"(?:(?P<px>xa{_SP}+|x\.{_SP}*)|(?P<pp>phuong{_SP}+|p\.{_SP}*))?"
        + _by_first_letter(alternatives)
        + r"(?![\w'\u2019])"
    )
    list_regex = (
        rf"(?:{_SP}*[,;]{_SP}*(?:va{_SP}+)?|{_SP}+va{_SP}+)"
        rf"(?P<lp>(?:xa|phuong){_SP}+)?"  # "các xã A, xã B"
        + _by_first_letter(list_alternatives)
        + r"(?![\w'\u2019])"
    )
    return re.compile(regex), re.compile(list_regex), by_group


def _by_first_letter(alternatives: dict[str, list[str]]) -> str:
    return "(?:" + "|".join(
        f"(?={re.escape(letter)})(?:{'|'.join(alts)})" for letter, alts in sorted(alternatives.items())
    ) + ")"


# --- matching ----------------------------------------------------------------------------------


def find_places(text: str | None) -> list[Place]:
    """Every mention of a Gia Lai commune or ward in ``text``, in order (see module doc)."""
    if not text:
        return []
    regex, list_regex, by_group = _compiled()
    folded, starts, ends = fold_with_offsets(text)

    def at(i: int) -> int:  # folded start offset -> input offset
        return i if starts is None else (starts[i] if i < len(starts) else len(text))

    def end_at(i: int) -> int:  # folded end offset (exclusive) -> input offset
        return i if ends is None else (ends[i - 1] if i > 0 else 0)

    found: list[Place] = []
    pos = 0
    while (m := regex.search(folded, pos)) is not None:
        pos = m.end()
        group = m.lastgroup
        unit = by_group[group]
        name_start, name_end = m.span(group)
        prefix_group = "px" if m.group("px") is not None else ("pp" if m.group("pp") is not None else None)
        prefix_ok = False
        if prefix_group is not None:
            written = unicodedata.normalize("NFC", text[at(m.start()):end_at(m.end(prefix_group))])
            kind = _PREFIX_SPELLINGS.get(written.strip().lower())
            after_thi = re.search(rf"(?<!\w)thi{_SP}+\Z", folded[max(0, m.start() - 8):m.start()])
            prefix_ok = kind == unit.division_type and not after_thi
        if prefix_ok:
            start = m.start()
        else:
            # A bare name: only where it is allowed and not part of a larger name.
            if _needs_prefix(unit):
                continue
            before = folded[max(0, name_start - 16):name_start]
            if _DESIGNATOR_RE.search(before):
                continue
            if not _diacritics_agree(text[at(name_start):end_at(name_end)], unit):
                continue
            prev = _PREV_WORD_RE.search(before)
            if prev and prev.group(1) in _PERSON_WORDS:
                orig_prev = text[at(name_start - len(prev.group(0)))]
                if orig_prev.isupper():
                    continue
            start = name_start
        s, e = at(start), end_at(name_end)
        found.append(Place(unit.code, unit.name, unit.division_type, s, e, text[s:e]))
        if prefix_ok and _PLURAL_RE.search(folded[max(0, m.start() - 12):m.start()]):
            # "các phường Thống Nhất, Diên Hồng và An Phú": the prefix carries over the list.
            while (n := list_regex.match(folded, pos)) is not None:
                listed = by_group[n.lastgroup]
                if listed.division_type != unit.division_type:
                    break
                s = at(n.start("lp") if n.group("lp") is not None else n.start(n.lastgroup))
                e = end_at(n.end())
                found.append(Place(listed.code, listed.name, listed.division_type, s, e, text[s:e]))
                pos = n.end()
    return found


@functools.lru_cache(maxsize=None)
def _needs_prefix(unit: Commune) -> bool:
    """True when the unit's name only counts with "xã"/"phường" before it."""
    folded = _folded_name(unit)
    return folded in _PREFIX_REQUIRED_WORDS or (" " not in folded and folded not in _BARE_ONE_WORD_OK)


_SEPARATORS_RE = re.compile(rf"[\s{_HYPHENS}{_APOSTROPHES}]+")


def _diacritics_agree(written: str, unit: Commune) -> bool:
    """Does a bare mention's spelling agree with the official name, letter by letter?

    A letter written without diacritics agrees with anything ("Ia Bang" for "Ia Băng", text
    typed without diacritics); a letter with diacritics must be the official one after tone
    normalisation ("Hoà" = "Hòa"), except in "Đak"/"Đăk"/"Đắk"/"Dak". So "ấn tượng" is not
    Ân Tường and "tố tụng" is not Tơ Tung. Names in ``_BARE_NEEDS_DIACRITICS`` also need at
    least one letter with diacritics.
    """
    def prepare(s: str) -> str:
        return _SEPARATORS_RE.sub("", fix_tone_placement(unicodedata.normalize("NFC", s)).lower())

    w, o = prepare(written), prepare(unit.bare_name)
    official_folded = _folded_name(unit)
    free = set()  # positions (in o) of syllables whose diacritics vary freely
    pos = 0
    for syl in official_folded.split():
        if syl in _FREE_DIACRITICS:
            free.update(range(pos, pos + len(syl)))
        pos += len(syl)
    marked = False
    if len(w) == len(o):
        for i, (wc, oc) in enumerate(zip(w, o)):
            if fold_char(wc) == wc:
                continue  # plain letter
            marked = True
            if wc != oc and i not in free:
                return False
    else:  # cannot align (should not happen): judge by marks alone
        marked = any(fold_char(c) != c for c in w)
    return marked or official_folded not in _BARE_NEEDS_DIACRITICS


def _folded_name(unit: Commune) -> str:
    return " ".join(_fold_plain(unit.bare_name).split())
