"""Datasette plugin: what the article page (templates/row.html) shows beyond the row itself.

A template cannot run SQL, so `extra_template_vars` fetches, for the row page of `articles`
only, the article with its outlet name, its body split into paragraphs, its document
references and the number of earlier versions, and hands them to the template as
`pressmon_article`. It only reads (`db.execute`). Loaded with `plugins_dir=datasette/plugins`.
The Vietnamese labels come from their one home each: outlet and media kinds from the outlet
registry, documents and tiers from nlp/documents.py.
"""

import json

from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components

from pressmon.crawlers.dates import vn_datetime
from pressmon.crawlers.registry import media_kinds, outlet_kinds
from pressmon.nlp.documents import DOCUMENT_LABELS, TIER_LABELS, VERDICT_LABELS

FIELDS = {"title": "Tiêu đề", "lead": "Sa-pô", "body": "Nội dung"}


def paragraphs(body):
    """The stored body keeps one paragraph a line; blank lines are dropped."""
    return [line.strip() for line in (body or "").splitlines() if line.strip()]


def _json_list(value):
    try:
        parsed = json.loads(value) if value else []
    except (TypeError, ValueError):
        return [value]
    return parsed if isinstance(parsed, list) else [parsed]


async def article_context(db, article_id):
    rows = (
        await db.execute(
            "select a.*, o.name as outlet_name, o.home_url as outlet_home_url "
            "from articles a left join outlets o on o.id = a.outlet_id where a.id = :id",
            {"id": article_id},
        )
    ).rows
    if not rows:
        return None
    article = dict(rows[0])
    references = [
        dict(r)
        for r in (
            await db.execute(
                'select field, start, "end", text, kind, number, year, issuer, signed_on, '
                "document, topic from article_references where article_id = :id "
                "order by case field when 'title' then 0 when 'lead' then 1 else 2 end, start",
                {"id": article_id},
            )
        ).rows
    ]
    for ref in references:
        ref["topic_label"] = DOCUMENT_LABELS.get(ref["topic"]) if ref["topic"] else None
        ref["field_label"] = FIELDS.get(ref["field"], ref["field"])
    decisions = [
        dict(r)
        for r in (
            await db.execute(
                "select topic, tier, probability, evidence, reason, model_version, verdict, reviewer, counted "
                "from topic_decisions where article_id = :id order by topic",
                {"id": article_id},
            )
        ).rows
    ]
    for decision in decisions:
        decision["topic_label"] = DOCUMENT_LABELS.get(decision["topic"], decision["topic"])
        decision["tier_label"] = TIER_LABELS.get(decision["tier"], decision["tier"])
        decision["verdict_label"] = VERDICT_LABELS.get(decision["verdict"])
        decision["evidence_list"] = [
            {"text": e.get("text", ""), "sign": e.get("sign")} if isinstance(e, dict) else {"text": e}
            for e in _json_list(decision["evidence"])]
    versions = (
        await db.execute(
            "select count(*) from article_versions where article_id = :id", {"id": article_id}
        )
    ).rows[0][0]
    article.update(
        outlet_kind_label=outlet_kinds().get(article.get("outlet_kind"), article.get("outlet_kind")),
        media_kind_label=media_kinds().get(article.get("media_kind"), article.get("media_kind")),
        published_display=vn_datetime(article.get("published_at")),
        modified_display=vn_datetime(article.get("modified_at")),
        first_seen_display=vn_datetime(article.get("first_seen_at")),
        last_seen_display=vn_datetime(article.get("last_seen_at")),
        outlet_row_path=tilde_encode(str(article.get("outlet_id") or "")),
        paragraphs=paragraphs(article.get("body")),
        tag_list=_json_list(article.get("tags")),
        references=references,
        decisions=decisions,
        documents=sorted({r["document"] for r in references if r["document"]}),
        version_count=versions,
    )
    return article


@hookimpl
def extra_template_vars(view_name, database, table, request, datasette):
    if view_name != "row" or table != "articles" or request is None:
        return {}

    async def inner():
        pks = urlsafe_components(request.url_vars.get("pks", ""))
        if len(pks) != 1:
            return {}
        db = datasette.get_database(database)
        return {"pressmon_article": await article_context(db, pks[0])}

    return inner
