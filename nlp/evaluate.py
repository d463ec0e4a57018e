"""Figures for the topic classifier and the reference resolver (``pressmon nlp evaluate``).

``evaluate(corpus, realnews_path=...)`` measures, and ``write_report`` writes Markdown + JSON:

**Test split** — the model ``train_corpus_model`` builds: fitted on the corpus ``train``
split (plus half of the real-news ``dev`` items as negatives when the file is there, see
below), thresholds chosen on the corpus ``dev`` split plus the other half of the real-news
``dev`` items; applied to ``test``. Per topic, precision/recall/F1 of

* the final decision: ``cited`` or ``probable`` counts as positive;
* ``cited`` alone (over all test items);
* ``probable`` alone, over the items it decides on (not ``cited`` for the topic).

**5-fold cross-validation** over ``train`` + ``dev``: folds stratified by the label pair,
seed 0. In each fold the model is trained on the other four folds' items (plus real-news dev
half A as negatives), and its thresholds are chosen on an inner split: out-of-fold
probabilities of an inner 5-fold cross-validation over those same training items and
negatives (``train(items, dev_items=None)``). A fold's own dev portion (~150 items, ~30
uncited positives a topic) proved too small: two hard negatives at the top moved a threshold
from 0.5 to 0.99. The held-out fold never influences a threshold. Reported per fold, as
mean ± standard deviation, and pooled over the five folds.

**References** — precision and recall of resolved references against gold derived per item
and topic: a ``cited`` item must yield a resolved reference for each true topic; a digest
(``nlp/data/digests.txt``: ``id topics``) must yield the topics it lists; every other item
(uncited positives, look-alikes, negatives) must yield none. Counted over (item, topic)
pairs on the whole corpus (the resolver is rule-based: it was not trained on any split).

**Real news** — the share of ``../shared/realnews/articles.jsonl`` items of split
``holdout`` flagged ``cited`` or ``probable`` (``title`` as title, ``text`` as body, ``date``
as publication time). The ``dev`` split (which we may tune on) is cut in two by
``sha1(id) % 2``: half "A" are extra negatives when fitting the linear models (the
vectorisers are fitted on the corpus alone, so no n-gram of theirs is stored in the model
file), half "B" are extra negatives when choosing thresholds. Both halves are reported too.
No text of those items is written to the report — ids only. When the file is absent, the
model is built from the corpus alone and the share is skipped with a message.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from pathlib import Path

import numpy as np

from pressmon.nlp.corpus import TOPICS, load_corpus, load_digest_ids_topics, split_of
from pressmon.nlp.topics import DEFAULT_PARAMS, TopicModel, prepare, train

__all__ = ["evaluate", "write_report", "DEFAULT_REALNEWS", "load_realnews", "prf",
           "train_corpus_model", "realnews_dev_halves"]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REALNEWS = REPO.parent / "shared" / "realnews" / "articles.jsonl"
TARGETS = {"references_precision": 1.0, "references_recall": 0.98, "topic_f1": 0.90,
           "realnews_holdout_flagged_share": 0.005}


def prf(pred, gold) -> dict:
    pred = np.asarray(pred, dtype=bool)
    gold = np.asarray(gold, dtype=bool)
    tp = int((pred & gold).sum())
    fp = int((pred & ~gold).sum())
    fn = int((~pred & gold).sum())
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn,
            "n": int(len(pred))}


def load_realnews(path: str | Path, split: str) -> list[dict]:
    """Items of one split of the real-news file, as classifier items (text not kept elsewhere)."""
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            d = json.loads(line)
            if d.get("split") != split:
                continue
            out.append({"id": d["id"], "title": d.get("title") or "", "lead": "",
                        "body": d.get("text") or "", "published_at": d.get("date"),
                        "outlet": d.get("outlet"), "text_kind": d.get("text_kind"),
                        "labels": {t: False for t in TOPICS}})
    return out


def realnews_dev_halves(path: str | Path | None = DEFAULT_REALNEWS):
    """(A, B): the real-news ``dev`` items split by ``sha1(id) % 2``; (None, None) without the file."""
    if not path or not Path(path).is_file():
        return None, None
    dev = load_realnews(path, "dev")
    half = [int(hashlib.sha1(it["id"].encode()).hexdigest(), 16) % 2 for it in dev]
    return ([it for it, h in zip(dev, half) if h == 0], [it for it, h in zip(dev, half) if h == 1])


def train_corpus_model(corpus: list[dict] | None = None, extra_items: list[dict] = (),
                       realnews_path: str | Path | None = DEFAULT_REALNEWS, params=None,
                       prepare_fn=None) -> TopicModel:
    """The model that is shipped and evaluated: fitted on the corpus ``train`` split plus
    ``extra_items`` (crawled items with a resolved reference, reviewed items…) plus real-news
    dev half A as negatives; thresholds on the corpus ``dev`` split plus real-news dev half B.
    Without the real-news file: corpus only (the metadata says which)."""
    corpus = load_corpus() if corpus is None else corpus
    rn_a, rn_b = realnews_dev_halves(realnews_path)
    fit = [it for it in corpus if split_of(it["id"]) == "train"] + list(extra_items)
    dev = [it for it in corpus if split_of(it["id"]) == "dev"]
    dev_all, note = _threshold_dev(dev, rn_b)
    return train(fit, dev_all, params=params, dev_note=note, prepare_fn=prepare_fn,
                 negatives=rn_a)


def _label(item, topic):
    return bool(item["labels"].get(topic))


def _score_results(items: list[dict], results: list[dict]) -> dict:
    out = {}
    for t in TOPICS:
        gold = [_label(it, t) for it in items]
        tiers = [r["topics"][t]["tier"] for r in results]
        final = [x in ("cited", "probable") for x in tiers]
        cited = [x == "cited" for x in tiers]
        idx = [i for i, x in enumerate(tiers) if x != "cited"]
        prob = prf([tiers[i] == "probable" for i in idx], [gold[i] for i in idx])
        out[t] = {"final": prf(final, gold), "cited": prf(cited, gold), "probable": prob,
                  "tiers": {k: tiers.count(k) for k in ("cited", "probable", "none")}}
    return out


def _errors(items, results) -> list[dict]:
    errs = []
    for it, r in zip(items, results):
        for t in TOPICS:
            tier = r["topics"][t]["tier"]
            pos = tier in ("cited", "probable")
            if pos != _label(it, t):
                errs.append({"id": it["id"], "topic": t, "gold": _label(it, t), "tier": tier,
                             "probability": r["topics"][t]["probability"],
                             "kind": it.get("kind"), "reason": r["topics"][t].get("reason")})
    return errs


class _PrepCache:
    """Prepared items by id, so the folds do not segment the same text again."""

    def __init__(self, params=None):
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        self.cache: dict[str, object] = {}

    def __call__(self, item):
        key = item["id"]
        if key not in self.cache:
            self.cache[key] = prepare(item, self.params)
        return self.cache[key]


def _threshold_dev(dev_items, realnews_b):
    if realnews_b:
        return dev_items + realnews_b, (f"{len(dev_items)} corpus dev items + "
                                        f"{len(realnews_b)} real-news dev items (half B) as negatives")
    return dev_items, f"{len(dev_items)} corpus dev items"


def _cross_validate(items: list[dict], rn_a, rn_b, prep, params, folds=5) -> dict:
    from sklearn.model_selection import StratifiedKFold

    strata = [int(_label(it, "qd1894")) * 2 + int(_label(it, "ct20")) for it in items]
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    per_fold = []
    pooled_items, pooled_results = [], []
    for k, (a, b) in enumerate(skf.split(np.zeros(len(items)), strata)):
        fit = [items[i] for i in a]
        held = [items[i] for i in b]
        model = train(fit, None, params=params, prepare_fn=prep, negatives=rn_a)
        results = model.classify_prepared([prep(it) for it in held])
        scores = _score_results(held, results)
        scores["thresholds"] = model.thresholds
        per_fold.append(scores)
        pooled_items += held
        pooled_results += results
    summary = {}
    for t in TOPICS:
        summary[t] = {}
        for part in ("final", "cited", "probable"):
            vals = {m: [f[t][part][m] for f in per_fold if f[t][part][m] is not None]
                    for m in ("precision", "recall", "f1")}
            summary[t][part] = {m: {"mean": statistics.fmean(v) if v else None,
                                    "std": statistics.pstdev(v) if len(v) > 1 else 0.0}
                                for m, v in vals.items()}
    return {"folds": per_fold, "summary": summary,
            "pooled": _score_results(pooled_items, pooled_results),
            "errors": _errors(pooled_items, pooled_results),
            "_held_out": {it["id"]: r for it, r in zip(pooled_items, pooled_results)}}


def _digest_rule(corpus: list[dict], held_out: dict[str, dict]) -> dict:
    """How the digest rule did on held-out decisions (test split: the model; train+dev: CV)."""
    digests = load_digest_ids_topics()
    caught, missed, dropped = [], [], []
    for it in corpus:
        r = held_out.get(it["id"])
        if r is None:
            continue
        if it["id"] in digests:
            for t in sorted(digests[it["id"]]):
                d = r["topics"][t]
                ok = d["tier"] == "none" and d.get("reason", "").startswith("digest")
                (caught if ok else missed).append(f"{it['id']} {t}")
        elif it.get("kind") == "cited":
            for t in TOPICS:
                if _label(it, t) and "digest" in r["topics"][t].get("reason", ""):
                    dropped.append(f"{it['id']} {t}")
    return {"digest_pairs": len(caught) + len(missed), "caught": len(caught), "missed": missed,
            "cited_positives_dropped": dropped}


def _gold_reference_topics(item: dict, digests: dict[str, set[str]]) -> set[str]:
    if item["id"] in digests:
        return set(digests[item["id"]])
    if item.get("kind") == "cited":
        return {t for t in TOPICS if _label(item, t)}
    return set()


def _references(items: list[dict], prep) -> dict:
    digests = load_digest_ids_topics()
    tp = fp = fn = 0
    errors = []
    for it in items:
        gold = _gold_reference_topics(it, digests)
        p = prep(it)
        found = {r.topic for _, r in p.refs if r.topic}
        tp += len(found & gold)
        fp += len(found - gold)
        fn += len(gold - found)
        if found != gold:
            errors.append({"id": it["id"], "kind": it.get("kind"), "gold": sorted(gold),
                           "found": sorted(found),
                           "references": [f"{f}: {r.text} -> {r.document}" for f, r in p.refs
                                          if r.topic or r.number]})
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return {"precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn,
            "items": len(items), "digests": len(digests), "errors": errors}


def _realnews_share(model: TopicModel, items: list[dict]) -> dict:
    results = model.classify_many(items)
    flagged = []
    per_topic = {t: {"cited": 0, "probable": 0} for t in TOPICS}
    for it, r in zip(items, results):
        tiers = {t: r["topics"][t]["tier"] for t in TOPICS}
        for t, tier in tiers.items():
            if tier in per_topic[t]:
                per_topic[t][tier] += 1
        if any(x in ("cited", "probable") for x in tiers.values()):
            flagged.append({"id": it["id"], "outlet": it.get("outlet"),
                            "text_kind": it.get("text_kind"),
                            "tiers": tiers,
                            "probability": {t: r["topics"][t]["probability"] for t in TOPICS}})
    n = len(items)
    return {"items": n, "flagged": len(flagged), "share": len(flagged) / n if n else None,
            "per_topic": per_topic, "flagged_items": flagged}


def evaluate(corpus: list[dict] | None = None, realnews_path: str | Path | None = DEFAULT_REALNEWS,
             params: dict | None = None, folds: int = 5, log=print) -> dict:
    """All the figures (see the module docstring). ``corpus`` defaults to ``load_corpus()``."""
    t0 = time.perf_counter()
    corpus = load_corpus() if corpus is None else corpus
    for it in corpus:
        it.setdefault("split", split_of(it["id"]))
    prep = _PrepCache(params)
    realnews = {"path": str(realnews_path) if realnews_path else None}
    rn_a = rn_b = realnews_holdout = None
    if realnews_path and Path(realnews_path).is_file():
        rn_a, rn_b = realnews_dev_halves(realnews_path)
        realnews_holdout = load_realnews(realnews_path, "holdout")
    else:
        realnews["skipped"] = f"real-news file not found at {realnews_path}: share not measured"
        log(realnews["skipped"])

    train_items = [it for it in corpus if it["split"] == "train"]
    dev_items = [it for it in corpus if it["split"] == "dev"]
    test_items = [it for it in corpus if it["split"] == "test"]
    log(f"corpus: {len(corpus)} items ({len(train_items)} train, {len(dev_items)} dev, "
        f"{len(test_items)} test)")

    model = train_corpus_model(corpus, realnews_path=realnews_path, params=params,
                               prepare_fn=prep)
    test_results = model.classify_prepared([prep(it) for it in test_items])
    test = _score_results(test_items, test_results)
    test["errors"] = _errors(test_items, test_results)
    log("test split done")

    cv = _cross_validate(train_items + dev_items, rn_a, rn_b, prep, params, folds)
    log("cross-validation done")
    held_out = cv.pop("_held_out")
    held_out.update({it["id"]: r for it, r in zip(test_items, test_results)})
    digest_rule = _digest_rule(corpus, held_out)
    refs = _references(corpus, prep)
    log("references done")

    if realnews_holdout is not None:
        realnews["holdout"] = _realnews_share(model, realnews_holdout)
        realnews["dev_a"] = _realnews_share(model, rn_a)
        realnews["dev_b"] = _realnews_share(model, rn_b)
        log("real news done")

    counts = {}
    for split, group in (("train", train_items), ("dev", dev_items), ("test", test_items)):
        counts[split] = {t: sum(_label(it, t) for it in group) for t in TOPICS}
        counts[split]["items"] = len(group)
    kinds: dict[str, int] = {}
    for it in corpus:
        kinds[it.get("kind") or "?"] = kinds.get(it.get("kind") or "?", 0) + 1
    return {
        "model": {"version": model.version, "trained_at": model.trained_at,
                  "thresholds": model.thresholds, "params": model.meta["params"],
                  "threshold_choice": model.meta["threshold_choice"],
                  "training_counts": model.meta["training_counts"]},
        "corpus": {"items": len(corpus), "splits": counts, "kinds": kinds},
        "test": test,
        "cross_validation": cv,
        "references": refs,
        "digest_rule": digest_rule,
        "realnews": realnews,
        "targets": TARGETS,
        "seconds": round(time.perf_counter() - t0, 1),
    }


# --- report ----------------------------------------------------------------------------------


def _f(x, digits=3):
    return "–" if x is None else f"{x:.{digits}f}"


def _checks(result: dict) -> list[tuple[str, str, bool | None]]:
    out = []
    refs = result["references"]
    out.append(("references precision = 1.00", _f(refs["precision"]),
                refs["precision"] is not None and refs["precision"] >= 1.0))
    out.append(("references recall ≥ 0.98", _f(refs["recall"]),
                refs["recall"] is not None and refs["recall"] >= 0.98))
    for t in TOPICS:
        f1 = result["test"][t]["final"]["f1"]
        out.append((f"{t} F1 ≥ 0.90 (test)", _f(f1), f1 is not None and f1 >= 0.90))
        cvf = result["cross_validation"]["summary"][t]["final"]["f1"]["mean"]
        out.append((f"{t} F1 ≥ 0.90 (5-fold CV mean)", _f(cvf), cvf is not None and cvf >= 0.90))
    hold = result["realnews"].get("holdout")
    if hold:
        out.append(("real-news holdout flagged ≤ 0.5 %", f"{hold['share']:.2%}",
                    hold["share"] <= 0.005))
    else:
        out.append(("real-news holdout flagged ≤ 0.5 %", "skipped", None))
    return out


def _prf_row(name, m):
    return (f"| {name} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['f1'])} | "
            f"{m['tp']} | {m['fp']} | {m['fn']} |")


def to_markdown(result: dict) -> str:
    m = result["model"]
    lines = ["# Topic classifier and reference figures", "",
             "Generated by `pressmon nlp evaluate` (`nlp/evaluate.py`). Model "
             f"`{m['version']}`, thresholds " + ", ".join(f"{t} {v:.3f}" for t, v in
                                                           m["thresholds"].items())
             + f" ({m['threshold_choice']['source']}).", ""]
    c = result["corpus"]
    lines.append(f"Corpus: {c['items']} items — " + ", ".join(
        f"{s} {v['items']} (qd1894 {v['qd1894']}, ct20 {v['ct20']})"
        for s, v in c["splits"].items()) + "; kinds " + ", ".join(
        f"{k} {v}" for k, v in sorted(c["kinds"].items())) + ".")
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for name, value, ok in _checks(result):
        lines.append(f"| {name} | {value} | {'yes' if ok else ('–' if ok is None else 'NO')} |")

    lines += ["", "## Test split", "",
              "Final = `cited` or `probable`; `probable` alone is scored on the items not `cited`.", "",
              "| topic / tier | precision | recall | F1 | tp | fp | fn |", "|---|---|---|---|---|---|---|"]
    for t in TOPICS:
        for part in ("final", "cited", "probable"):
            lines.append(_prf_row(f"{t} {part}", result["test"][t][part]))
    lines += ["", "## 5-fold cross-validation (train + dev)", "",
              "Thresholds re-chosen in each fold by an inner 5-fold cross-validation of its training items. Mean ± sd over folds, then pooled.", "",
              "| topic / tier | precision | recall | F1 |", "|---|---|---|---|"]
    cv = result["cross_validation"]
    for t in TOPICS:
        for part in ("final", "cited", "probable"):
            s = cv["summary"][t][part]
            lines.append(f"| {t} {part} | " + " | ".join(
                f"{_f(s[k]['mean'])} ± {_f(s[k]['std'])}" for k in ("precision", "recall", "f1"))
                + " |")
    lines += ["", "| pooled | precision | recall | F1 | tp | fp | fn |", "|---|---|---|---|---|---|---|"]
    for t in TOPICS:
        lines.append(_prf_row(f"{t} final", cv["pooled"][t]["final"]))

    r = result["references"]
    lines += ["", "## References", "",
              f"Over (item, topic) pairs of the whole corpus ({r['items']} items, {r['digests']} digests): "
              f"precision {_f(r['precision'])}, recall {_f(r['recall'])} "
              f"(tp {r['tp']}, fp {r['fp']}, fn {r['fn']})."]
    if r["errors"]:
        lines += ["", "| item | kind | gold | found |", "|---|---|---|---|"]
        for e in r["errors"][:40]:
            lines.append(f"| {e['id']} | {e['kind']} | {', '.join(e['gold']) or '–'} | "
                         f"{', '.join(e['found']) or '–'} |")

    d = result["digest_rule"]
    lines += ["", "## Digest rule", "",
              "Held-out decisions (test split: the model above; train + dev: the CV folds). "
              f"Digest (item, topic) pairs given `none` by the rule: {d['caught']} of "
              f"{d['digest_pairs']}" + (f" (missed: {', '.join(d['missed'])})" if d["missed"] else "")
              + f"; cited positives wrongly dropped as digests: {len(d['cited_positives_dropped'])}"
              + (f" ({', '.join(d['cited_positives_dropped'])})" if d["cited_positives_dropped"] else "")
              + "."]

    rn = result["realnews"]
    lines += ["", "## Real news", ""]
    if "holdout" in rn:
        notes = {"holdout": "", "dev_a": " (negatives when fitting)",
                 "dev_b": " (negatives when choosing thresholds)"}
        for split in ("holdout", "dev_b", "dev_a"):
            s = rn[split]
            note = notes[split]
            lines.append(f"- `{split}`{note}: {s['flagged']} of {s['items']} flagged "
                         f"({s['share']:.2%}); " + "; ".join(
                             f"{t}: cited {v['cited']}, probable {v['probable']}"
                             for t, v in s["per_topic"].items()))
        flagged = rn["holdout"]["flagged_items"]
        if flagged:
            lines += ["", "Flagged holdout items (ids only; the texts stay outside the repository):", ""]
            for f in flagged:
                lines.append(f"- `{f['id']}` ({f['outlet']}, {f['text_kind']}): " + ", ".join(
                    f"{t} {f['tiers'][t]} {_f(f['probability'][t], 2)}" for t in TOPICS))
    else:
        lines.append(rn.get("skipped", "skipped"))

    errs = result["test"]["errors"]
    lines += ["", "## Test-split errors", ""]
    if errs:
        lines += ["| item | topic | gold | tier | probability | kind |", "|---|---|---|---|---|---|"]
        for e in errs:
            lines.append(f"| {e['id']} | {e['topic']} | {e['gold']} | {e['tier']} | "
                         f"{_f(e['probability'], 2)} | {e['kind']} |")
    else:
        lines.append("None.")
    lines += ["", f"Took {result['seconds']} s.", ""]
    return "\n".join(lines)


def write_report(result: dict, md_path: str | Path, json_path: str | Path) -> None:
    """Write the figures as Markdown (for people and the README) and JSON (for tools)."""
    md_path, json_path = Path(md_path), Path(json_path)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(to_markdown(result), encoding="utf-8")
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                         encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - the CLI is `pressmon nlp evaluate`
    import sys

    res = evaluate()
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs"
    write_report(res, out / "nlp-evaluation.md", out / "nlp-evaluation.json")
    print(to_markdown(res))
