"""nlp.segment gives underthesea's word segmentation, to the character, faster."""

from __future__ import annotations

import pytest

from pressmon.nlp.corpus import load_corpus
from pressmon.nlp.segment import CHECK_SENTENCES, Segmenter, differences, underthesea
from pressmon.nlp.normalize import normalize_text
from pressmon.nlp.topics import FIELDS, _sentences


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter()


def reference(sentence: str) -> str:
    return underthesea().word_tokenize(sentence, format="text")


def test_the_corpus_is_segmented_as_underthesea_segments_it(segmenter):
    """Every sentence of every other corpus item (title, lead, body). When nlp.segment was
    written the whole corpus, the real news and the real-topics items were compared: 54,907
    sentences, no difference."""
    sentences = [text[a:b] for item in load_corpus()[::2] for field in FIELDS
                 for text in [normalize_text(item.get(field) or "") or ""] for a, b in _sentences(text)]
    assert segmenter.fast
    assert len(sentences) > 4000
    assert differences(segmenter.segment_many, sentences, reference) == []


def test_a_difference_is_found(segmenter):
    """The check that makes the segmenter fall back to underthesea's own can fail."""
    assert differences(segmenter.segment_many, CHECK_SENTENCES, str.lower) != []
    assert differences(segmenter.segment_many, CHECK_SENTENCES, reference) == []


def test_blank_and_one_token_sentences(segmenter):
    assert segmenter.segment_many(["", "   ", "Xin", "Gia Lai", "Ông"]) == ["", "", "Xin", "Gia_Lai", "Ông"]
