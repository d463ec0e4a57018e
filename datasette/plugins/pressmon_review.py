"""Datasette plugin: review of the model's decisions in the browser, at /-/review.

A reviewer sees one item at a time from a queue — the `probable` decisions nobody has given a
verdict on, newest first (or, with tier=cited, a stable sample of cited items to spot-check),
filtered by document and outlet — and confirms, rejects or skips it. /-/review/verdict
records or changes a verdict from an item's page. The verdict is written by
`Store.add_verdict`, the same call as `pressmon review` in a terminal, on a connection this
plugin opens for the one write: Datasette's own connections stay read-only, and nothing but a
`verdicts` row is ever written from the web (docs/decisions.md, "Verdicts from the browser").
A later verdict overrides an earlier one in topic_decisions; the earlier stays as history.

Who may come here is pressmon_access's business (reviewers and admins); CSRF tokens are
Datasette's (every POST form carries `csrftoken`).
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from pressmon.crawlers.dates import vn_datetime
from pressmon.datasette.plugins.pressmon_access import is_staff, login_redirect
from pressmon.datasette.plugins.pressmon_article import article_context, served_database
from pressmon.nlp.documents import DOCUMENT_LABELS, TIER_LABELS, TOPICS, VERDICT_LABELS

QUEUES = {"probable": "Tin có khả năng, chờ xác nhận", "cited": "Mẫu tin trích dẫn, để kiểm tra lại"}
ACTIONS = ("confirmed", "rejected", "skip")
# A skipped item stays out of the queue for the rest of the visit: the list travels in the
# query string, capped so the URL stays short.
MAX_SKIPPED = 100
SKIPPED_ITEM = re.compile(r"^(\d{1,12}):([a-z0-9_]{1,32})$")


@hookimpl
def register_routes():
    return [
        (r"^/-/review$", review),
        (r"^/-/review/verdict$", change_verdict),
    ]


class Filters:
    """The queue's filters, from a query string or a form, checked."""

    def __init__(self, values):
        self.document = values.get("document") if values.get("document") in TOPICS else ""
        self.outlet = (values.get("outlet") or "")[:100]
        self.tier = values.get("tier") if values.get("tier") in QUEUES else "probable"
        self.skipped = []
        for entry in (values.get("skipped") or "").split(","):
            match = SKIPPED_ITEM.match(entry)
            if match and match.group(2) in TOPICS and len(self.skipped) < MAX_SKIPPED:
                self.skipped.append((int(match.group(1)), match.group(2)))

    def query_string(self, with_skipped: bool = True) -> str:
        values = {"document": self.document, "outlet": self.outlet,
                  "tier": "" if self.tier == "probable" else self.tier,
                  "skipped": self.skipped_value() if with_skipped else ""}
        return urlencode({k: v for k, v in values.items() if v})

    def skipped_value(self) -> str:
        return ",".join(f"{a}:{t}" for a, t in self.skipped)

    def sql(self) -> tuple[str, dict]:
        """The queue's WHERE clause and parameters (over topic_decisions)."""
        where = ["verdict IS NULL", "tier = :tier"]
        params = {"tier": self.tier}
        if self.document:
            where.append("topic = :document")
            params["document"] = self.document
        if self.outlet:
            where.append("outlet_id = :outlet")
            params["outlet"] = self.outlet
        for n, (article_id, topic) in enumerate(self.skipped):
            where.append(f"NOT (article_id = :skip_id{n} AND topic = :skip_topic{n})")
            params[f"skip_id{n}"], params[f"skip_topic{n}"] = article_id, topic
        return " AND ".join(where), params

    def order(self) -> str:
        if self.tier == "cited":
            # A sample that stays the same from one page to the next, spread over outlets and
            # months rather than the newest only.
            return "ORDER BY (article_id * 2654435761) % 4294967296, topic"
        return "ORDER BY published_at DESC, article_id DESC, topic"


async def review(request, datasette):
    if not is_staff(datasette, request.actor):
        return login_redirect(datasette)
    if request.method == "POST":
        return await _record_from_queue(request, datasette)
    db = served_database(datasette)
    filters = Filters(request.args)
    where, params = filters.sql()
    remaining = (await db.execute(f"SELECT count(*) FROM topic_decisions WHERE {where}", params)).rows[0][0]
    rows = (await db.execute(
        f"SELECT article_id, topic, tier, probability, model_version FROM topic_decisions WHERE {where} "
        f"{filters.order()} LIMIT 1", params)).rows
    item = article = None
    if rows:
        item = dict(rows[0])
        article = await article_context(db, item["article_id"], request.actor)
        decision = next((d for d in article["decisions"] if d["topic"] == item["topic"]), None)
        item.update(topic_label=DOCUMENT_LABELS.get(item["topic"], item["topic"]),
                    tier_label=TIER_LABELS.get(item["tier"], item["tier"]),
                    evidence=decision["evidence_list"] if decision else [])
    outlets = (await db.execute(
        "SELECT o.id, o.name FROM outlets o WHERE o.id IN (SELECT outlet_id FROM article_counts) ORDER BY o.name")).rows
    return Response.html(await datasette.render_template("review.html", {
        "item": item,
        "article": article,
        "remaining": remaining,
        "filters": filters,
        "queues": QUEUES,
        "documents": DOCUMENT_LABELS,
        "outlets": [dict(r) for r in outlets],
        "database": db.name,
        "published": vn_datetime(article["published_at"]) if article else None,
    }, request=request))


async def _record_from_queue(request, datasette):
    form = await request.post_vars()
    filters = Filters(form)
    problem = await _record(request, datasette, form)
    if problem is None and form.get("action") == "skip":
        filters.skipped.append((int(form["article_id"]), form["topic"]))
    if problem:
        datasette.add_message(request, problem, datasette.ERROR)
    query = filters.query_string()
    return Response.redirect(datasette.urls.path("/-/review") + (f"?{query}" if query else ""), status=303)


async def change_verdict(request, datasette):
    if not is_staff(datasette, request.actor):
        return login_redirect(datasette)
    if request.method != "POST":
        return Response.text("Dùng nút trên trang tin bài để ghi kết luận.", status=405)
    form = await request.post_vars()
    problem = await _record(request, datasette, form)
    if problem:
        datasette.add_message(request, problem, datasette.ERROR)
    target = form.get("next") or "/"
    # Only a path of this site: never an open redirect.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    return Response.redirect(target, status=303)


async def _record(request, datasette, form) -> str | None:
    """Record the form's verdict (nothing for a skip); a problem in Vietnamese, or None."""
    action = form.get("action")
    topic = form.get("topic")
    if action not in ACTIONS:
        return "Hãy chọn Xác nhận, Bác bỏ hoặc Bỏ qua."
    if topic not in TOPICS:
        return "Văn bản không hợp lệ."
    try:
        article_id = int(form.get("article_id") or "")
    except ValueError:
        return "Mã tin bài không hợp lệ."
    db = served_database(datasette)
    rows = (await db.execute("SELECT title FROM articles WHERE id = :id", {"id": article_id})).rows
    if not rows:
        return f"Không có tin bài số {article_id}."
    if action == "skip":
        return None
    note = (form.get("note") or "").strip()[:2000] or None
    await asyncio.to_thread(_write_verdict, db.path, article_id, topic, action, request.actor["id"], note)
    datasette.add_message(
        request, f"{VERDICT_LABELS[action]}: {rows[0]['title']} ({DOCUMENT_LABELS[topic]})",
        datasette.INFO)
    return None


def _write_verdict(db_path, article_id, topic, verdict, reviewer, note):
    from pressmon.pipeline.store import Store

    with Store(db_path) as store:
        store.add_verdict(article_id, topic, verdict, reviewer, note)
