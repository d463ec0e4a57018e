"""Datasette plugin: what the article page (templates/row.html) shows beyond the row itself.

A template cannot run SQL, so `extra_template_vars` fetches, for the row page of `articles`
only, the article with its outlet name, its body split into paragraphs, its document
references and the number of earlier versions, and hands them to the template as
`pressmon_article`. It only reads (`db.execute`). Loaded with `plugins_dir=datasette/plugins`.
"""

import json
import re

from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components

OUTLET_KINDS = {
    "newspaper": "Báo",
    "broadcaster": "Phát thanh – truyền hình",
    "government_portal": "Cổng thông tin điện tử",
    "commune_portal": "Cổng thông tin xã/phường",
}
MEDIA_KINDS = {"text": "Văn bản", "video": "Video", "audio": "Âm thanh", "photo": "Ảnh"}
TOPICS = {"qd1894": "Quyết định 1894/QĐ-TTg", "ct20": "Chỉ thị 20/CT-TTg"}
TIERS = {"cited": "Trích dẫn văn bản", "probable": "Có khả năng (cần cán bộ xác nhận)", "none": "Không"}
FIELDS = {"title": "Tiêu đề", "lead": "Sa-pô", "body": "Nội dung"}

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2})?)?")


def vn_datetime(value):
    """'2025-09-04T14:30:00+07:00' -> '14:30 04/09/2025'; anything else is returned as is."""
    if not value:
        return None
    m = _ISO.match(value)
    if not m:
        return value
    year, month, day, hour, minute = m.groups()
    date = f"{day}/{month}/{year}"
    return f"{hour}:{minute} {date}" if hour is not None else date


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
        ref["topic_label"] = TOPICS.get(ref["topic"]) if ref["topic"] else None
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
        decision["topic_label"] = TOPICS.get(decision["topic"], decision["topic"])
        decision["tier_label"] = TIERS.get(decision["tier"], decision["tier"])
        decision["evidence_list"] = [e.get("text", e) if isinstance(e, dict) else e
                                     for e in _json_list(decision["evidence"])]
    versions = (
        await db.execute(
            "select count(*) from article_versions where article_id = :id", {"id": article_id}
        )
    ).rows[0][0]
    article.update(
        outlet_kind_label=OUTLET_KINDS.get(article.get("outlet_kind"), article.get("outlet_kind")),
        media_kind_label=MEDIA_KINDS.get(article.get("media_kind"), article.get("media_kind")),
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
