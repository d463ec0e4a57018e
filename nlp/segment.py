"""Vietnamese word segmentation: underthesea's ``word_tokenize(text, format="text")``, the same
output from the same model, three to five times faster.

underthesea 9.5 tokenises a sentence with regular expressions, then underthesea_core (Rust) turns
every token into 43 feature strings ("T[-1,0].lower=ô nhiễm", …), hands them to Python as Python
strings, and its CRF tagger turns them back into attribute ids. On 1,000 stored items (cProfile)
those strings took 3.1 s of the 4.5 s of segmentation, the tokeniser 1.1 s.

Here underthesea's own tokeniser (its regular expression; each token's normalisation
remembered) and model files are used, and the CRF is applied without the strings: the model (crfsuite format: a weight per attribute and label, a weight per label
transition) is read once; the weights that one token, two adjacent tokens or three adjacent
tokens contribute to each of the 43 templates are worked out once and remembered (news text
repeats its words and word pairs); the emission of a position is the sum of its 43 template
weights added in the template order, as underthesea_core adds them, so the same floating-point
numbers; Viterbi then picks the labels with underthesea_core's tie rule (the lower label wins).

The feature values follow underthesea_core, not Python's ``str`` methods: ``istitle`` is true
when every space-separated word starts with a character equal to its upper case (so digits and
punctuation are "title"), ``isdigit`` only for ASCII digits, ``is_in_dict`` looks the
lower-cased text up in underthesea's dictionary; a template reaching before the sentence reads
``BOS``, one reaching past its end ``EOS`` (``BOS`` first).

A library upgrade could change any of that: ``Segmenter`` compares itself with
``word_tokenize`` on ``CHECK_SENTENCES`` when it loads and, if they differ, segments with
``word_tokenize`` itself (logged). The tests compare the two on every corpus sentence.
"""

from __future__ import annotations

import logging
import re
import struct
from pathlib import Path

import numpy as np

__all__ = ["CHECK_SENTENCES", "Segmenter", "differences", "underthesea"]

logger = logging.getLogger(__name__)

MODEL_DIR = "ws_crf_vlsp2013_20230727"  # the model underthesea 9.5's word_tokenize loads
# Keys remembered per memo (tokens, pairs, triples, normalised tokens) before it is emptied:
# with all four full, a process holds ~45 MB more (measured on real news).
MEMO_LIMIT = 100_000
# Written for the project to reach every rule above: title case of words, digits and other
# numbers, upper-case abbreviations, one- and two-token sentences, a document number.
CHECK_SENTENCES = (
    "Ông Nguyễn Văn A, 2024 Hà Nội ô nhiễm",
    "UBND tỉnh Gia Lai ban hành Kế hoạch số 125/KH-UBND ngày 12/7/2025 về bảo vệ môi trường.",
    "Chỉ thị 20/CT-TTg: ²³ ½ ١٢ 10:20 H'Mông TP. HCM 3x4 v.v... ==> ẞ ǅ đi",
    "Xin",
    "Gia Lai",
    "xã Ia Grai, huyện Chư Prông; 1.200 hộ dân được hỗ trợ 60.542.000 đồng (tháng 8-2025)",
)

_TEMPLATE_RE = re.compile(r"T\[(-?\d+)(?:,(-?\d+))?\](?:\.(lower|isdigit|istitle|is_in_dict))?")
# Padding keys: never equal to a token (a str) nor to two or three tokens (a 2- or 3-tuple).
_BOS = ("BOS",)
_EOS = ("EOS",)


def underthesea():
    """underthesea, imported without the root log handler it installs (its trainers call
    ``logging.basicConfig`` at import), which would print every later log line twice."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    import underthesea as module

    root.handlers[:] = handlers
    return module


def _cqdb_strings(data: bytes, start: int, count: int) -> list[str]:
    """The strings of a crfsuite CQDB chunk, by id (its backward table)."""
    magic, _, _, _, bwd_size, bwd_offset = struct.unpack_from("<4sIIIII", data, start)
    if magic != b"CQDB" or bwd_size < count:
        raise ValueError("not a crfsuite string table")
    out = []
    for i, offset in enumerate(struct.unpack_from(f"<{count}I", data, start + bwd_offset)):
        stored_id, size = struct.unpack_from("<II", data, start + offset)
        if offset == 0 or stored_id != i:
            raise ValueError("crfsuite string table out of order")
        out.append(data[start + offset + 8:start + offset + 8 + size].split(b"\0", 1)[0]
                   .decode("utf-8", "replace"))
    return out


def _read_crfsuite(path: Path) -> tuple[list[str], dict[str, int], np.ndarray, np.ndarray]:
    """(labels, attribute ids, state weights (attributes × labels), transitions (labels ×
    labels)) of a crfsuite model file, read as underthesea_core reads it: state weights of
    magnitude ≤ 1e-10 count as none."""
    data = path.read_bytes()
    magic, _, kind, _, _, n_labels, n_attrs, off_feat, off_labels, off_attrs = struct.unpack_from(
        "<4sI4sIIIIIII", data, 0)
    chunk, _, n_feat = struct.unpack_from("<4sII", data, off_feat)
    if magic != b"lCRF" or kind != b"FOMC" or chunk != b"FEAT":
        raise ValueError(f"{path} is not a crfsuite CRF model")
    labels = _cqdb_strings(data, off_labels, n_labels)
    attrs = _cqdb_strings(data, off_attrs, n_attrs)
    if len(set(attrs)) != len(attrs) or len(set(labels)) != len(labels):
        raise ValueError(f"{path}: repeated attribute or label")
    features = np.frombuffer(data, dtype=np.dtype([("type", "<u4"), ("src", "<u4"), ("dst", "<u4"),
                                                   ("weight", "<f8")]), count=n_feat, offset=off_feat + 12)
    state = np.zeros((n_attrs, n_labels))
    transitions = np.zeros((n_labels, n_labels))
    for kind, weights in ((0, state), (1, transitions)):
        f = features[features["type"] == kind]
        pairs = f["src"].astype(np.int64) * n_labels + f["dst"]
        if len(np.unique(pairs)) != len(pairs):  # then which one wins would matter
            raise ValueError(f"{path}: a feature given twice")
        weights[f["src"], f["dst"]] = np.where(np.abs(f["weight"]) > 1e-10, f["weight"], 0.0) if kind == 0 else f["weight"]
    return labels, {a: i for i, a in enumerate(attrs)}, state, transitions


def _value(text: str, function: str | None, dictionary: set) -> str:
    """A template's value for a token or tokens joined by spaces, as underthesea_core computes it."""
    if function is None:
        return text
    if function == "lower":
        return text.lower()
    if function == "isdigit":
        return str(text.isascii() and text.isdigit())
    if function == "istitle":
        return str(all(word[:1] == word[:1].upper() for word in text.split(" ")))
    return str(text.lower() in dictionary)  # is_in_dict


class _Span:
    """The templates over a span of one, two or three tokens, and the weights a key (a token, a
    tuple of tokens or a padding key) gives them, as a row of ``table``.

    Most pairs and triples of tokens are in no attribute of the model by their text: only their
    ``istitle`` and ``is_in_dict`` values (True or False) weigh. So a key's row is found by its
    *signature* — each template function's value, the text and its lower case replaced by None
    when no template of the span knows them — and keys with the same signature share a row.
    """

    def __init__(self, templates: list[tuple[str, int, str | None]], attrs: dict[str, int],
                 state: np.ndarray, dictionary: set):
        self.templates = templates  # (name, offset, function)
        self.functions = tuple(dict.fromkeys(function for _, _, function in templates))
        self.attrs, self.state, self.dictionary = attrs, state, dictionary
        names = {name: function for name, _, function in templates}
        self.known: dict[str | None, set[str]] = {None: set(), "lower": set()}
        for attr in attrs:
            name, _, value = attr.partition("=")
            if names.get(name, 0) in self.known:
                self.known[names[name]].add(value)
        self.table = np.zeros((1024, len(templates), state.shape[1]))
        self.signatures: dict[tuple, int] = {}
        for row, pad in enumerate((_BOS, _EOS)):
            self._fill(row, (pad[0],) * len(self.functions))
        self.rows: dict = {}
        self._reset()

    def trim(self) -> None:
        """Forget the keys once there are ``MEMO_LIMIT`` of them (never during an item: rows
        handed out stay valid until the next trim; signatures are few and stay)."""
        if len(self.rows) >= MEMO_LIMIT:
            self._reset()

    def _reset(self) -> None:
        self.rows.clear()
        self.rows[_BOS] = 0
        self.rows[_EOS] = 1

    def _signature(self, text: str) -> tuple:
        out = []
        for function in self.functions:
            value = _value(text, function, self.dictionary)
            known = self.known.get(function)
            out.append(value if known is None or value in known else None)
        return tuple(out)

    def _fill(self, row: int, signature: tuple) -> None:
        values = dict(zip(self.functions, signature))
        none = len(self.state) - 1  # the zero row: an attribute the model does not know
        self.table[row] = self.state[[none if values[function] is None
                                      else self.attrs.get(f"{name}={values[function]}", none)
                                      for name, _, function in self.templates]]

    def row(self, key) -> int:
        row = self.rows.get(key)
        if row is None:
            signature = self._signature(key if isinstance(key, str) else " ".join(key))
            row = self.signatures.get(signature)
            if row is None:
                row = self.signatures[signature] = len(self.signatures) + 2  # after the padding rows
                if row == len(self.table):
                    self.table = np.concatenate([self.table, np.zeros_like(self.table)])
                self._fill(row, signature)
            self.rows[key] = row
        return row


class Segmenter:
    """``segment_many(sentences)``: each sentence as ``word_tokenize(sentence, format="text")``
    gives it (multi-syllable words joined by "_")."""

    def __init__(self):
        import joblib

        ut = underthesea()
        from underthesea.pipeline.text_normalize import token_normalize
        from underthesea.pipeline.word_tokenize import regex_tokenize, word_tokenize

        self._regex_tokenize = regex_tokenize
        self._token_normalize = token_normalize
        self._normal_tokens: dict[str, str] = {}
        self._word_tokenize = word_tokenize
        folder = Path(ut.__file__).resolve().parent / "pipeline" / "word_tokenize" / "models" / MODEL_DIR
        labels, attrs, state, transitions = _read_crfsuite(folder / "models.bin")
        self._inside = labels.index("I-W")
        self._n_labels = len(labels)
        self._trans = transitions.tolist()
        dictionary = joblib.load(folder / "dictionary.bin")
        spans: dict[int, list] = {1: [], 2: [], 3: []}
        self._order = []  # per template, in the model's order: (span size, offset, column)
        for name in joblib.load(folder / "features.bin"):
            m = _TEMPLATE_RE.fullmatch(name)
            if m is None:
                raise ValueError(f"unknown word segmentation template {name!r}")
            a = int(m.group(1))
            size = (int(m.group(2)) if m.group(2) else a) - a + 1
            self._order.append((size, a, len(spans[size])))
            spans[size].append((name, a, m.group(3)))
        state = np.vstack([state, np.zeros((1, state.shape[1]))])
        self._spans = {size: _Span(templates, attrs, state, dictionary)
                       for size, templates in spans.items()}
        self.fast = not differences(self._fast_segment_many, CHECK_SENTENCES, self._underthesea_text)
        if not self.fast:
            logger.warning("underthesea's word segmentation differs from pressmon's faster copy of it "
                           "(a new underthesea or underthesea_core?): using underthesea's own")

    def _underthesea_text(self, sentence: str) -> str:
        return self._word_tokenize(sentence, format="text")

    def segment_many(self, sentences: list[str]) -> list[str]:
        if self.fast:
            return self._fast_segment_many(sentences)
        return [self._underthesea_text(s) if s.strip() else "" for s in sentences]

    def _tokens(self, sentence: str) -> list[str]:
        """underthesea's ``regex_tokenize.tokenize(sentence)``: its regular expression read at
        each call as it does (another caller's ``fixed_words`` replace it for the process); the
        token is the whole match (each alternative is one named group); the normalisation of a
        token is remembered."""
        module = self._regex_tokenize
        normal = self._normal_tokens
        if len(normal) >= MEMO_LIMIT:
            normal.clear()
        out = []
        for m in module.patterns.finditer(module.normalize_characters_in_text(sentence)):
            token = m.group()
            found = normal.get(token)
            if found is None:
                found = normal[token] = self._token_normalize(token, use_character_normalize=True)
            out.append(found)
        return out

    def _fast_segment_many(self, sentences: list[str]) -> list[str]:
        tokens = [self._tokens(s) for s in sentences]
        emissions = self._emissions([t for t in tokens if t])
        out = []
        start = 0
        for toks in tokens:
            if not toks:
                out.append("")
                continue
            labels = self._viterbi(emissions[start:start + len(toks)])
            start += len(toks)
            words: list[str] = []
            for i, (label, token) in enumerate(zip(labels, toks)):
                if label == self._inside and i > 0:
                    words[-1] += " " + token
                else:
                    words.append(token)
            out.append(" ".join(w.replace(" ", "_") for w in words))
        return out

    def _emissions(self, sentences: list[list[str]]) -> list[list[float]]:
        """Every position's score per label, sentences one after another."""
        if not sentences:
            return []
        for span in self._spans.values():
            span.trim()
        ids = {1: [], 2: [], 3: []}
        base = {1: [], 2: [], 3: []}  # per position: the row index of its key at offset -2
        uni, bi, tri = self._spans[1].row, self._spans[2].row, self._spans[3].row
        for toks in sentences:
            n = len(toks)
            for size in (1, 2, 3):
                start = len(ids[size])
                base[size].extend(range(start, start + n))
            ids[1] += [0, 0, *map(uni, toks), 1, 1]
            ids[2] += [0, 0, *(bi((toks[s], toks[s + 1])) for s in range(n - 1)), 1, 1]
            ids[3] += [0, 0, *(tri((toks[s], toks[s + 1], toks[s + 2])) for s in range(n - 2)), 1, 1]
            if n == 1:  # a one-token sentence: a 3-span at offset 0 pads with EOS, one row fewer
                ids[3].pop()
        # ids[2] for a sentence: BOS, BOS, its n-1 pairs, EOS, EOS = n+3 rows for starts -2..n;
        # ids[3]: BOS, BOS, its n-2 triples, EOS, EOS = n+2 rows for starts -2..n-1.
        rows = {size: self._spans[size].table[np.asarray(ids[size])] for size in (1, 2, 3)}
        bases = {size: np.asarray(base[size]) + 2 for size in (1, 2, 3)}
        total = np.zeros((len(bases[1]), self._n_labels))
        for size, offset, column in self._order:  # the model's order: the same additions as underthesea_core
            total += rows[size][bases[size] + offset, column]
        return total.tolist()

    def _viterbi(self, emissions: list[list[float]]) -> list[int]:
        trans, labels = self._trans, range(self._n_labels)
        score = list(emissions[0])
        back = []
        for e in emissions[1:]:
            new, pointers = [], []
            for y in labels:
                best, arg = -np.inf, 0
                for p in labels:
                    s = score[p] + trans[p][y]
                    if s > best:
                        best, arg = s, p
                new.append(best + e[y])
                pointers.append(arg)
            score = new
            back.append(pointers)
        best, label = -np.inf, 0
        for y in labels:
            if score[y] > best:
                best, label = score[y], y
        path = [label]
        for pointers in reversed(back):
            label = pointers[label]
            path.append(label)
        path.reverse()
        return path


def differences(segment_many, sentences, reference) -> list[tuple[str, str, str]]:
    """(sentence, segmentation, reference segmentation) wherever ``segment_many`` and
    ``reference`` (one sentence at a time) disagree."""
    return [(s, mine, theirs) for s, mine in zip(sentences, segment_many(list(sentences)))
            if mine != (theirs := reference(s))]
