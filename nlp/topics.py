"""Which news items disseminate Decision 1894/QĐ-TTg (``qd1894``) or Directive 20/CT-TTg (``ct20``).

One decision per item and topic, in three **tiers**:

``cited``
    ``nlp.references.find_references`` (run on title, lead and body, with the whole item as
    context and the item's ``published_at``) resolves a reference to a document of the topic —
    unless the item is a **digest** for that topic (below).
``probable``
    No citation, but the item shows a *sign* of the document (``nlp.signs``, from the
    registry: what the document itself orders, such as Hà Nội's petrol motorbikes out of Ring
    Road 1 from 1/7/2026, or the document while it was drafted), whatever its language; or
    the topic model's calibrated probability is at or above the topic's threshold, and the
    item names no rival document (another of the same kind and issuer) instead. The
    threshold is chosen on the dev items where the probability decides (see
    ``choose_threshold``): halfway between the lowest probability at which precision is
    ≥ 0.9 and the next one below it, never below 0.5.
``none``
    Neither. Empty, too short or non-Vietnamese text is always ``none``, with a ``reason``,
    and no probability (the model is not applied; resolved references are still listed).

A **digest** lists the document in passing among many others (a legal bulletin, a roundup of
new regulations, a list of documents for a training day). For a topic, an item is a digest when

* every resolved reference to the topic is in the body (none in title or lead), and there
  are at most ``DIGEST_MAX_MENTIONS`` (2) of them; and
* either the item names ≥ ``DIGEST_ALONE_DOCS`` (5) other documents (``other_documents``:
  it is a list); or no mention gives the document's date, signer or subject
  (``is_full_citation``) and one of: it names ≥
  ``DIGEST_MIN_OTHER_DOCS`` (2) other documents and the model's probability is below the
  topic's threshold; or the probability is below ``DIGEST_OFF_TOPIC`` (0.02) and the item is
  not about another watched topic either (not cited for it in title or lead, not probable
  for it): the rest of the text is about something else.

A citation that gives the document's date, signer or subject is never "in passing": an
article about one measure of the directive (Hà Nội's Ring Road 1 motorbike ban) that names
"Chỉ thị số 20/CT-TTg ngày 12/7/2025" once in its body cites it, however little of the rest
the model recognises. References to a *related* document (an earlier
one recorded in the registry, such as 980/QĐ-TTg) never make an item ``cited``.

Such an item gets ``none`` with ``reason`` ``"digest: …"``; its references stay in the output.
On the corpus (``nlp/data/digests.txt``) the rule was designed against the 25 digests and
the cited positives whose only references are in the body: see the evaluation report.

Text preparation and features
-----------------------------
Fields go through ``nlp.normalize.normalize_text``. Word features: the sentences of the
title, the lead and the body up to ``seg_words`` (150) words are segmented by underthesea's
``word_tokenize`` (CRF; multi-syllable words joined by "_"), lower-cased; TF-IDF of word
1–2-grams. Character features: TF-IDF of ``char_wb`` 3–5-grams of the whole lower-cased
text (no segmentation needed), so the end of a long body still counts.

Segmentation was the cost (underthesea ≈ 24 µs a word here): segmenting the whole of a
600-word item gave ~58 items/s on one core, the first 150 body words ~155 items/s
(``benchmarks/classify_speed.py``). ``nlp.segment`` now gives underthesea's segmentation, the
same tokens, three to five times faster, so the model and its decisions are unchanged
(213 against 72 items/s in one run of that benchmark on a busy machine, both with 150 words). Measured on the corpus (``pressmon nlp evaluate``,
5-fold CV F1 qd1894/ct20): whole body 0.963/0.938, 150 words 0.963/0.941, title and lead
only 0.958/0.925 — so 150 words cost nothing measurable. Char 2–5-grams measured the same as
3–5 (0.964/0.936). Transforms are done by ``_FastTfidf`` (hashing for character n-grams),
probabilities by a gather-and-dot of the coefficients: same numbers as sklearn (tested).

Model: ``hard_negative_weight`` 3 (corpus items of kind ``hard_negative`` weigh 3: it
lowered the dev-split threshold for ct20 from 0.92 to 0.71 at precision ≥ 0.9) and, when
``train(negatives=...)`` is given real news, those as extra negatives. One
``LogisticRegression(class_weight="balanced", C=4)`` per topic, wrapped in
``CalibratedClassifierCV(method="sigmoid", cv=5, ensemble=False)``: one linear model fitted on
all training items, calibrated on out-of-fold decisions, so its coefficients explain the
probability.

Evidence
--------
``cited``: the span of each resolved reference of the topic (field, start, end, text,
document; offsets in the normalised field). ``probable`` by a sign: its span (field,
start, end, text, sign, document). ``probable`` by the model: the 1–3 sentences with the highest
contribution to the topic's decision function — each sentence featurised alone, word and
character features, intercept left out — among the sentences the word features read (title,
lead, body up to ``seg_words``, already segmented: no second segmentation), with field,
offsets, text and weight; positive contributions only (at least one sentence). ``none``: ``[]``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from pressmon.nlp.documents import DOCUMENTS, TOPICS
from pressmon.nlp.normalize import fold, normalize_text
from pressmon.nlp.references import Reference, find_references
from pressmon.nlp.segment import Segmenter
from pressmon.nlp.segment import underthesea as _underthesea
from pressmon.nlp.signs import SignMatch, find_signs

__all__ = [
    "TOPICS", "FIELDS", "TopicModel", "ModelError", "ModelNotFound", "train", "choose_threshold",
    "language_problem", "prepare", "Prepared", "DEFAULT_PARAMS",
    "is_digest",
]

FIELDS = ("title", "lead", "body")
TARGET_PRECISION = 0.9
MIN_THRESHOLD = 0.5
DIGEST_MAX_MENTIONS = 2
DIGEST_ALONE_DOCS = 5
DIGEST_MIN_OTHER_DOCS = 2
DIGEST_OFF_TOPIC = 0.02
SUBJECT_GAP = 120  # characters between a reference and its title ("…ngày 12/7/2025 về một số…")
FORMAT_VERSION = 2
# Bumped whenever the text a model reads changes (preparation, features): part of its version.
FEATURES_VERSION = 2
# Bumped whenever choose_threshold's rule changes: part of the version too.
THRESHOLD_RULE = 2
# The model that ships with pressmon, trained from the repository alone (docs/decisions.md).
SHIPPED_MODEL = Path(__file__).resolve().parent / "data" / "model" / "topics.npz"

DEFAULT_PARAMS = {
    "seg_words": 150,  # body words segmented for word features (title and lead always)
    "word_ngrams": (1, 2),
    "char_ngrams": (3, 5),
    "min_df": 2,
    "max_char_features": 300_000,
    "C": 4.0,
    "calibration_cv": 5,
    "negative_weight": 1.0,  # sample weight of each extra negative (``train(negatives=...)``)
    "hard_negative_weight": 3.0,  # sample weight of corpus items of kind "hard_negative"
}


class ModelError(Exception):
    """The topic model cannot be used; the message says why and what to do."""


class ModelNotFound(ModelError, FileNotFoundError):
    """The topic model file is missing: train it with ``pressmon nlp train``."""


# --- language --------------------------------------------------------------------------------

# Letters that only Vietnamese uses among the Latin-script languages likely here: every vowel
# with a tone mark or a breve/circumflex/horn, and đ.
_VI_LETTERS = frozenset(
    "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
)
_NON_LETTER_RE = re.compile(r"[\W\d_]+")
_NON_VI_RE = re.compile("[^" + "".join(sorted(_VI_LETTERS)) + "]+")
MIN_LETTERS = 20
MIN_VI_SHARE = 0.10  # Vietnamese prose: ~0.35-0.45 of letters; English: 0


def language_problem(text: str | None) -> str | None:
    """None when ``text`` is Vietnamese enough to classify, else the reason it is not.

    Cheap: the share of letters that are Vietnamese-specific (toned or modified vowels, đ)
    must be ≥ ``MIN_VI_SHARE``, and there must be ≥ ``MIN_LETTERS`` letters.
    """
    if not text or not text.strip():
        return "empty text"
    lowered = text.lower()
    letters = len(_NON_LETTER_RE.sub("", lowered))
    vi = len(_NON_VI_RE.sub("", lowered))
    if letters == 0:
        return "no letters in text"
    if letters < MIN_LETTERS:
        return f"too little text ({letters} letters)"
    share = vi / letters
    if share < MIN_VI_SHARE:
        return f"not Vietnamese text ({share:.0%} Vietnamese letters)"
    return None


# --- sentences -------------------------------------------------------------------------------

_SENT_SPLIT_RE = re.compile(r"(?<=[.!?…])\s+(?=[\"“'(]?[A-ZÀ-Ỹ0-9])|\n+")


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: split after . ! ? … before an upper-case start, and at newlines."""
    spans = []
    pos = 0
    for m in _SENT_SPLIT_RE.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


# --- preparing an item -----------------------------------------------------------------------


@dataclass
class Prepared:
    """An item normalised, with its references and the texts the features are built from."""

    fields: dict[str, str]
    published_at: str | None
    refs: list[tuple[str, Reference]]  # (field, reference), in field order
    problem: str | None
    word_text: str = ""  # segmented, lower case (title, lead, head of the body)
    char_text: str = ""  # whole text, lower case
    # The sentences the word features read: (field, start, end, segmented lower-case text).
    head: list[tuple[str, int, int, str]] = field(default_factory=list)
    signs: list[tuple[str, SignMatch]] = field(default_factory=list)  # (field, match)

    def resolved(self, topic: str) -> list[tuple[str, Reference]]:
        """The references that cite the topic: its document or one carrying it out (a related
        document is recorded, never enough on its own)."""
        return [(f, r) for f, r in self.refs if r.topic == topic and r.role != "related"]

    def rivals(self, topic: str) -> list[Reference]:
        """References to another document of the same kind and issuer as the topic's (another
        Directive of the Prime Minister, for 20/CT-TTg), not of the topic: an item naming one
        and never the topic's document is about that one."""
        document = DOCUMENTS[topic]
        return [r for _, r in self.refs
                if r.topic != topic and r.kind == document.kind and r.number != document.number
                and fold(r.issuer or "") == fold(document.issuer)]


def _field(item: dict, name: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    return normalize_text(value) or ""


_WS_RE = re.compile(r"\s+")


class _Segmenter:
    """Word segmentation (``nlp.segment``: underthesea's, faster), loaded once per process."""

    _segmenter: Segmenter | None = None

    @classmethod
    def segment_many(cls, texts: list[str]) -> list[str]:
        """Each text segmented (multi-syllable words joined by "_") and lower-cased."""
        if cls._segmenter is None:
            cls._segmenter = Segmenter()
        return [text.lower() for text in cls._segmenter.segment_many(texts)]


_KIND_TOKENS = {"Quyết định": "qd", "Chỉ thị": "ct", "Kế hoạch": "kh", "Nghị quyết": "nq", "Thông tư": "tt",
                "Nghị định": "nd", "Công văn": "cv", "Luật": "luat", "Chương trình": "ctr"}


def _other_document_tokens(refs: list[tuple[str, Reference]]) -> list[str]:
    """A word per numbered reference to a document that does not cite a watched one
    ("zzotherct" for another directive, "zzrelated" for a related document): an item whose
    instrument is another document (a city's own directive on dust, the 2017 scheme) is
    about that document, and the model can learn so from the look-alikes."""
    tokens = []
    for _, ref in refs:
        if ref.role == "related":
            tokens.append("zzrelated")
        elif ref.topic is None and ref.number:
            tokens.append("zzother" + _KIND_TOKENS.get(ref.kind, "doc"))
    return tokens


def prepare(item: dict, params: dict | None = None, features: bool = True) -> Prepared:
    """Normalise an item's fields, find its references and build its feature texts.

    Word features read the title, the lead and the body's sentences up to ``seg_words``
    words (the sentence that crosses the budget is kept whole), each sentence segmented by
    underthesea; character features read the whole text.
    """
    params = params or DEFAULT_PARAMS
    fields = {name: _field(item, name) for name in FIELDS}
    published_at = item.get("published_at")
    if published_at is not None and not isinstance(published_at, str):
        published_at = str(published_at)
    whole = "\n\n".join(t for t in fields.values() if t)
    refs: list[tuple[str, Reference]] = []
    for name in FIELDS:
        if fields[name]:
            for r in find_references(fields[name], published_at, whole):
                refs.append((name, r))
    prep = Prepared(fields, published_at, refs, language_problem(whole),
                    signs=[(name, s) for name in FIELDS if fields[name]
                           for s in find_signs(fields[name], published_at)])
    if features and prep.problem is None:
        budget = params.get("seg_words")
        budget = math.inf if budget is None else budget
        words = 0
        spans = []
        for name in FIELDS:
            text = fields[name]
            for a, b in _sentences(text):
                if name == "body" and words >= budget:
                    break
                if name == "body":
                    words += len(text[a:b].split())
                spans.append((name, a, b))
        segmented = _Segmenter.segment_many([fields[name][a:b] for name, a, b in spans])
        prep.head = [(name, a, b, seg) for (name, a, b), seg in zip(spans, segmented)]
        prep.word_text = "\n".join([*(h[3] for h in prep.head), *_other_document_tokens(refs)])
        prep.char_text = _WS_RE.sub(" ", whole).lower()
    return prep


# --- digests ---------------------------------------------------------------------------------


_STRONG_DOC_RE = re.compile(
    r"(?<![a-z])(?<!phap )(?:nghi\s+dinh|thong\s+tu|chi\s+thi|luat|cong\s+dien|nghi\s+quyet"
    r"|de\s+an|phap\s+lenh|cong\s+van|chien\s+luoc|decree|circular|directive|law|resolution)"
    r"(?![a-z])"
)
# Words that name a document only when capitalised ("Quyết định phê duyệt…" in a list, not
# "quyết định đầu tư"); "kế hoạch"/"chương trình" are left out: a topic's own plan and
# programme are named so.
# A document word that points back to one already named: "của chỉ thị", "the directive",
# "chỉ thị này", "chỉ thị nói trên".
_POINTS_BACK_BEFORE_RE = re.compile(r"(?<![a-z])(?:cua|the|this|that|its)\s+$")
_POINTS_BACK_AFTER_RE = re.compile(r"\s+(?:nay|noi\s+tren|tren|do)(?![a-z])")
_CAP_DOC_RE = re.compile(
    r"(?<![a-z])(?:quyet\s+dinh|thong\s+bao|huong\s+dan|quy\s+che|quy\s+dinh|ket\s+luan)(?![a-z])"
)


def other_documents(prep: Prepared, topic: str) -> int:
    """How many times the item names a document other than the monitored ones.

    Counts, in title, lead and body, outside resolved references (of any topic: an item
    discussing two watched documents is not a list of documents): the words for a decree,
    circular, directive, law, dispatch, resolution, scheme, ordinance, strategy (any case,
    "pháp luật" excepted), and "Quyết định", "Thông báo", "Hướng dẫn", "Quy chế", "Quy
    định", "Kết luận" when capitalised. Numbered or not: digests often name documents by
    what they do ("Nghị định sửa đổi…"). A word that points back to a document already
    named ("của chỉ thị", "the directive", "chỉ thị này") names no new one.
    """
    n = 0
    for name in FIELDS:
        text = prep.fields[name]
        if not text:
            continue
        folded = fold(text)
        if len(folded) != len(text):  # fold keeps one character per character for NFC text
            folded = "".join(fold(ch) or "\x00" for ch in text)
        spans = [(r.start, r.end) for f, r in prep.refs if f == name and r.topic]
        for rx, capital in ((_STRONG_DOC_RE, False), (_CAP_DOC_RE, True)):
            for m in rx.finditer(folded):
                if any(a <= m.start() < b for a, b in spans):
                    continue
                if capital and not text[m.start()].isupper():
                    continue
                if _POINTS_BACK_BEFORE_RE.search(folded, 0, m.start()) or _POINTS_BACK_AFTER_RE.match(folded, m.end()):
                    continue
                n += 1
    return n


def is_full_citation(prep: Prepared, field_name: str, ref: Reference) -> bool:
    """Does the citation give the document's date, signer or subject (its title, as the
    reference or right after it)? Such a citation is never "in passing"."""
    if ref.signed_on is not None or ref.names_signer or ref.number is None:
        return True
    return any(f == field_name and other.number is None and other.topic == ref.topic
               and 0 <= other.start - ref.end <= SUBJECT_GAP for f, other in prep.refs)


def is_digest(prep: Prepared, topic: str, probability: float | None = None,
              threshold: float = 1.0, other_on_topic: bool = False) -> tuple[bool, str]:
    """Does the item name the topic's document only in passing? (see the module docstring)

    Returns (digest?, explanation). ``probability`` is the model's for the topic (None when
    the model was not applied: then only the structural test counts). ``other_on_topic``:
    the item is about the other monitored topic (cited in title or lead, or probable), so a
    low probability for this one does not make it a digest by itself.
    """
    mine = prep.resolved(topic)
    if not mine or any(f != "body" for f, _ in mine) or len(mine) > DIGEST_MAX_MENTIONS:
        return False, ""
    others = other_documents(prep, topic)
    p = probability
    docs = ", ".join(sorted({r.document or "a plan" for _, r in mine}))
    if others >= DIGEST_ALONE_DOCS:
        why = f"{others} other documents named"
    elif any(is_full_citation(prep, f, r) for f, r in mine):
        return False, ""
    elif p is not None and others >= DIGEST_MIN_OTHER_DOCS and p < threshold:
        why = f"{others} other documents named, probability {p:.2f} below {threshold:.2f}"
    elif p is not None and p < DIGEST_OFF_TOPIC and not other_on_topic:
        why = f"the rest of the text is off topic (probability {p:.3f})"
    else:
        return False, ""
    return True, f"digest: {docs} named in passing in the body; {why}"


# --- thresholds ------------------------------------------------------------------------------


def choose_threshold(probs, labels, target: float = TARGET_PRECISION,
                     floor: float = MIN_THRESHOLD) -> dict:
    """The threshold halfway between the lowest probability p ≥ ``floor`` at which the
    precision of ``prob ≥ p`` is ≥ target and the next lower observed probability (or
    ``floor``): the middle of the gap, not its edge, so an item a little less sure than the
    least sure dev positive is still taken.

    Candidates are the observed probabilities ≥ floor (ties decided together). When none
    qualifies (or no probability reaches the floor) the threshold is 1.0 — nothing becomes
    ``probable`` — and ``reached`` is False.
    """
    probs = np.asarray(probs, dtype=float)
    labels = np.asarray(labels, dtype=bool)
    positives = int(labels.sum())
    order = np.argsort(-probs, kind="stable")
    p, y = probs[order], labels[order]
    best = None
    tp = fp = 0
    i, n = 0, len(p)
    while i < n and p[i] >= floor:
        j = i
        while j < n and p[j] == p[i]:  # ties enter together
            tp += int(y[j])
            fp += int(not y[j])
            j += 1
        if tp / (tp + fp) >= target:
            # keep going down: the lowest qualifying wins
            best = (float(p[i]), max(floor, float(p[j]) if j < n else floor), tp, fp)
        i = j
    if best is None:
        return {"threshold": 1.0, "reached": False, "precision": None, "recall": 0.0,
                "n": int(n), "positives": positives}
    lowest, below, tp, fp = best
    return {"threshold": round((lowest + below) / 2, 6), "reached": True, "precision": tp / (tp + fp),
            "recall": tp / positives if positives else None, "n": int(n), "positives": positives}


# --- fast transforms ---------------------------------------------------------------------------


def _char_wb_doc(text: str) -> str:
    """Each word padded by one space, words two spaces apart: every char_wb n-gram (n ≥ 2) of
    every padded word is a substring; other substrings contain "  " and are in no char_wb
    vocabulary."""
    return " " + "  ".join(text.split()) + " "


def _char_wb_analyzer(lo: int, hi: int):
    """sklearn's ``char_wb`` n-grams (n ≥ 2) plus some that span a word gap (never in the
    vocabulary, so lookups drop them), with C-speed slicing."""

    def analyze(text: str) -> list[str]:
        doc = _char_wb_doc(text)
        out: list[str] = []
        for n in range(lo, hi + 1):
            out += [doc[i:i + n] for i in range(len(doc) - n + 1)]
        return out

    return analyze


_HASH_MUL = np.uint64(0x100000001B3)  # FNV-style multiplier; arithmetic wraps mod 2**64


def _ngram_hashes(codes: np.ndarray, n: int) -> np.ndarray:
    """64-bit hash of every n-gram of a code-point array (vectorised polynomial hash)."""
    m = len(codes) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.full(m, np.uint64(n), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * _HASH_MUL + codes[k:k + m]
    return h


class _HashedCharCounts:
    """Counts of vocabulary char_wb n-grams of a text, by hashing every n-gram with numpy.

    A 64-bit hash per n-gram, looked up by binary search in the sorted hashes of the
    vocabulary: ~5x faster than building the n-gram strings. A collision between an n-gram
    outside the vocabulary and one inside is ~1e-10 per text; vocabulary n-grams that collide
    with each other are detected when the table is built (the slow path is used instead).
    """

    def __init__(self, vocab: dict[str, int], lo: int, hi: int):
        self.lo, self.hi = lo, hi
        keys = list(vocab)
        hashes = np.empty(len(keys), dtype=np.uint64)
        for i, key in enumerate(keys):
            codes = np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            hashes[i] = _ngram_hashes(codes, len(key))[0]
        order = np.argsort(hashes)
        self.hashes = hashes[order]
        self.index = np.fromiter((vocab[keys[i]] for i in order), dtype=np.int64,
                                 count=len(keys))
        self.ok = len(np.unique(self.hashes)) == len(self.hashes)

    def counts(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        doc = _char_wb_doc(text)
        codes = np.frombuffer(doc.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        h = np.concatenate([_ngram_hashes(codes, n) for n in range(self.lo, self.hi + 1)])
        if not len(h) or not len(self.hashes):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        pos = np.searchsorted(self.hashes, h)
        pos[pos == len(self.hashes)] = 0
        hit = self.hashes[pos] == h
        idx, tf = np.unique(self.index[pos[hit]], return_counts=True)
        return idx, tf.astype(np.float64)


class _FastTfidf:
    """``TfidfVectorizer.transform`` from a fitted vocabulary and idf, several times faster,
    without scikit-learn (the model file holds plain arrays).

    Character n-grams (``char_wb``, n ≥ 2) are counted by hashing (``_HashedCharCounts``);
    word n-grams as scikit-learn builds them (``WORD_PATTERN`` tokens, then n-grams joined by
    a space) with ``collections.Counter``, each distinct one looked up once. Same result:
    sublinear tf, idf, L2 norm (checked by a test against scikit-learn).
    """

    def __init__(self, terms: list[str], idf: np.ndarray, analyzer: str, ngram_range: tuple[int, int]):
        lo, hi = ngram_range
        self.vocab = {term: i for i, term in enumerate(terms)}
        self.hashed = None
        if analyzer == "char_wb":
            self.analyze = _char_wb_analyzer(lo, hi)
            hashed = _HashedCharCounts(self.vocab, lo, hi)
            self.hashed = hashed if hashed.ok else None
        else:
            self.analyze = _word_analyzer(lo, hi)
        self.idf = np.asarray(idf, dtype=np.float64)
        self.n = len(self.vocab)
        self.sublinear = True

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, tf-idf weights) of one text, L2-normalised, unsorted."""
        if self.hashed is not None:
            idx, tf = self.hashed.counts(text)
        else:
            counts = Counter(self.analyze(text))
            idx = np.fromiter(map(self.vocab.get, counts.keys(), repeat(-1)), dtype=np.int64,
                              count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            keep = idx >= 0
            idx, tf = idx[keep], tf[keep]
        if self.sublinear:
            tf = np.log(tf) + 1.0
        w = tf * self.idf[idx]
        norm = math.sqrt(float(w @ w))
        if norm > 0:
            w /= norm
        return idx, w

    def transform(self, texts: list[str]):
        indptr = [0]
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        for text in texts:
            idx, w = self.row(text)
            order = np.argsort(idx)
            indices.append(idx[order])
            data.append(w[order])
            indptr.append(indptr[-1] + len(idx))
        return sp.csr_matrix(
            (np.concatenate(data) if data else np.zeros(0),
             np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64), indptr),
            shape=(len(texts), self.n))


# --- the model -------------------------------------------------------------------------------


WORD_PATTERN = r"(?u)\b\w\w+\b"


def _word_analyzer(lo: int, hi: int):
    """scikit-learn's word n-grams: the tokens, then each n-gram of them joined by a space."""
    token = re.compile(WORD_PATTERN)

    def analyze(text: str) -> list[str]:
        tokens = token.findall(text)
        out = tokens[:] if lo == 1 else []
        for n in range(max(lo, 2), hi + 1):
            out += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        return out

    return analyze


@dataclass
class TopicModel:
    """The vocabularies with their idf, one calibrated linear model per topic (coefficients,
    intercept, the sigmoid's a and b), thresholds and metadata: plain arrays, so a model file
    needs no particular scikit-learn to be read, and reading it runs no code (no pickle)."""

    params: dict
    topics: tuple[str, ...]
    word_terms: list[str]
    word_idf: np.ndarray
    char_terms: list[str]
    char_idf: np.ndarray
    coef: np.ndarray  # (word features + char features, topics)
    intercept: np.ndarray  # (topics,)
    a: np.ndarray  # sigmoid calibration: p = 1 / (1 + exp(a * decision + b))
    b: np.ndarray
    thresholds: dict  # topic -> float
    meta: dict = field(default_factory=dict)
    # Right after training: the fitted scikit-learn vectorisers and models (not saved).
    fitted: dict | None = field(default=None, repr=False, compare=False)

    # -- metadata --
    @property
    def version(self) -> str:
        return self.meta["version"]

    @property
    def trained_at(self) -> str:
        return self.meta["trained_at"]

    # -- features --
    def _fast(self):
        """Fast transforms and the linear + sigmoid parameters for the registry's topics, built
        once per process. A topic the model was not trained for gets no probability."""
        fast = self.__dict__.get("_fast_cache")
        if fast is None:
            known = [t for t in TOPICS if t in self.topics]
            columns = [self.topics.index(t) for t in known]
            fast = {"word": _FastTfidf(self.word_terms, self.word_idf, "word", tuple(self.params["word_ngrams"])),
                    "char": _FastTfidf(self.char_terms, self.char_idf, "char_wb", tuple(self.params["char_ngrams"])),
                    "n_word": len(self.word_terms), "known": known,
                    "coef": self.coef[:, columns].astype(np.float64), "intercept": self.intercept[columns],
                    "a": self.a[columns], "b": self.b[columns]}
            self.__dict__["_fast_cache"] = fast
        return fast

    def _decisions(self, word_texts: list[str], char_texts: list[str],
                   intercept: bool = True) -> np.ndarray:
        """Decision values (n, topics) without building sparse matrices: a gather of the
        coefficients at each text's features and a dot product (scikit-learn's decision function)."""
        f = self._fast()
        coef, n_word = f["coef"], f["n_word"]
        out = np.empty((len(word_texts), len(f["known"])))
        for i, (wt, ct) in enumerate(zip(word_texts, char_texts)):
            wi, ww = f["word"].row(wt)
            ci, cw = f["char"].row(ct)
            out[i] = ww @ coef[wi] + cw @ coef[ci + n_word]
        if intercept:
            out += f["intercept"]
        return out

    def _calibrate(self, d: np.ndarray) -> np.ndarray:
        f = self._fast()
        return 1.0 / (1.0 + np.exp(f["a"] * d + f["b"]))

    def probabilities(self, preps: list[Prepared]) -> dict[str, np.ndarray]:
        """Calibrated probability per topic for prepared items (NaN where not classifiable).

        Same numbers as each topic's ``CalibratedClassifierCV.predict_proba`` (a test checks),
        computed for every topic at once, without scikit-learn.
        """
        out = {t: np.full(len(preps), np.nan) for t in TOPICS}
        idx = [i for i, p in enumerate(preps) if p.problem is None]
        if not idx or not self._fast()["known"]:
            return out
        probs = self._calibrate(self._decisions([preps[i].word_text for i in idx],
                                                [preps[i].char_text for i in idx]))
        for j, t in enumerate(self._fast()["known"]):
            out[t][idx] = probs[:, j]
        return out

    def _evidence_sentences(self, prep: Prepared, topic: str, k: int = 3) -> list[dict]:
        """The ≤ k sentences of the segmented head with the largest positive contribution."""
        cands = [h for h in prep.head if len(prep.fields[h[0]][h[1]:h[2]].split()) >= 4]
        if not cands:
            return []
        j = self._fast()["known"].index(topic)
        scores = self._decisions(
            [h[3] for h in cands],
            [_WS_RE.sub(" ", prep.fields[h[0]][h[1]:h[2]]).lower() for h in cands],
            intercept=False)[:, j]
        order = np.argsort(-scores, kind="stable")
        out = []
        for i in order[:k]:
            if scores[i] <= 0 and out:
                break
            name, a, b, _ = cands[i]
            out.append({"field": name, "start": a, "end": b, "text": prep.fields[name][a:b],
                        "weight": round(float(scores[i]), 4)})
        return out

    # -- classification --
    def _decide(self, prep: Prepared, probs: dict[str, float]) -> dict:
        topics = {}
        for t in TOPICS:
            p = probs[t]
            prob = None if (p is None or math.isnan(p)) else round(float(p), 4)
            threshold = self.thresholds.get(t, 1.0)
            decision: dict = {"tier": "none", "probability": prob, "evidence": []}
            topics[t] = decision
            mine = prep.resolved(t)
            signs = [dict(s.as_dict(), field=f) for f, s in prep.signs if s.topic == t]
            digest_reason = None
            if mine:
                other_on_topic = any(
                    any(f != "body" for f, _ in prep.resolved(other))
                    or (probs[other] is not None and not math.isnan(probs[other])
                        and probs[other] >= self.thresholds.get(other, 1.0))
                    for other in TOPICS if other != t)
                # An item showing a sign of the document is about it, not a digest.
                digest, why = (False, None) if signs else is_digest(prep, t, prob, threshold,
                                                                      other_on_topic)
                if digest:
                    digest_reason = why
                else:
                    decision["tier"] = "cited"
                    decision["evidence"] = [
                        {"field": f, "start": r.start, "end": r.end, "text": r.text,
                         "document": r.document}
                        for f, r in mine
                    ]
                    if prep.problem is not None:
                        decision["reason"] = f"{prep.problem}: cited by reference only"
                    continue
            if signs:
                decision["tier"] = "probable"
                decision["evidence"] = signs  # each names its sign: no reason needed
            elif prep.problem is not None:
                decision["reason"] = prep.problem
            elif t not in self.topics:
                decision["reason"] = "the model was trained before this document was watched: retrain it"
            elif prob is not None and prob >= threshold:
                rivals = prep.rivals(t)
                if rivals:
                    decision["reason"] = (f"names {rivals[0].text}, another {rivals[0].kind} of the same issuer, "
                                          f"and never {DOCUMENTS[t].key}: about that one (probability {prob:.2f})")
                else:
                    decision["tier"] = "probable"
                    decision["evidence"] = self._evidence_sentences(prep, t)
            elif digest_reason:
                decision["reason"] = digest_reason
        return topics

    def classify_prepared(self, preps: list[Prepared]) -> list[dict]:
        probs = self.probabilities(preps)
        out = []
        for i, prep in enumerate(preps):
            topics = self._decide(prep, {t: probs[t][i] for t in TOPICS})
            refs = [dict(r.as_dict(), field=f) for f, r in prep.refs]
            out.append({"topics": topics, "references": refs})
        return out

    def classify(self, item: dict) -> dict:
        """``{"topics": {topic: {tier, probability, evidence[, reason]}}, "references": [...]}``.

        Never raises on bad text: a non-dict item or unreadable fields count as empty text.
        """
        return self.classify_many([item])[0]

    def classify_many(self, items: list[dict]) -> list[dict]:
        preps = [prepare(it if isinstance(it, dict) else {}, self.params) for it in items]
        return self.classify_prepared(preps)

    # -- persistence --
    def save(self, path: str | Path) -> Path:
        """Write the model (a compressed ``.npz`` of plain arrays with a JSON header) and its
        metadata (``<path>.json`` beside it)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"format": FORMAT_VERSION, "params": self.params, "topics": list(self.topics),
                  "thresholds": self.thresholds, "meta": self.meta}
        with open(path, "wb") as handle:  # np.savez would add ".npz" to a name without it
            np.savez_compressed(
                handle, header=np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
                word_terms=_pack(self.word_terms), word_idf=self.word_idf, char_terms=_pack(self.char_terms),
                char_idf=self.char_idf, coef=self.coef, intercept=self.intercept, a=self.a, b=self.b)
        _sidecar(path).write_text(json.dumps(self.meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                  encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "TopicModel":
        path = Path(path)
        if not path.is_file():
            raise ModelNotFound(f"no topic model at {path}: train one with `pressmon nlp train`")
        try:
            with np.load(path, allow_pickle=False) as arrays:
                header = json.loads(arrays["header"].tobytes().decode("utf-8"))
                if not isinstance(header, dict) or "format" not in header:
                    raise ValueError("no header")
                if header["format"] != FORMAT_VERSION:
                    raise ModelError(f"{path} is a topic model of format {header['format']}, this pressmon reads "
                                     f"format {FORMAT_VERSION}: train one with `pressmon nlp train`")
                return cls(params=header["params"], topics=tuple(header["topics"]),
                           word_terms=_unpack(arrays["word_terms"]), word_idf=arrays["word_idf"],
                           char_terms=_unpack(arrays["char_terms"]), char_idf=arrays["char_idf"],
                           coef=arrays["coef"], intercept=arrays["intercept"], a=arrays["a"], b=arrays["b"],
                           thresholds=header["thresholds"], meta=header["meta"])
        except ModelError:
            raise
        except Exception:  # numpy, zipfile and json each raise their own kind for a file that is not ours
            raise ModelError(f"{path} is not a pressmon topic model: train one with `pressmon nlp train`") from None


def _pack(terms: list[str]) -> np.ndarray:
    """Terms as one UTF-8 byte array, NUL-separated: compact and readable without pickle."""
    return np.frombuffer("\0".join(terms).encode("utf-8"), dtype=np.uint8)


def _unpack(array: np.ndarray) -> list[str]:
    text = array.tobytes().decode("utf-8")
    return text.split("\0") if text else []


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


# --- training --------------------------------------------------------------------------------


def _from_fitted(params: dict, word_vec, char_vec, models: dict) -> TopicModel:
    """The model's arrays out of fitted scikit-learn objects (kept in ``fitted`` for tests)."""
    def terms(vec) -> list[str]:
        out = [""] * len(vec.vocabulary_)
        for term, i in vec.vocabulary_.items():
            out[i] = term
        return out

    calibrated = [models[t].calibrated_classifiers_[0] for t in TOPICS]
    return TopicModel(
        params=params, topics=TOPICS, word_terms=terms(word_vec), word_idf=word_vec.idf_.astype(np.float64),
        char_terms=terms(char_vec), char_idf=char_vec.idf_.astype(np.float64),
        coef=np.vstack([c.estimator.coef_.ravel() for c in calibrated]).T.astype(np.float64),
        intercept=np.array([float(c.estimator.intercept_[0]) for c in calibrated]),
        a=np.array([float(c.calibrators[0].a_) for c in calibrated]),
        b=np.array([float(c.calibrators[0].b_) for c in calibrated]),
        thresholds={t: 1.0 for t in TOPICS},
        fitted={"word_vec": word_vec, "char_vec": char_vec, "models": models})


def _fingerprint(items: list[dict], dev_items: list[dict] | None, params: dict,
                 negatives: list[dict] | None = None) -> str:
    """The model's version: a hash of everything that decides its numbers — the items with their
    labels, the parameters, the features, the topics and the minor versions of scikit-learn and underthesea
    (pinned in pyproject.toml, so that training from the repository gives the shipped model)."""
    import sklearn

    h = hashlib.sha256()
    h.update(json.dumps({"params": params, "format": FORMAT_VERSION, "features": FEATURES_VERSION, "topics": TOPICS,
                         "thresholds": [THRESHOLD_RULE, TARGET_PRECISION, MIN_THRESHOLD],
                         "sklearn": _minor(sklearn.__version__), "underthesea": _minor(_underthesea().__version__)},
                        sort_keys=True, default=list).encode())
    for group in (items, dev_items or [], negatives or []):
        h.update(b"\x00group")
        for it in sorted(group, key=lambda x: str(x.get("id"))):
            h.update(json.dumps([it.get("id"), it.get("title"), it.get("lead"), it.get("body"),
                                 it.get("published_at"), it.get("labels"), it.get("kind")],
                                ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()[:16]


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _label(item: dict, topic: str) -> bool:
    return bool((item.get("labels") or {}).get(topic, False))


def _threshold_population(preps: list[Prepared], items: list[dict], probs: np.ndarray,
                          topic: str):
    """Items on which the model's probability decides: classifiable, not cited for the topic,
    no sign of it, no rival document named."""
    p, y = [], []
    for prep, item, pr in zip(preps, items, probs):
        if (prep.problem is not None or prep.resolved(topic) or prep.rivals(topic)
                or any(s.topic == topic for _, s in prep.signs)):
            continue
        p.append(pr)
        y.append(_label(item, topic))
    return np.array(p), np.array(y, dtype=bool)


def train(items: list[dict], dev_items: list[dict] | None = None, params: dict | None = None,
          dev_note: str | None = None, prepare_fn=None, negatives: list[dict] | None = None,
          verbose: bool = False) -> TopicModel:
    """Fit a topic model on ``items`` (each with ``labels``) and choose thresholds.

    Thresholds come from ``dev_items`` (``choose_threshold`` on the dev items where
    ``probable`` decides: classifiable and not cited for the topic). Without ``dev_items``,
    from out-of-fold probabilities of a 5-fold cross-validation over ``items`` and
    ``negatives`` (the same population rule).
    ``prepare_fn(item) -> Prepared`` may supply cached preparations (made with the same params).

    ``negatives``: extra items that are negative for every topic (real news with no tie, say).
    They take part in fitting the linear models only: the vocabularies are learnt from
    ``items`` alone, so no n-gram of theirs is stored in the model, only weights.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    params = {**DEFAULT_PARAMS, **(params or {})}
    t0 = time.perf_counter()
    if prepare_fn is None:
        def prepare_fn(it):
            return prepare(it, params)
    preps = [prepare_fn(it) for it in items]
    keep = [i for i, p in enumerate(preps) if p.problem is None]
    train_preps = [preps[i] for i in keep]
    train_items = [items[i] for i in keep]
    word_vec = TfidfVectorizer(token_pattern=WORD_PATTERN, lowercase=False,
                               ngram_range=tuple(params["word_ngrams"]),
                               min_df=params["min_df"], sublinear_tf=True, dtype=np.float32)
    char_vec = TfidfVectorizer(analyzer="char_wb", lowercase=False,
                               ngram_range=tuple(params["char_ngrams"]),
                               min_df=params["min_df"], sublinear_tf=True,
                               max_features=params["max_char_features"], dtype=np.float32)
    W = word_vec.fit_transform([p.word_text for p in train_preps])
    Cm = char_vec.fit_transform([p.char_text for p in train_preps])
    X = sp.hstack([W, Cm], format="csr")
    n_neg = 0
    neg_preps: list[Prepared] = []
    if negatives:
        neg_preps = [p for p in map(prepare_fn, negatives) if p.problem is None]
        n_neg = len(neg_preps)
        if neg_preps:
            X = sp.vstack([X, sp.hstack([word_vec.transform([p.word_text for p in neg_preps]),
                                         char_vec.transform([p.char_text for p in neg_preps])],
                                        format="csr")], format="csr")

    def make():
        base = LogisticRegression(C=params["C"], class_weight="balanced", max_iter=5000)
        return CalibratedClassifierCV(base, method="sigmoid", cv=params["calibration_cv"],
                                      ensemble=False)

    hard = float(params.get("hard_negative_weight", 1.0))
    weights = np.concatenate([[hard if it.get("kind") == "hard_negative" else 1.0
                               for it in train_items],
                              np.full(n_neg, float(params["negative_weight"]))])
    models = {}
    counts = {}
    for t in TOPICS:
        y = np.array([_label(it, t) for it in train_items] + [False] * n_neg)
        counts[t] = {"positive": int(y.sum()), "negative": int((~y).sum())}
        models[t] = make().fit(X, y, sample_weight=weights)
    model = _from_fitted(params, word_vec, char_vec, models)

    threshold_info = {}
    if dev_items:
        dev_preps = [prepare_fn(it) for it in dev_items]
        dev_probs = model.probabilities(dev_preps)
        for t in TOPICS:
            p, y = _threshold_population(dev_preps, dev_items, dev_probs[t], t)
            threshold_info[t] = choose_threshold(p, y)
        source = dev_note or f"{len(dev_items)} dev items"
    else:
        oof = {t: np.zeros(X.shape[0]) for t in TOPICS}
        for t in TOPICS:
            y = np.array([_label(it, t) for it in train_items] + [False] * n_neg)
            skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
            for a, b in skf.split(X, y):
                oof[t][b] = make().fit(X[a], y[a], sample_weight=weights[a]).predict_proba(X[b])[:, 1]
            p, yy = _threshold_population(train_preps + neg_preps,
                                          train_items + [{"labels": {}}] * n_neg, oof[t], t)
            threshold_info[t] = choose_threshold(p, yy)
        source = ("5-fold out-of-fold probabilities on the training items"
                  + (f" and the {n_neg} extra negatives" if n_neg else ""))
    model.thresholds = {t: threshold_info[t]["threshold"] for t in TOPICS}
    model.meta = {
        "version": _fingerprint(items, dev_items, params, negatives),
        "trained_at": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
        "training_items": len(items),
        "training_items_used": len(train_items),
        "training_counts": counts,
        "extra_negatives": n_neg,
        "thresholds": model.thresholds,
        "threshold_choice": {"source": source, "target_precision": TARGET_PRECISION,
                             "floor": MIN_THRESHOLD, **threshold_info},
        "topics": list(TOPICS),
        "features": {"word": len(word_vec.vocabulary_), "char": len(char_vec.vocabulary_)},
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    if verbose:
        print(json.dumps(model.meta, ensure_ascii=False, indent=1))
    return model
