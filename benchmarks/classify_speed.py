"""Items per second of ``TopicModel.classify`` on 600-word items, one process, one thread.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/classify_speed.py
    python benchmarks/classify_speed.py --seg-words 0 --seg-words 150 --seg-words all

Counts everything ``classify`` does: normalisation, reference finding, word segmentation
(``nlp.segment``), features, both topic models and the evidence of each tier. The items are
built by concatenating corpus bodies (each starts at a different item, and is cut at 600
words). The segmenter remembers the weights of the tokens, pairs and triples it has seen: each
timed pass starts with a new one (loaded before the clock starts), so the figures are for text
it has not seen, and the repetition of corpus sentences across items helps it only within a pass.
The model is trained at the start as ``pressmon nlp evaluate`` trains it
(``nlp.evaluate.train_corpus_model``) unless ``--model`` is given.
BLAS threads are pinned to one before numpy is imported.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

from pressmon.nlp.corpus import load_corpus  # noqa: E402
from pressmon.nlp.evaluate import train_corpus_model  # noqa: E402
from pressmon.nlp.segment import Segmenter  # noqa: E402
from pressmon.nlp.topics import TopicModel, _Segmenter  # noqa: E402

WORDS = 600


def build_items(corpus: list[dict], n: int, words: int = WORDS, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    bodies = [it for it in corpus if it.get("body")]
    out = []
    for i in range(n):
        first = bodies[i % len(bodies)]
        parts, count = [], 0
        j = i
        while count < words:
            body = bodies[j % len(bodies)]["body"]
            parts.append(body)
            count += len(body.split())
            j += rng.randint(1, 7)
        text = " ".join(" ".join(parts).split(" ")[:words])
        out.append({"id": f"bench-{i}", "title": first.get("title", ""), "lead": "",
                    "body": text, "published_at": first.get("published_at")})
    return out


def measure(model: TopicModel, items: list[dict], batch: bool = False, repeat: int = 3) -> float:
    model.classify(items[0])  # build the model's fast transforms
    rates = []
    for _ in range(repeat):
        _Segmenter._segmenter = Segmenter()
        start = time.perf_counter()
        if batch:
            model.classify_many(items)
        else:
            for it in items:
                model.classify(it)
        rates.append(len(items) / (time.perf_counter() - start))
    return statistics.median(rates)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=300, help="how many 600-word items")
    ap.add_argument("--model", help="a saved model (default: train one from the corpus)")
    ap.add_argument("--seg-words", action="append",
                    help="body words segmented for word features (an int or 'all'); "
                         "repeat to compare; default: the model's own setting")
    args = ap.parse_args(argv)

    corpus = load_corpus()
    items = build_items(corpus, args.items)
    nwords = statistics.mean(len(" ".join([it["title"], it["body"]]).split()) for it in items)
    settings = args.seg_words or [None]
    for setting in settings:
        params = {}
        if setting is not None:
            params["seg_words"] = None if setting == "all" else int(setting)
        if args.model and setting is None:
            model = TopicModel.load(args.model)
        else:
            model = train_corpus_model(corpus, params=params)
        tiers = Counter()
        for r in model.classify_many(items):
            for t, d in r["topics"].items():
                tiers[f"{t}:{d['tier']}"] += 1
        one = measure(model, items)
        many = measure(model, items, batch=True)
        label = model.params.get("seg_words")
        print(f"seg_words={'all' if label is None else label}: {one:.0f} items/s one at a time, "
              f"{many:.0f} items/s in one batch ({len(items)} items of {nwords:.0f} words; "
              f"tiers {dict(sorted(tiers.items()))})")


if __name__ == "__main__":
    main()
