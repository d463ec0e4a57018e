"""Figures for the topic classifier and the reference resolver (``pressmon nlp evaluate``).

``evaluate(corpus, realnews_path=..., realtopics_path=...)`` measures, and ``write_report``
writes Markdown + JSON:

**Test split** — the model ``train_corpus_model`` builds, the one that ships: fitted on the
corpus ``train`` split, thresholds chosen on the corpus ``dev`` split; applied to ``test``.
Per topic, precision/recall/F1 of

* the final decision: ``cited`` or ``probable`` counts as positive;
* ``cited`` alone (over all test items);
* ``probable`` alone, over the items it decides on (not ``cited`` for the topic).

**5-fold cross-validation** over ``train`` + ``dev``: folds stratified by the labels, seed 0.
In each fold the model is trained on the other four folds' items, and its thresholds are
chosen on an inner split: out-of-fold probabilities of an inner 5-fold cross-validation over
those same training items (``train(items, dev_items=None)``). A fold's own dev portion
(~150 items, ~30 uncited positives a topic) proved too small: two hard negatives at the top
moved a threshold from 0.5 to 0.99. The held-out fold never influences a threshold.
Reported per fold, as mean ± standard deviation, and pooled over the five folds.

**References** — precision and recall of references that cite a topic (a related document
such as 980/QĐ-TTg is recorded but never cites) against gold derived per item and topic: a
``cited`` item must yield a citing reference for each true topic; a digest
(``nlp/data/digests.txt``: ``id topics``) must yield the topics it lists; every other item
(uncited positives, look-alikes, negatives) must yield none. Counted over (item, topic)
pairs on the whole corpus (the resolver is rule-based: it was not trained on any split).

**Real text** (read at run time from ``../shared/`` beside the repository; never copied; no
text of theirs is written to the report, ids only; each part is skipped with a message when
its file is absent):

* real news — the share of ``realnews/articles.jsonl`` items of split ``holdout`` flagged
  ``cited`` or ``probable`` (``title`` as title, ``text`` as body, ``date`` as publication
  time): almost all are news with no tie to the documents;
* real topics — ``realtopics/items.jsonl``, real published items labelled per document with
  a tier: per document, precision/recall/F1 of the final decision on the Vietnamese items
  (the classifier decides only Vietnamese text), and of ``cited`` on all items (a reference in
  an English item resolves too). It is small (121 items, ten QĐ 1894 positives): a guide.

``train_with_realnews`` (``pressmon nlp evaluate --train-realnews``) measures instead the
model that also learns from the real-news ``dev`` split (cut in two by ``sha1(id) % 2``:
half "A" extra negatives when fitting, half "B" extra negatives when choosing thresholds) —
an explicit option, as in ``pressmon nlp train --realnews``, never the shipped model.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from pathlib import Path

import numpy as np

from pressmon.nlp.corpus import TOPICS, load_corpus, load_digest_ids_topics, split_of
from pressmon.nlp.topics import DEFAULT_PARAMS, TopicModel, language_problem, prepare, train

__all__ = ["evaluate", "write_report", "DEFAULT_REALNEWS", "DEFAULT_REALTOPICS", "load_realnews",
           "load_realtopics", "prf", "train_corpus_model", "realnews_dev_halves"]

REPO = Path(__file__).resolve().parent.parent
# Development data beside a checkout of the repository (../shared/); absent from an install.
DEFAULT_REALNEWS = REPO.parent / "shared" / "realnews" / "articles.jsonl"
DEFAULT_REALTOPICS = REPO.parent / "shared" / "realtopics" / "items.jsonl"
TARGETS = {"references_precision": 1.0, "references_recall": 0.98, "topic_f1": 0.90,
           "realnews_holdout_flagged_share": 0.003, "realtopics_f1": 0.90,
           "realtopics_cited_precision": 1.0, "realtopics_cited_recall": 0.95}
POSITIVE = ("cited", "probable")


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


def load_realtopics(path: str | Path) -> list[dict]:
    """The real-topics items as classifier items, ``gold`` the tier per document (text not
    kept elsewhere)."""
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                out.append({"id": d["id"], "title": d.get("title") or "", "lead": "", "body": d.get("body") or "",
                            "published_at": d.get("published_at"), "gold": d.get("labels") or {}})
    return out


def realnews_dev_halves(path: str | Path | None = DEFAULT_REALNEWS):
    """(A, B): the real-news ``dev`` items split by ``sha1(id) % 2``; (None, None) without the file."""
    if not path or not Path(path).is_file():
        return None, None
    dev = load_realnews(path, "dev")
    half = [int(hashlib.sha1(it["id"].encode()).hexdigest(), 16) % 2 for it in dev]
    return ([it for it, h in zip(dev, half) if h == 0], [it for it, h in zip(dev, half) if h == 1])


def train_corpus_model(corpus: list[dict] | None = None, extra_items: list[dict] = (),
                       realnews_path: str | Path | None = None, params=None,
                       prepare_fn=None) -> TopicModel:
    """The model that ships: fitted on the corpus ``train`` split, thresholds on its ``dev``
    split — the same model (same version) wherever the repository is. Extra data gives
    another model, and must be asked for: ``extra_items`` (a database's settled items, more
    labelled examples) join the corpus by their ``split`` (an item without one is split by
    its id, as the corpus is); with ``realnews_path``, real-news dev half A are extra
    negatives when fitting and half B when choosing thresholds."""
    corpus = load_corpus() if corpus is None else corpus
    rn_a, rn_b = realnews_dev_halves(realnews_path)
    both = [*corpus, *extra_items]
    fit = [it for it in both if it.get("split", split_of(it["id"])) == "train"]
    dev = [it for it in both if it.get("split", split_of(it["id"])) == "dev"]
    dev_all, note = _threshold_dev(dev, rn_b)
    return train(fit, dev_all, params=params, dev_note=note, prepare_fn=prepare_fn,
                 negatives=rn_a)


def _label(item, topic):
    return bool(item["labels"].get(topic))


def score_results(items: list[dict], results: list[dict]) -> dict:
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

    strata = [sum(2 ** k * int(_label(it, t)) for k, t in enumerate(TOPICS)) for it in items]
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    per_fold = []
    pooled_items, pooled_results = [], []
    for k, (a, b) in enumerate(skf.split(np.zeros(len(items)), strata)):
        fit = [items[i] for i in a]
        held = [items[i] for i in b]
        model = train(fit, None, params=params, prepare_fn=prep, negatives=rn_a)
        results = model.classify_prepared([prep(it) for it in held])
        scores = score_results(held, results)
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
            "pooled": score_results(pooled_items, pooled_results),
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
        found = {r.topic for _, r in p.refs if r.topic and r.role != "related"}
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


def _realtopics_scores(model: TopicModel, items: list[dict]) -> dict:
    """Per document labelled in the file: the final decision on the Vietnamese items, ``cited``
    on all items; the disagreements by id."""
    results = model.classify_many(items)
    vietnamese = [language_problem(f"{it['title']}\n{it['body']}") is None for it in items]
    out = {"items": len(items), "vietnamese": sum(vietnamese), "topics": {}, "errors": []}
    for t in TOPICS:
        if not any(t in it["gold"] for it in items):
            continue
        gold = [it["gold"].get(t, "none") for it in items]
        tiers = [r["topics"][t]["tier"] for r in results]
        vi = [i for i, v in enumerate(vietnamese) if v]
        out["topics"][t] = {
            "final_vietnamese": prf([tiers[i] in POSITIVE for i in vi], [gold[i] in POSITIVE for i in vi]),
            "cited_all": prf([x == "cited" for x in tiers], [g == "cited" for g in gold]),
            "gold": {k: gold.count(k) for k in ("cited", "probable", "none")}}
        for i, (g, x) in enumerate(zip(gold, tiers)):
            if (g in POSITIVE) != (x in POSITIVE) or (g == "cited") != (x == "cited"):
                out["errors"].append({"id": items[i]["id"], "topic": t, "gold": g, "tier": x,
                                      "vietnamese": vietnamese[i],
                                      "probability": results[i]["topics"][t]["probability"],
                                      "reason": results[i]["topics"][t].get("reason")})
    return out


def evaluate(corpus: list[dict] | None = None, realnews_path: str | Path | None = DEFAULT_REALNEWS,
             realtopics_path: str | Path | None = DEFAULT_REALTOPICS, train_with_realnews: bool = False,
             params: dict | None = None, folds: int = 5, log=print) -> tuple[dict, TopicModel]:
    """All the figures (see the module docstring), and the model they are of. ``corpus``
    defaults to ``load_corpus()``."""
    t0 = time.perf_counter()
    corpus = load_corpus() if corpus is None else corpus
    for it in corpus:
        it.setdefault("split", split_of(it["id"]))
    prep = _PrepCache(params)
    realnews = {"path": str(realnews_path) if realnews_path else None, "trained_on_dev": train_with_realnews}
    rn_a = rn_b = realnews_holdout = None
    if realnews_path and Path(realnews_path).is_file():
        rn_a, rn_b = realnews_dev_halves(realnews_path)
        realnews_holdout = load_realnews(realnews_path, "holdout")
    else:
        realnews["skipped"] = f"real-news file not found at {realnews_path}: share not measured"
        log(realnews["skipped"])
    if not train_with_realnews:
        rn_a = rn_b = None
    realtopics = {"path": str(realtopics_path) if realtopics_path else None}
    if not (realtopics_path and Path(realtopics_path).is_file()):
        realtopics["skipped"] = f"real-topics file not found at {realtopics_path}: figures not measured"
        log(realtopics["skipped"])

    train_items = [it for it in corpus if it["split"] == "train"]
    dev_items = [it for it in corpus if it["split"] == "dev"]
    test_items = [it for it in corpus if it["split"] == "test"]
    log(f"corpus: {len(corpus)} items ({len(train_items)} train, {len(dev_items)} dev, "
        f"{len(test_items)} test)")

    model = train_corpus_model(corpus, realnews_path=realnews_path if train_with_realnews else None,
                               params=params, prepare_fn=prep)
    test_results = model.classify_prepared([prep(it) for it in test_items])
    test = score_results(test_items, test_results)
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
        if train_with_realnews:
            realnews["dev_a"] = _realnews_share(model, rn_a)
            realnews["dev_b"] = _realnews_share(model, rn_b)
        log("real news done")
    if "skipped" not in realtopics:
        realtopics.update(_realtopics_scores(model, load_realtopics(realtopics_path)))
        log("real topics done")

    counts = {}
    for split, group in (("train", train_items), ("dev", dev_items), ("test", test_items)):
        counts[split] = {t: sum(_label(it, t) for it in group) for t in TOPICS}
        counts[split]["items"] = len(group)
    kinds: dict[str, int] = {}
    for it in corpus:
        kinds[it.get("kind") or "?"] = kinds.get(it.get("kind") or "?", 0) + 1
    return {
        "model": {"version": model.version, "trained_at": model.trained_at, "topics": list(model.topics),
                  "thresholds": model.thresholds, "params": model.meta["params"],
                  "threshold_choice": model.meta["threshold_choice"],
                  "training_counts": model.meta["training_counts"]},
        "corpus": {"items": len(corpus), "splits": counts, "kinds": kinds},
        "test": test,
        "cross_validation": cv,
        "references": refs,
        "digest_rule": digest_rule,
        "realnews": realnews,
        "realtopics": realtopics,
        "targets": TARGETS,
        "seconds": round(time.perf_counter() - t0, 1),
    }, model


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
    limit = TARGETS["realnews_holdout_flagged_share"]
    hold = result["realnews"].get("holdout")
    name = f"real-news holdout flagged ≤ {limit:.1%}"
    out.append((name, f"{hold['share']:.2%}", hold["share"] <= limit) if hold else (name, "skipped", None))
    rt = result.get("realtopics", {})
    for t, scores in rt.get("topics", {}).items():
        f1 = scores["final_vietnamese"]["f1"]
        out.append((f"{t} F1 ≥ 0.90 (real topics, Vietnamese items)", _f(f1), f1 is not None and f1 >= 0.90))
    if rt.get("topics"):
        cited = [s["cited_all"] for s in rt["topics"].values()]
        tp, fp, fn = (sum(c[k] for c in cited) for k in ("tp", "fp", "fn"))
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        out.append(("`cited` precision = 1.00 (real topics, all items)", _f(precision), precision == 1.0))
        out.append(("`cited` recall ≥ 0.95 (real topics, all items)", _f(recall), recall is not None and recall >= 0.95))
    elif "skipped" in rt:
        out.append(("real-topics targets", "skipped", None))
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
        f"{s} {v['items']} (" + ", ".join(f"{t} {v[t]}" for t in TOPICS) + ")"
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

    rt = result.get("realtopics", {})
    lines += ["", "## Real topics", ""]
    if rt.get("topics"):
        lines += [f"{rt['items']} real published items, {rt['vietnamese']} of them Vietnamese (ids only below; "
                  "the texts stay outside the repository).", "",
                  "| document / decision | precision | recall | F1 | tp | fp | fn |", "|---|---|---|---|---|---|---|"]
        for t, scores in rt["topics"].items():
            gold = ", ".join(f"{k} {v}" for k, v in scores["gold"].items())
            lines.append(_prf_row(f"{t} final, Vietnamese items (gold: {gold})", scores["final_vietnamese"]))
            lines.append(_prf_row(f"{t} cited, all items", scores["cited_all"]))
        if rt["errors"]:
            lines += ["", "| item | document | gold | tier | Vietnamese | probability | reason |",
                      "|---|---|---|---|---|---|---|"]
            for e in rt["errors"]:
                lines.append(f"| {e['id']} | {e['topic']} | {e['gold']} | {e['tier']} | "
                             f"{'yes' if e['vietnamese'] else 'no'} | {_f(e['probability'], 2)} | {e['reason'] or ''} |")
    else:
        lines.append(rt.get("skipped", "skipped"))

    rn = result["realnews"]
    lines += ["", "## Real news", ""]
    if "holdout" in rn:
        notes = {"holdout": "", "dev_a": " (negatives when fitting)",
                 "dev_b": " (negatives when choosing thresholds)"}
        for split in ("holdout", "dev_b", "dev_a"):
            if split not in rn:
                continue
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


def model_card(result: dict) -> str:
    """What a user of the model should know, beside the model file: its version, what it
    learnt from, its thresholds and its figures against the targets."""
    m = result["model"]
    counts = m["training_counts"]
    lines = [f"# Topic model {m['version']}", "",
             f"Trained {m['trained_at']} by `pressmon nlp evaluate --model-out`, for the documents "
             + ", ".join(f"`{t}`" for t in m["topics"]) + ". It decides `probable` where the registry "
             "(nlp/documents.toml) does not: `cited` comes from the references it resolves, and a sign "
             "of a document (what the document orders, the document while drafted) makes an item "
             "`probable` whatever the model says.", "",
             "## Training data", "",
             f"The corpus written for the project (nlp/data/corpus/, {result['corpus']['items']} items): its "
             "`train` split to fit (" + ", ".join(f"{t}: {c['positive']} positive, {c['negative']} negative"
                                                   for t, c in counts.items()) + "), "
             "its `dev` split to choose the thresholds. "
             + ("Also the real-news dev split as negatives." if result["realnews"].get("trained_on_dev")
                else "Nothing else: `pressmon nlp train` from the repository gives this model again."),
             "", "## Thresholds", "",
             "| document | threshold | rule |", "|---|---|---|"]
    for t, v in m["thresholds"].items():
        lines.append(f"| {t} | {v:.3f} | halfway between the lowest probability at which dev precision ≥ "
                     f"{m['threshold_choice']['target_precision']} and the next below it, never below "
                     f"{m['threshold_choice']['floor']} |")
    lines += ["", "## Figures", "", "| target | measured | met |", "|---|---|---|"]
    for name, value, ok in _checks(result):
        lines.append(f"| {name} | {value} | {'yes' if ok else ('–' if ok is None else 'NO')} |")
    lines += ["", "The full report: `pressmon nlp evaluate --out-dir DIR` (docs/evaluation.md in the repository).", ""]
    return "\n".join(lines)


def write_report(result: dict, md_path: str | Path, json_path: str | Path) -> None:
    """Write the figures as Markdown (for people and the README) and JSON (for tools)."""
    md_path, json_path = Path(md_path), Path(json_path)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(to_markdown(result), encoding="utf-8")
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                         encoding="utf-8")
