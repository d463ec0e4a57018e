"""Find references to Vietnamese legal documents in text, and resolve the ones we monitor.

``find_references(text)`` returns every document reference it recognises — a number with a
type/issuer code ("1894/QĐ-TTg", "20-CT/TW", "08/2022/NĐ-CP", "1234/UBND-KT"), a document
word with a number ("Quyết định số 1894", "Chỉ thị 20", "Decision No. 1894"), a programme
code ("KC.06/21-30"), the titles of the watched documents, and an unnumbered plan
("Kế hoạch triển khai Quyết định 1894…") — and resolves each to a document of the registry
(``nlp/documents.toml``: ``document``, ``topic``, ``role``) or to nothing. Look-alikes (a
Party directive 20-CT/TW, a provincial 20/CT-UBND, the 2020 directive 20/CT-TTg on saving
electricity, 1894/QĐ-UBND) are returned, unresolved; plain numbers ("năm 1894", "1894
người") are never references. What makes a short form or a look-alike is the registry's
(``short_form_context``, ``lookalike_context``); how a reference is read is this module's.

How the text is read
--------------------
Matching runs on a folded copy of the input (lower case, no diacritics, đ -> d, Unicode
dashes -> "-", Unicode spaces -> " ", zero-width characters dropped), so any case, NFC or NFD,
"QĐ" or "QD", and old or new tone placement all match. Each folded character keeps the index
of the input character it came from, so ``start``/``end`` are offsets in the string you passed
in, whatever its normal form: ``text[start:end] == reference.text`` always holds. Word
segmentation is not used (underthesea splits "1894/QĐ-TTg" into three tokens).

Spans cover the reference itself ("Quyết định số 1894/QĐ-TTg"), not the date or the issuing
body that may follow it ("ngày 04/9/2025 của Thủ tướng Chính phủ"); those are read into
``signed_on``/``year``/``issuer``.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from pressmon.nlp.documents import DOCUMENTS, Code, Document
from pressmon.nlp.normalize import fold_char, fold_with_offsets

__all__ = ["Reference", "find_references", "FoldedText", "date_of"]


@dataclass(frozen=True)
class Reference:
    """One reference to a document, found in a text.

    ``start``/``end``/``text``: the span in the string given to ``find_references``.
    ``kind``: "Quyết định", "Chỉ thị", "Kế hoạch", "Nghị quyết", "Thông tư", "Nghị định",
    "Công văn", "Luật" or "Chương trình". ``number``: as written ("1894", "02",
    "KC.06/21-30"), None for a title or an unnumbered plan. ``year``: from the number
    ("08/2022/NĐ-CP"), else the signing date, else a following "năm 2025". ``issuer``: the
    normalised code ("QĐ-TTg", "CT/TW", "NĐ-CP", "UBND-KT"); for a short form it is derived
    from a following "của Thủ tướng Chính phủ"/"của UBND tỉnh"… when that names a body.
    ``signed_on``: ISO date from "ngày 4/9/2025", "ngày 04 tháng 9 năm 2025", "dated
    September 4, 2025" right after the reference. ``document``: the resolved key
    ("1894/QĐ-TTg", "2678/QĐ-BCT", "KC.06/21-30") or None. ``topic``: the registry id of the
    document it belongs to, or None. ``role``: "document" (the watched document itself),
    "implementing" (issued to carry it out; counts like the document) or "related"
    (recorded, never enough on its own), None when unresolved. ``names_signer``: the text
    names the issuing body right after it ("của Thủ tướng Chính phủ", "of the Prime
    Minister").
    """

    start: int
    end: int
    text: str
    kind: str
    number: str | None
    year: int | None
    issuer: str | None
    signed_on: str | None
    document: str | None
    topic: str | None
    role: str | None = None
    names_signer: bool = False

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _Known:
    """A document of the registry as the resolver looks it up."""

    key: str
    kind: str
    signed_on: date | None
    topic: str
    role: str
    watched: Document


def _known_documents() -> tuple[dict[tuple[int, str], _Known], dict[tuple[str, int], _Known], dict[str, _Known]]:
    """(by number and issuer code, the watched documents by kind and number for short forms,
    programmes by code) from the registry."""
    by_code: dict[tuple[int, str], _Known] = {}
    short: dict[tuple[str, int], _Known] = {}
    programmes: dict[str, _Known] = {}
    for doc in DOCUMENTS.values():
        own = _Known(doc.key, doc.kind, doc.signed_on, doc.id, "document", doc)
        by_code[(doc.number, doc.issuer)] = short[(doc.kind, doc.number)] = own
        for role, codes in (("implementing", doc.implementing), ("related", doc.related)):
            for code in codes:
                known = _Known(code.key, code.kind, code.signed_on, doc.id, role, doc)
                if code.number is not None and code.issuer:
                    by_code[(code.number, code.issuer)] = known
                elif code.kind == "Chương trình":
                    programmes[code.key] = known
                if code.approved_by is not None:  # the decision approving it stands for it
                    a = code.approved_by
                    by_code[(a.number, a.issuer)] = _Known(code.key, a.kind, a.signed_on, doc.id, role, doc)
    return by_code, short, programmes


_BY_CODE, _SHORT_FORMS, _PROGRAMMES = _known_documents()
_BY_KEY = {k.key: k for k in (*_BY_CODE.values(), *_PROGRAMMES.values())}
# A plan carrying out a watched document names that document's province plan, if it has one.
_PROVINCE_PLANS: dict[str, Code] = {d.key: c for d in DOCUMENTS.values() for c in d.implementing
                                    if c.kind == "Kế hoạch" and c.province}

# --- folding with an index map -----------------------------------------------------------------

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SLASHES = "\u2044\u2215\uff0f"
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_DROPPED = "\u00ad\u200b\u200c\u200d\u2060\ufeff"


def _fold1(char: str) -> str:
    if char in _DASHES:
        return "-"
    if char in _SLASHES:
        return "/"
    if char in _SPACES or char in "\r\t\f\v":
        return " " if char != "\r" else "\n"
    if char in _DROPPED:
        return ""
    return fold_char(char)


class _OneToOne(dict):
    """translate table: a character whose fold is one character maps to it; others to None."""

    def __missing__(self, code_point: int) -> str | None:
        folded = _fold1(chr(code_point))
        value = folded if len(folded) == 1 else None
        self[code_point] = value
        return value


_ONE_TO_ONE = _OneToOne()


def _fold_with_map(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """Fold ``text``; return (folded, starts, ends) with input offsets per folded character.

    ``starts``/``ends`` are None when folding kept one character per character (the usual
    case for NFC input): then folded offsets are input offsets.
    """
    folded = text.translate(_ONE_TO_ONE)  # characters mapped to None are deleted
    if len(folded) == len(text):
        return folded, None, None
    return fold_with_offsets(text, _fold1)


# --- patterns (all on the folded text) ---------------------------------------------------------

_KINDS: list[tuple[str, str]] = [
    (r"quyet\s+dinh|qd|decision", "Quyết định"),
    (r"chi\s+thi|directive", "Chỉ thị"),
    (r"ke\s+hoach|plan", "Kế hoạch"),
    (r"nghi\s+quyet|nq|resolution", "Nghị quyết"),
    (r"thong\s+tu|circular", "Thông tư"),
    (r"nghi\s+dinh|decree", "Nghị định"),
    (r"cong\s+van|official\s+(?:letter|dispatch)|dispatch", "Công văn"),
    (r"luat|law", "Luật"),
    (r"chuong\s+trinh|programme|program", "Chương trình"),
]
_KIND_RES = [(re.compile(rf"(?:{pat})$"), kind) for pat, kind in _KINDS]
_KIND_ALT = "|".join(pat for pat, _ in _KINDS)

_REF_RE = re.compile(
    rf"""
    (?:
        (?<![a-z0-9])(?P<kind>{_KIND_ALT})(?![a-z0-9])
        [ \t\n]*:?[ \t\n]*
        (?:(?P<so>so|no\.?|number|nr\.?)(?![a-z0-9])[ \t\n]*[:.]?[ \t\n]*)?
    )?
    (?(kind)|(?<![\w.,/-]))
    (?P<num>\d{{1,5}})(?!\d|[.,]\d)
    (?P<tail>(?:\s*[-/]\s*[a-z0-9]+)*)
    """,
    re.X,
)
_SEG_RE = re.compile(r"(\s*)([-/])(\s*)([a-z0-9]+)")
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
_KC_RE = re.compile(
    r"(?:(?<![a-z0-9])chuong\s+trinh\s+(?:(?:ma\s+)?so\s+)?)?"
    r"(?<![a-z0-9])kc\s*[.-]?\s*(\d\d)\s*/\s*(\d\d)\s*-\s*(\d\d)(?!\d)"
)
# "Kế hoạch triển khai Quyết định 1894…": a plan named by what it carries out.
_PLAN_WORD_RE = re.compile(
    r"(?<![a-z0-9])ke\s+hoach(?=\s*,?\s+(?:de\s+|ve\s+viec\s+|ve\s+)?"
    r"(?:thuc\s+hien|trien\s+khai)(?![a-z0-9]))"
)

# Code segments: type abbreviations that make a code's kind.
_TYPE_KIND = {
    "qd": "Quyết định",
    "ct": "Chỉ thị",
    "kh": "Kế hoạch",
    "nq": "Nghị quyết",
    "tt": "Thông tư",
    "nd": "Nghị định",
    "ctr": "Chương trình",
}
_KIND_ABBR = {
    "Quyết định": "QĐ",
    "Chỉ thị": "CT",
    "Kế hoạch": "KH",
    "Nghị quyết": "NQ",
    "Thông tư": "TT",
    "Nghị định": "NĐ",
    "Chương trình": "CTr",
}
# Type abbreviations of kinds we do not report (Thông báo, Báo cáo, Tờ trình, Hướng dẫn,
# Kết luận, Quy chế, Đề án, Giấy phép…): a bare code of these is not a reference.
_OTHER_TYPES = frozenset("tb bc ttr hd kl qc da gp qy tc gm pa".split())
_MIXED_CASE = {"TTG": "TTg", "CTR": "CTr", "TTR": "TTr"}
_ASCII_D = {"QD": "QĐ", "ND": "NĐ", "HDND": "HĐND", "DU": "ĐU"}

# Words that make "<kind word> <number>" a count, not a reference ("quyết định 20 dự án").
_UNITS = frozenset(
    """nguoi ty trieu nghin ngan dong usd ha hecta ho km m m2 m3 tan kg lit luot xa phuong
    truong doanh co can hoc vu chiec con cay du bo nganh tinh huyen don diem trang dieu muc
    khoan lan phan van cuon bai suat nhiem thanh""".split()
)
_TIME_UNITS = frozenset("nam thang ngay gio phut tuan quy".split())
# What may follow a lower-case "quyết định 1894" written without "số" for it to be a name.
_CONTINUATIONS = frozenset(
    """cua ngay nam ve do da duoc nay va la ban phe yeu neu co thi cung tai theo quy giao
    dat xac huong chi tren voi khi""".split()
)

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_SIGN = r"(?:(?:ky\s+)?ban\s+hanh\s+|ky\s+)?"
_DATE_RES = [
    # ngày 4/9/2025, ngày 12-7-2025, ngày 04.9.2025
    (re.compile(_SIGN + r"ngay\s+(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*((?:19|20)\d\d)(?!\d)"), "dmy"),
    # ngày 04 tháng 9 năm 2025
    (re.compile(_SIGN + r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s*,?\s+nam\s+((?:19|20)\d\d)(?!\d)"), "dmy3"),
    # dated September 4, 2025 / dated 4 September 2025 / dated 4/9/2025
    (re.compile(rf"(?:dated|issued\s+on|signed\s+on|of|on)\s+({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)(?!\d)"), "mdy"),
    (re.compile(rf"(?:dated|issued\s+on|signed\s+on|of|on)\s+(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_ALT})\.?,?\s+((?:19|20)\d\d)(?!\d)"), "dmy_en"),
    (re.compile(r"(?:dated|issued\s+on|signed\s+on)\s+(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*((?:19|20)\d\d)(?!\d)"), "dmy"),
]
# A bare date in brackets: "1894/QĐ-TTg (04/9/2025)".
_BRACKET_DATE_RE = re.compile(r"\(\s*(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*((?:19|20)\d\d)\s*\)")
_YEAR_PHRASE_RE = re.compile(r"(?:nam|of|in)\s+((?:19|20)\d\d)(?![\d/.-]\d)")

# Bodies named after a reference: "của Thủ tướng Chính phủ", "của Ban Bí thư", "của UBND tỉnh".
_AUTHORITIES: list[tuple[str, str]] = [
    (r"(?:pho\s+)?thu\s+tuong(?:\s+chinh\s+phu)?|ttg|ttcp|(?:the\s+)?(?:deputy\s+)?prime\s+minister", "TTg"),
    (r"chinh\s+phu|(?:the\s+)?government", "CP"),
    (r"ban\s+bi\s+thu|bo\s+chinh\s+tri|(?:ban\s+chap\s+hanh\s+)?trung\s+uong(?:\s+dang)?"
     r"|(?:the\s+)?(?:politburo|secretariat|party\s+central\s+committee)", "TW"),
    (r"(?:ban\s+thuong\s+vu\s+)?(?:tinh|thanh)\s+uy", "TU"),
    (r"(?:ban\s+thuong\s+vu\s+)?dang\s+uy", "ĐU"),
    (r"(?:ban\s+thuong\s+vu\s+)?huyen\s+uy", "HU"),
    (r"(?:chu\s+tich\s+)?(?:ubnd|uy\s+ban\s+nhan\s+dan)", "UBND"),
    (r"hdnd|hoi\s+dong\s+nhan\s+dan", "HĐND"),
    (r"(?:bo\s+truong\s+)?bo\s+cong\s+thuong|(?:the\s+)?ministry\s+of\s+industry\s+and\s+trade", "BCT"),
    (r"(?:bo\s+truong\s+)?bo\s+tai\s+nguyen\s+va\s+moi\s+truong", "BTNMT"),
    (r"(?:bo\s+truong\s+)?bo\s+nong\s+nghiep\s+va\s+moi\s+truong", "BNNMT"),
    (r"(?:bo\s+truong\s+)?bo\s+khoa\s+hoc\s+va\s+cong\s+nghe", "BKHCN"),
    (r"quoc\s+hoi|(?:the\s+)?national\s+assembly", "QH"),
    (r"bo\s+truong|bo|so|cuc|tong\s+cuc|ban|uy\s+ban|hoi\s+dong|chu\s+tich|tinh|xa|phuong|huyen"
     r"|thanh\s+pho|(?:the\s+)?(?:ministry|department|provincial|people'?s\s+committee)", "OTHER"),
]
_AUTH_RE = re.compile(
    r"(?:cua|do|of|by)\s+(?:"
    + "|".join(f"(?P<a{i}>{pat})" for i, (pat, _) in enumerate(_AUTHORITIES))
    + r")(?![a-z0-9])"
)
_PARTY_BODIES = frozenset({"TW", "TU", "ĐU", "HU"})
# The Prime Minister named as the signer just before a reference: "the Prime Minister's
# Directive No. 20", "Thủ tướng Chính phủ đã ban hành Chỉ thị số 20", "Prime Minister Pham
# Minh Chinh signed Directive 20/CT-TTg".
_PM_BEFORE_RE = re.compile(
    r"(?:prime\s+minister'?s?|(?:(?:thu\s+tuong|prime\s+minister)(?:\s+chinh\s+phu)?(?:\s+[a-z]+){0,4}?"
    r"\s+(?:da\s+|vua\s+|has\s+)?(?:ky\s+ban\s+hanh|ky|ban\s+hanh|signed|issued)))\s+$")

_SENTENCE_END_RE = re.compile(r"(?<!\bno)(?<!\bnr)[.!?;](?=\s)|\n\s*\n(?=\s*[-+•*]|\s*\d+[.)]\s)")
_PLAN_VERB_RE = re.compile(r"(?<![a-z0-9])(?:thuc\s+hien|trien\s+khai)(?![a-z0-9])")
_TITLE_LINK_RE = re.compile(
    r"\s*,?\s*(?:(?:ve\s+viec|ve|phe\s+duyet|ban\s+hanh|on|approving)\s*)?[:\"“'‘(]?\s*$"
)
_COMMUNE_RE = re.compile(r"(?<!\w)(?:xã(?!\s+hội)|phường)(?!\w)")
_PROVINCE_RE = re.compile(r"(?<!\w)[Tt]ỉnh\s+(\w+)(?:\s+(\w+))?")


# --- one candidate, while it is being worked out ------------------------------------------------


@dataclass
class _Cand:
    fstart: int  # span in the folded text
    fend: int
    kind: str
    number: str | None = None
    year: int | None = None
    issuer: str | None = None  # as written (code) or derived from a named body
    written_code: bool = False
    authority: str | None = None  # body named after the reference ("TTg", "OTHER", …)
    signed_on: date | None = None
    document: str | None = None
    topic: str | None = None
    role: str | None = None
    trail_end: int = 0  # folded offset after date/body that follow the reference
    short: bool = False  # a kind word and a number, no code
    title: bool = False


class FoldedText:
    """The input, its folded copy and the offset maps between them."""

    def __init__(self, text: str):
        self.raw = text
        self.f, self._starts, self._ends = _fold_with_map(text)

    def span(self, fstart: int, fend: int) -> tuple[int, int]:
        if self._starts is None:
            return fstart, fend
        return self._starts[fstart], self._ends[fend - 1]

    def original(self, fstart: int, fend: int) -> str:
        """The input between two folded offsets, NFC, without format characters."""
        a, b = self.span(fstart, fend)
        s = unicodedata.normalize("NFC", self.raw[a:b])
        return "".join(c for c in s if unicodedata.category(c) != "Cf")

    def sentence(self, fpos: int) -> tuple[int, int]:
        """Folded bounds of the sentence around ``fpos`` (capped at 400 characters a side)."""
        lo = max(0, fpos - 400)
        start = lo
        for m in _SENTENCE_END_RE.finditer(self.f, lo, fpos):
            start = m.end()
        m = _SENTENCE_END_RE.search(self.f, fpos, min(len(self.f), fpos + 400))
        end = m.start() if m else min(len(self.f), fpos + 400)
        return start, end


def _code_like(orig: str) -> bool:
    """An issuer code is written in capitals ("UBND", "QĐ"), or is "TTg"/"CTr"/"TTr"."""
    return orig in ("TTg", "CTr", "TTr") or (orig == orig.upper() and any(c.isalpha() for c in orig))


def _norm_seg(orig: str) -> str:
    up = orig.upper()
    up = _ASCII_D.get(up, up)
    return _MIXED_CASE.get(up, up)


def _valid_seg(seg_f: str, orig: str, spaced: bool) -> bool:
    if not seg_f[0].isalpha():
        return False
    if spaced and not _code_like(orig):
        return False
    return True


def _parse_tail(t: FoldedText, tail_start: int, tail: str) -> tuple[int | None, str | None, str | None, int]:
    """Read "/2022/NĐ-CP", "/QĐ-TTg", "-CT/TW" after a number.

    Returns (year, issuer, type_kind, folded end of what was used). ``type_kind`` is the kind
    the code's type abbreviation names ("QĐ" -> "Quyết định"), "" for a code without one
    ("UBND-KT"), "?" for a type we do not report ("BC", "TB", "KL"…), or None when there is
    no code.
    """
    segs = []
    pos = 0
    for m in _SEG_RE.finditer(tail):
        if m.start() != pos:
            break
        pos = m.end()
        a = tail_start + m.start(4)
        b = tail_start + m.end(4)
        segs.append((m.group(2), m.group(4), t.original(a, b), bool(m.group(1) or m.group(3)), b))
    year = None
    end = tail_start
    i = 0
    if segs and segs[0][0] == "/" and _YEAR_RE.fullmatch(segs[0][1]):
        year = int(segs[0][1])
        end = segs[0][4]
        i = 1
    if i >= len(segs):
        return year, None, None, end
    sep, seg_f, orig, spaced, seg_end = segs[i]
    if not seg_f[0].isalpha():
        return year, None, None, end
    if sep == "/":
        type_kind = _TYPE_KIND.get(seg_f)
        if type_kind is None and not _code_like(orig):
            return year, None, None, end
        if not _valid_seg(seg_f, orig, spaced):
            return year, None, None, end
        parts = [_norm_seg(orig)]
        end = seg_end
        for sep2, seg2, orig2, spaced2, end2 in segs[i + 1:]:
            if sep2 != "-" or not _valid_seg(seg2, orig2, spaced2):
                break
            parts.append(_norm_seg(orig2))
            end = end2
        if seg_f in _OTHER_TYPES:
            return year, "-".join(parts), "?", end
        return year, "-".join(parts), type_kind or "", end
    # Party style: "20-CT/TW", "12-CTr/TU", "05-NQ/ĐU".
    if year is not None or i + 1 >= len(segs):
        return year, None, None, end
    sep2, seg2, orig2, spaced2, end2 = segs[i + 1]
    if sep2 != "/" or not seg2[0].isalpha():
        return year, None, None, end
    if not (seg_f in _TYPE_KIND or seg_f in _OTHER_TYPES) or not _valid_seg(seg_f, orig, spaced):
        return year, None, None, end
    if not _valid_seg(seg2, orig2, spaced2) or not _code_like(orig2):
        return year, None, None, end
    issuer = f"{_norm_seg(orig)}/{_norm_seg(orig2)}"
    end = end2
    for sep3, seg3, orig3, spaced3, end3 in segs[i + 2:]:
        if sep3 != "-" or not _valid_seg(seg3, orig3, spaced3):
            break
        issuer += "-" + _norm_seg(orig3)
        end = end3
    if seg_f in _OTHER_TYPES:
        return year, issuer, "?", end
    return year, issuer, _TYPE_KIND[seg_f], end


_WS_RE = re.compile(r"\s*")
_GAP_RE = re.compile(r"\s*,?\s*")


def _make_date(d: str, m: str, y: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _read_trailer(f: str, pos: int, cand: _Cand) -> None:
    """Read a date, a "năm YYYY" and a named body right after a reference (any order)."""
    for _ in range(3):
        p_ws = _WS_RE.match(f, pos).end()
        p = _GAP_RE.match(f, pos).end()
        progressed = False
        if cand.signed_on is None:
            bm = _BRACKET_DATE_RE.match(f, p)
            if bm:
                cand.signed_on = _make_date(bm.group(1), bm.group(3), bm.group(4))
                pos = bm.end()
                progressed = True
            else:
                q = _WS_RE.match(f, p + 1).end() if f.startswith("(", p) else p
                for rx, shape in _DATE_RES:
                    dm = rx.match(f, q)
                    if not dm:
                        continue
                    g = dm.groups()
                    if shape == "dmy":
                        cand.signed_on = _make_date(g[0], g[2], g[3])
                    elif shape == "dmy3":
                        cand.signed_on = _make_date(g[0], g[1], g[2])
                    elif shape == "mdy":
                        cand.signed_on = _make_date(g[1], str(_MONTHS[g[0]]), g[2])
                    else:
                        cand.signed_on = _make_date(g[0], str(_MONTHS[g[1]]), g[2])
                    pos = dm.end()
                    if f.startswith(")", pos):
                        pos += 1
                    progressed = True
                    break
        if progressed:
            continue
        if cand.authority is None:
            am = _AUTH_RE.match(f, p)
            if am:
                cand.authority = _AUTHORITIES[int(am.lastgroup[1:])][1]
                pos = am.end()
                continue
        ym = _YEAR_PHRASE_RE.match(f, p_ws)  # "Chỉ thị 20 năm 2023"; not ", năm 2024 …"
        if ym and cand.year is None:
            cand.year = int(ym.group(1))
            pos = ym.end()
            continue
        break
    cand.trail_end = pos


def _kind_of_word(word: str) -> str:
    word = re.sub(r"\s+", " ", word)
    for rx, kind in _KIND_RES:
        if rx.match(word):
            return kind
    raise AssertionError(word)  # pragma: no cover - the regex only matches these words


def _number_candidates(t: FoldedText) -> list[_Cand]:
    f = t.f
    out: list[_Cand] = []
    for m in _REF_RE.finditer(f):
        kind_word = m.group("kind")
        num = m.group("num")
        year, issuer, type_kind, code_end = _parse_tail(t, m.start("tail"), m.group("tail"))
        if type_kind == "?":
            if not kind_word:
                continue  # a bare Thông báo/Báo cáo/… code: not a kind we report
            type_kind = ""
        if issuer is not None:
            if type_kind:
                kind = type_kind
            elif kind_word:
                kind = _kind_of_word(kind_word)
            elif re.fullmatch(r"(?:ubtv)?qh\d*", issuer.lower()):
                continue  # a Luật or a National Assembly resolution: cannot tell which
            elif "-" in issuer:
                kind = "Công văn"  # "1234/UBND-KT": an official letter
            else:
                continue
        else:
            if not kind_word:
                continue  # a plain number is never a reference
            kind = _kind_of_word(kind_word)
        start = m.start("kind") if kind_word else m.start("num")
        end = code_end if code_end > m.end("num") else m.end("num")
        cand = _Cand(start, end, kind, number=num, year=year, issuer=issuer,
                     written_code=issuer is not None, short=issuer is None)
        if cand.short and not _short_form_ok(t, m, kind, year):
            continue
        if kind_word and _PM_BEFORE_RE.search(f, max(0, start - 80), start):
            cand.authority = "TTg"
        _read_trailer(f, end, cand)
        out.append(cand)
    return out


def _short_form_ok(t: FoldedText, m: re.Match[str], kind: str, year: int | None) -> bool:
    """Is "<kind word> <number>" a reference, or a count ("quyết định 20 dự án")?"""
    f = t.f
    after = f[m.end("num"):m.end("num") + 40]
    nxt = re.match(r"\s*([a-z%]+)?(\s+\d)?", after)
    word = nxt.group(1) if nxt else None
    if year is None and word is not None:
        if word in _UNITS or word == "%":
            return False
        if word in _TIME_UNITS and not nxt.group(2):
            return False
    n = int(m.group("num"))
    if year is None and kind in ("Kế hoạch", "Chương trình", "Luật") and 1990 <= n <= 2039:
        return False  # "Kế hoạch 2025": a year, not a number
    if not m.group("so"):
        orig_kind = t.original(m.start("kind"), m.end("kind"))
        if orig_kind == orig_kind.lower() and word is not None and word not in _CONTINUATIONS:
            return False  # lower-case verb "quyết định" followed by an object
    return True


def _kc_candidates(t: FoldedText) -> list[_Cand]:
    out = []
    for m in _KC_RE.finditer(t.f):
        code = f"KC.{m.group(1)}/{m.group(2)}-{m.group(3)}"
        cand = _Cand(m.start(), m.end(), "Chương trình", number=code, written_code=True)
        _take(cand, _PROGRAMMES.get(code))
        cand.trail_end = m.end()
        out.append(cand)
    return out


def _title_candidates(t: FoldedText) -> list[_Cand]:
    out = []
    for doc in DOCUMENTS.values():
        for rx in doc.titles:
            for m in rx.finditer(t.f):
                cand = _Cand(m.start(), m.end(), doc.title_kind, title=True)
                _take(cand, _BY_CODE[(doc.number, doc.issuer)])
                cand.trail_end = m.end()
                out.append(cand)
    return out


def _take(cand: _Cand, known: _Known | None) -> None:
    if known is not None:
        cand.document, cand.topic, cand.role = known.key, known.topic, known.role


def date_of(published_at: str | None) -> date | None:
    if not published_at:
        return None
    try:
        return date.fromisoformat(published_at[:10])
    except ValueError:
        return None


def _derive_issuer(cand: _Cand) -> None:
    """For a short form, turn a named body ("của Ban Bí thư") into an issuer code."""
    body = cand.authority
    if cand.issuer is not None or body is None or body == "OTHER":
        return
    abbr = _KIND_ABBR.get(cand.kind)
    if cand.kind == "Luật" or body == "QH":
        return
    if body == "CP" and cand.kind in ("Quyết định", "Chỉ thị"):
        return  # "Quyết định 1894 của Chính phủ": press shorthand for the Prime Minister
    if cand.kind == "Công văn":
        cand.issuer = body
    elif abbr:
        cand.issuer = f"{abbr}/{body}" if body in _PARTY_BODIES else f"{abbr}-{body}"


class _Context:
    """What the whole item says, once: the folded text and the given context (title, lead)."""

    def __init__(self, t: FoldedText, context: str | None):
        self.texts = (t.f, _fold_with_map(context)[0]) if context else (t.f,)
        self._seen: dict[re.Pattern, bool] = {}

    def speaks_of(self, pattern: re.Pattern | None) -> bool:
        if pattern is None:
            return False
        if pattern not in self._seen:
            self._seen[pattern] = any(pattern.search(text) for text in self.texts)
        return self._seen[pattern]


def _resolve(t: FoldedText, cand: _Cand, pub: date | None, item: _Context) -> None:
    if cand.document is not None or cand.title or cand.number is None:
        return
    if not cand.number.isdigit():
        return
    n = int(cand.number)
    year = cand.year if cand.year is not None else (cand.signed_on.year if cand.signed_on else None)
    if cand.issuer is not None:
        known = _BY_CODE.get((n, cand.issuer))
        if known is None or known.kind != cand.kind:
            return
    else:
        if cand.authority == "OTHER":
            return
        known = _SHORT_FORMS.get((cand.kind, n))
        if known is None:
            return
        context = known.watched.short_form_context
        if context is not None and not item.speaks_of(context):
            return
    if known.signed_on is not None:
        if year is not None and year != known.signed_on.year:
            return
        if pub is not None and pub < known.signed_on:
            return
    lookalike = known.watched.lookalike_context if known.role == "document" else None
    if lookalike is not None and year is None:
        # A look-alike of another year (the 2020 and 2023 directives 20/CT-TTg on saving
        # electricity): when the text dates the reference, its words nearby do not matter.
        s, e = t.sentence(cand.fstart)
        if lookalike.search(t.f, s, e) or (item.speaks_of(lookalike)
                                           and not item.speaks_of(known.watched.subject_words)):
            return
    _take(cand, known)


def _link_titles(t: FoldedText, cands: list[_Cand]) -> None:
    """A title right after another reference is that document's title ("Chỉ thị 05/CT-UBND về
    một số nhiệm vụ cấp bách…" is a provincial directive on the same tasks, not 20/CT-TTg)."""
    for i, c in enumerate(cands):
        if not c.title or i == 0:
            continue
        prev = cands[i - 1]
        if prev.title or prev.trail_end > c.fstart:
            continue
        if not _TITLE_LINK_RE.match(t.f[prev.trail_end:c.fstart]):
            continue
        if prev.document is None and (prev.written_code or prev.authority not in (None, "TTg", "CP")):
            # Same tasks, other issuer (a provincial directive carrying them out): the topic,
            # not the document.
            c.document, c.role = None, "implementing"


def _link_plans(t: FoldedText, cands: list[_Cand]) -> list[_Cand]:
    """A plan followed in its sentence by "thực hiện/triển khai <1894 or 20/CT-TTg>"."""
    keep = []
    for i, c in enumerate(cands):
        if c.kind != "Kế hoạch" or c.document is not None:
            keep.append(c)
            continue
        target = cands[i + 1] if i + 1 < len(cands) else None
        linked = False
        watched = _BY_KEY[target.document].watched if target is not None and target.role == "document" else None
        if watched is not None and watched.plans_count:
            s, e = t.sentence(c.fstart)
            gap = t.f[c.trail_end:target.fstart] if c.trail_end <= target.fstart else ""
            if (target.fstart < e and target.fstart - c.fend <= 250
                    and _PLAN_VERB_RE.search(gap)):
                linked = True
                c.topic, c.role = watched.id, "implementing"
                plan = _PROVINCE_PLANS.get(watched.key)
                if plan is not None and c.issuer in (None, "KH-UBND"):
                    a, _ = t.span(s, s + 1) if s < len(t.f) else (0, 0)
                    b, _ = t.span(target.fstart, target.fstart + 1)
                    scope = unicodedata.normalize("NFC", t.raw[a:b])
                    if not _COMMUNE_RE.search(scope.lower()) and not _other_province(scope, plan.province):
                        c.document = plan.key
        if c.number is None and not linked:
            continue  # "kế hoạch triển khai …" of something else: just words
        keep.append(c)
    return keep


def _other_province(scope: str, province: str) -> bool:
    """Does `scope` name a province ("tỉnh Đồng Nai") other than `province` ("Gia Lai")?"""
    own = province.split()
    for m in _PROVINCE_RE.finditer(scope):
        words = [m.group(1), m.group(2) or ""]
        if words[0][:1].isupper() and words[:len(own)] != own:
            return True
    return False


def find_references(text: str, published_at: str | None = None,
                    context: str | None = None) -> list[Reference]:
    """All document references in ``text``, in order, resolved where they can be.

    ``published_at``: the item's publication time (ISO 8601); a reference in an item
    published before a document was signed is not resolved to it. ``context``: more text of
    the same item (title, lead) used only as evidence for short forms such as "Chỉ thị số 20"
    (is pollution, the environment or the Prime Minister mentioned?). Spans are offsets in
    ``text`` as given (NFC, NFD or mixed).
    """
    if not text:
        return []
    t = FoldedText(text)
    item = _Context(t, context)
    pub = date_of(published_at)

    cands = _number_candidates(t) + _kc_candidates(t) + _title_candidates(t)
    for m in _PLAN_WORD_RE.finditer(t.f):
        cand = _Cand(m.start(), m.end(), "Kế hoạch")
        _read_trailer(t.f, m.end(), cand)
        cands.append(cand)
    cands.sort(key=lambda c: (c.fstart, -c.fend))
    # Drop candidates inside an earlier one (a code inside a title, say).
    kept: list[_Cand] = []
    for c in cands:
        if kept and c.fstart < kept[-1].fend:
            continue
        kept.append(c)
    cands = kept

    for c in cands:
        _derive_issuer(c)
        _resolve(t, c, pub, item)
    for c in cands:
        signed = _BY_KEY[c.document].signed_on if c.title and c.document else None
        if signed is not None and pub is not None and pub < signed:
            c.document = c.topic = c.role = None
    _link_titles(t, cands)
    cands = _link_plans(t, cands)

    refs = []
    for c in cands:
        a, b = t.span(c.fstart, c.fend)
        year = c.year if c.year is not None else (c.signed_on.year if c.signed_on else None)
        refs.append(Reference(
            start=a, end=b, text=text[a:b], kind=c.kind, number=c.number, year=year,
            issuer=c.issuer, signed_on=c.signed_on.isoformat() if c.signed_on else None,
            document=c.document, topic=c.topic, role=c.role if c.topic else None,
            names_signer=c.authority not in (None, "OTHER"),
        ))
    return refs
