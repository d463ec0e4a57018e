"""How many labelled examples a watched document needs before `probable` finds anything.

    python benchmarks/examples_needed.py                   # both documents, 3 draws each
    python benchmarks/examples_needed.py --topic qd1894 --sizes 10 20 40 --draws 5

For each document, the corpus ``train`` split keeps only N of its positive items (a random draw
of cited and uncited ones: the examples a person would label for a new document); every other
item stays, and the thresholds are chosen on the full ``dev`` split as the shipped recipe does
(``nlp.evaluate.train_corpus_model``). Each model is scored on the ``test`` split: the
`probable` tier on the document's positives that do not cite it (recall, precision), and the
final decision (`cited` or `probable`) by F1. `cited` needs no example at all: references are
resolved from the registry.
"""

from __future__ import annotations

import argparse
import random
import statistics

from pressmon.nlp.corpus import by_split, load_corpus
from pressmon.nlp.documents import TOPICS
from pressmon.nlp.evaluate import score_results
from pressmon.nlp.topics import prepare, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", choices=TOPICS, action="append", help="a document (default: all)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--draws", type=int, default=3, help="random draws per size")
    args = parser.parse_args()

    splits = by_split(load_corpus())
    cache = {}

    def prepared(item):
        if item["id"] not in cache:
            cache[item["id"]] = prepare(item)
        return cache[item["id"]]

    test_preps = [prepared(it) for it in splits["test"]]
    print("| document | positives in train | probable recall | probable precision | final F1 |")
    print("|---|---|---|---|---|")
    for topic in args.topic or TOPICS:
        positives = [it["id"] for it in splits["train"] if it["labels"].get(topic)]
        for size in [*(s for s in args.sizes if s < len(positives)), len(positives)]:
            rows = []
            for draw in range(args.draws if size < len(positives) else 1):
                kept = set(random.Random(draw).sample(positives, size))
                # The corpus order kept: calibration folds follow it.
                fit = [it for it in splits["train"] if not it["labels"].get(topic) or it["id"] in kept]
                model = train(fit, splits["dev"], prepare_fn=prepared)
                scores = score_results(splits["test"], model.classify_prepared(test_preps))[topic]
                rows.append((scores["probable"]["recall"] or 0.0, scores["probable"]["precision"],
                             scores["final"]["f1"] or 0.0))
            recall = statistics.mean(r[0] for r in rows)
            precisions = [r[1] for r in rows if r[1] is not None]
            precision = f"{statistics.mean(precisions):.2f}" if precisions else "–"
            f1 = statistics.mean(r[2] for r in rows)
            print(f"| {topic} | {size}{' (all)' if size == len(positives) else ''} | {recall:.2f} | "
                  f"{precision} | {f1:.3f} |", flush=True)


if __name__ == "__main__":
    main()
