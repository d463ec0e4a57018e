"""Datasette plugin: the article page (templates/row.html) and the archived copy of an article.

A template cannot run SQL, so `extra_template_vars` fetches, for the row page of `articles`
only, the article with its outlet name, its text with the evidence marked, its document
references, every decision of every model version, every verdict and the number of earlier
versions, and hands them to the template as `pressmon_article`. It only reads (`db.execute`).
Reviewers' names and notes are fetched only for a logged-in actor: an anonymous visitor's
page never holds them.

`highlighted_fields` is the one place that marks evidence in an article's text; the review
page (pressmon_review.py) imports it too.

`/-/archive/<article_id>` serves the page as the crawler fetched it, from the WARC archive,
byte for byte, after checking it against the SHA-256 stored with the article.

Loaded with `plugins_dir=datasette/plugins`. The Vietnamese labels come from their one home
each: outlet and media kinds from the outlet registry, documents, tiers and verdicts from
nlp/documents.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from pathlib import Path

from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape
from warcio.archiveiterator import ArchiveIterator

from pressmon.crawlers.dates import vn_datetime
from pressmon.crawlers.registry import media_kinds, outlet_kinds
from pressmon.nlp.documents import DOCUMENT_LABELS, TIER_LABELS, VERDICT_LABELS
from pressmon.pipeline.reports.evidence import article_page
from pressmon.pipeline.store.warc import EvidenceError

FIELDS = {"title": "Tiêu đề", "lead": "Sa-pô", "body": "Nội dung"}
# What a mark in the text stands for (its CSS class → the legend and the mark's tooltip).
MARKS = {
    "ref": "Trích dẫn văn bản được theo dõi",
    "ref-other": "Trích dẫn văn bản khác",
    "sign": "Dấu hiệu của văn bản",
    "weighed": "Câu được mô hình cân nhắc",
}


def paragraphs(body):
    """The stored body keeps one paragraph a line; blank lines are dropped."""
    return [line.strip() for line in (body or "").splitlines() if line.strip()]


def _json_list(value):
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value) if value else []
    except (TypeError, ValueError):
        return [value]
    return parsed if isinstance(parsed, list) else [parsed]


# --- evidence marked in the text -------------------------------------------------------------

def _locate(article: dict, entry: dict) -> tuple[str, int, int] | None:
    """(field, start, end) of an evidence entry in the stored text: its own offsets when they
    still hold its text, else the first place its text is found (title, lead, body)."""
    text = entry.get("text") or ""
    field, start, end = entry.get("field"), entry.get("start"), entry.get("end")
    if field in FIELDS and isinstance(start, int) and isinstance(end, int):
        if (article.get(field) or "")[start:end] == text or not text:
            return (field, start, end) if end > start else None
    if not text:
        return None
    for name in FIELDS:
        found = (article.get(name) or "").find(text)
        if found >= 0:
            return name, found, found + len(text)
    return None


def evidence_spans(article: dict, references: list[dict], decisions: list[dict]) -> dict[str, list[tuple]]:
    """Per field, the spans to mark: (start, end, css class, tooltip)."""
    spans: dict[str, list[tuple]] = {name: [] for name in FIELDS}
    for ref in references:
        if ref.get("field") in spans and isinstance(ref.get("start"), int) and ref.get("end", 0) > ref["start"]:
            watched = ref.get("topic") and ref.get("role") != "related"
            label = DOCUMENT_LABELS.get(ref.get("topic")) if watched else None
            spans[ref["field"]].append((ref["start"], ref["end"], "ref" if watched else "ref-other",
                                        f"{MARKS['ref']}: {label}" if label else MARKS["ref-other"]))
    for decision in decisions:
        label = DOCUMENT_LABELS.get(decision.get("topic"), decision.get("topic"))
        for entry in _json_list(decision.get("evidence")):
            if not isinstance(entry, dict):
                continue
            if entry.get("sign"):
                kind, tip = "sign", f"{MARKS['sign']} {label}: {entry['sign']}"
            elif decision.get("tier") == "cited":
                continue  # a cited decision's evidence is its references, marked above
            else:
                kind, tip = "weighed", f"{MARKS['weighed']} ({label})"
            where = _locate(article, entry)
            if where:
                spans[where[0]].append((where[1], where[2], kind, tip))
    return spans


def _marked(text: str, offset: int, spans: list[tuple]) -> Markup:
    """`text` (which starts at `offset` of its field) escaped, with every span that covers a
    part of it as a <mark>. Overlapping spans (a reference inside a weighed sentence) cut the
    text into pieces, each marked with every class that covers it: marks never nest."""
    end = offset + len(text)
    inside = [(max(s, offset), min(e, end), kind, tip) for s, e, kind, tip in spans if s < end and e > offset]
    cuts = sorted({offset, end, *(s for s, *_ in inside), *(e for _, e, *_ in inside)})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = escape(text[a - offset:b - offset])
        covering = [(kind, tip) for s, e, kind, tip in inside if s <= a and b <= e]
        if covering:
            kinds = " ".join(dict.fromkeys(kind for kind, _ in covering))
            tips = "; ".join(dict.fromkeys(tip for _, tip in covering))
            out.append(Markup('<mark class="{}" title="{}">{}</mark>').format(kinds, tips, piece))
        else:
            out.append(piece)
    return Markup("").join(out)


def highlighted_fields(article: dict, references: list[dict], decisions: list[dict]) -> dict[str, list[Markup]]:
    """The article's title, lead and body as safe HTML with the evidence marked:
    `{"title": [..], "lead": [..] or [], "body": [one Markup per paragraph]}`.

    `article` has the stored `title`, `lead`, `body`; `references` are article_references
    rows (`field`, `start`, `end`, `topic`, `role`); `decisions` are topic_decisions or
    article_topics rows (`topic`, `tier`, `evidence` as JSON or a list of {text, field?,
    start?, end?, sign?}). Marks: <mark class="ref"> a reference to a watched document
    ("ref-other" any other), "sign" a document's sign, "weighed" a sentence the model
    weighed; each has a Vietnamese title attribute."""
    spans = evidence_spans(article, references, decisions)
    out: dict[str, list[Markup]] = {}
    for name in ("title", "lead"):
        text = article.get(name) or ""
        out[name] = [_marked(text, 0, spans[name])] if text.strip() else []
    body, pieces, position = article.get("body") or "", [], 0
    for line in body.splitlines(keepends=True):
        stripped = line.strip()
        if stripped:
            pieces.append(_marked(stripped, position + line.index(stripped), spans["body"]))
        position += len(line)
    out["body"] = pieces
    return out


# --- the model's reasons in Vietnamese --------------------------------------------------------

def _vn_decimal(number: str) -> str:
    return number.replace(".", ",")


def _digest_why(why: str) -> str:
    m = re.fullmatch(r"(\d+) other documents named", why)
    if m:
        return f"bài nêu {m[1]} văn bản khác"
    m = re.fullmatch(r"(\d+) other documents named, probability ([\d.]+) below ([\d.]+)", why)
    if m:
        return f"bài nêu {m[1]} văn bản khác, xác suất {_vn_decimal(m[2])} dưới ngưỡng {_vn_decimal(m[3])}"
    m = re.fullmatch(r"the rest of the text is off topic \(probability ([\d.]+)\)", why)
    if m:
        return f"phần còn lại của bài không thuộc chủ đề (xác suất {_vn_decimal(m[1])})"
    return "bài điểm tin"


def _problem(text: str) -> str | None:
    if text == "empty text":
        return "bài không có nội dung văn bản"
    if text == "no letters in text":
        return "văn bản không có chữ"
    m = re.fullmatch(r"too little text \((\d+) letters\)", text)
    if m:
        return f"văn bản quá ngắn ({m[1]} chữ cái)"
    m = re.fullmatch(r"not Vietnamese text \((\d+)% Vietnamese letters\)", text)
    if m:
        return f"không phải văn bản tiếng Việt ({m[1]}% chữ cái tiếng Việt)"
    return None


def reason_label(reason: str | None) -> str | None:
    """The classifier's reason (English, nlp/topics.py) said in Vietnamese; a reason this
    page does not know yet gets a general Vietnamese sentence rather than the English one."""
    if not reason:
        return None
    m = re.fullmatch(r"digest: (.+) named in passing in the body; (.+)", reason)
    if m:
        docs = m[1].replace("a plan", "một kế hoạch")
        return f"Điểm tin: {docs} chỉ được nhắc qua trong nội dung; {_digest_why(m[2])}"
    m = re.fullmatch(r"names (.+), another (.+) of the same issuer, and never (.+): about that one "
                     r"\(probability ([\d.]+)\)", reason)
    if m:
        return (f"Bài nêu {m[1]}, một văn bản khác cùng loại, cùng cơ quan ban hành, và không nêu {m[3]}: "
                f"bài nói về văn bản đó (xác suất {_vn_decimal(m[4])})")
    if reason.startswith("the model was trained before this document was watched"):
        return "Mô hình được huấn luyện trước khi văn bản này được theo dõi: cần huấn luyện lại"
    m = re.fullmatch(r"(.+): cited by reference only", reason)
    if m:
        problem = _problem(m[1])
        return f"{problem[0].upper() + problem[1:] if problem else 'Không phân tích được nội dung'}: " \
               "chỉ xếp loại theo trích dẫn"
    problem = _problem(reason)
    if problem:
        return problem[0].upper() + problem[1:]
    return "Mô hình không xếp bài vào văn bản này"


def _probability(value) -> str | None:
    return None if value is None else f"{value:.2f}".replace(".", ",")


# --- the page's data -------------------------------------------------------------------------

async def _rows(db, sql, params):
    return [dict(r) for r in (await db.execute(sql, params)).rows]


async def article_context(db, article_id, actor=None):
    """Everything the article page shows of `article_id`, or None when there is no such
    article. Reviewers' names and notes only when `actor` is set."""
    rows = await _rows(db, "select a.*, o.name as outlet_name, o.home_url as outlet_home_url "
                           "from articles a left join outlets o on o.id = a.outlet_id where a.id = :id",
                       {"id": article_id})
    if not rows:
        return None
    article = rows[0]
    params = {"id": article_id}
    references = await _rows(
        db, 'select field, start, "end", text, kind, number, year, issuer, signed_on, document, topic, role '
            "from article_references where article_id = :id "
            "order by case field when 'title' then 0 when 'lead' then 1 else 2 end, start", params)
    for ref in references:
        ref["topic_label"] = DOCUMENT_LABELS.get(ref["topic"]) if ref["topic"] else None
        ref["field_label"] = FIELDS.get(ref["field"], ref["field"])
    # The decision in force per document, as reports count it.
    decisions = await _rows(
        db, "select topic, tier, probability, evidence, reason, model_version, verdict, counted "
            "from topic_decisions where article_id = :id order by topic", params)
    # Every model version's decision and every verdict, newest first.
    history = await _rows(
        db, "select topic, tier, probability, evidence, reason, model_version, classified_at "
            "from article_topics where article_id = :id order by classified_at desc, id desc", params)
    staff = actor is not None
    verdicts = await _rows(
        db, "select topic, verdict, at" + (", reviewer, note" if staff else "") +
            " from verdicts where article_id = :id order by at desc, id desc", params)
    for row in decisions + history:
        row["topic_label"] = DOCUMENT_LABELS.get(row["topic"], row["topic"])
        row["tier_label"] = TIER_LABELS.get(row["tier"], row["tier"])
        row["reason_label"] = reason_label(row["reason"])
        row["probability_display"] = _probability(row["probability"])
        row["evidence_list"] = [
            {"text": e.get("text", ""), "sign": e.get("sign")} if isinstance(e, dict) else {"text": str(e)}
            for e in _json_list(row["evidence"])]
    for row in history:
        row["classified_display"] = vn_datetime(row["classified_at"])
    for row in decisions:
        row["verdict_label"] = VERDICT_LABELS.get(row["verdict"])
    in_force = set()
    for row in verdicts:  # newest first: the first of each document is the one in force
        row["in_force"] = row["topic"] not in in_force
        in_force.add(row["topic"])
        row["topic_label"] = DOCUMENT_LABELS.get(row["topic"], row["topic"])
        row["verdict_label"] = VERDICT_LABELS.get(row["verdict"], row["verdict"])
        row["at_display"] = vn_datetime(row["at"])
    versions = (await db.execute("select count(*) from article_versions where article_id = :id", params)).rows[0][0]
    article.update(
        outlet_kind_label=outlet_kinds().get(article.get("outlet_kind"), article.get("outlet_kind")),
        media_kind_label=media_kinds().get(article.get("media_kind"), article.get("media_kind")),
        published_display=vn_datetime(article.get("published_at")),
        modified_display=vn_datetime(article.get("modified_at")),
        first_seen_display=vn_datetime(article.get("first_seen_at")),
        last_seen_display=vn_datetime(article.get("last_seen_at")),
        outlet_row_path=tilde_encode(str(article.get("outlet_id") or "")),
        paragraphs=paragraphs(article.get("body")),
        # The same text as safe HTML with the evidence marked: {"title", "lead", "body"}.
        marked=highlighted_fields(article, references, decisions),
        # The legend names only the kinds of mark the text shows.
        marks={kind: label for kind, label in MARKS.items()
               if any(span[2] == kind for spans in evidence_spans(article, references, decisions).values()
                      for span in spans)},
        tag_list=_json_list(article.get("tags")),
        references=references,
        decisions=decisions,
        history=history,
        verdicts=verdicts,
        staff=staff,
        documents=sorted({r["document"] for r in references if r["document"]}),
        version_count=versions,
        archive_path=f"/-/archive/{article['id']}" if article.get("warc_file") else None,
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
        actor = request.actor
        return {
            "pressmon_article": await article_context(db, pks[0], actor),
            # Only reviewers and admins may change a verdict (the route checks it again).
            "pressmon_can_review": bool(actor) and actor.get("role") in ("reviewer", "admin"),
        }

    return inner


# --- the archived copy ----------------------------------------------------------------------

def _archived_content_type(warc_path: Path, offset: int) -> str | None:
    """The Content-Type the outlet's server sent with the archived response."""
    with open(warc_path, "rb") as handle:
        handle.seek(offset)
        record = next(iter(ArchiveIterator(handle)))
        return record.http_headers.get_header("Content-Type") if record.http_headers else None


ARCHIVE_ERROR = """{% extends "base.html" %}
{% block title %}Lỗi bản lưu trữ — pressmon{% endblock %}
{% block content %}<h1>Lỗi bản lưu trữ</h1>
<p class="archive-error">{{ problem }}</p>
<p><a href="{{ article_path }}">Quay lại trang bài viết</a></p>{% endblock %}"""


def served_database(datasette):
    """The pressmon database the site publishes (Datasette also holds its own _internal)."""
    for db in datasette.databases.values():
        if db.name != "_internal" and db.path:
            return db
    raise NotFound("Không có cơ sở dữ liệu")


async def archive(datasette, request):
    """The article's page as fetched, byte for byte, checked against its SHA-256.

    Served inline, an archived page would run the outlet's scripts in this site's origin,
    where they could read a reviewer's page or post a verdict with the reviewer's cookie.
    `Content-Security-Policy: sandbox` gives the page a unique origin with no scripts, forms
    or pop-ups, and `default-src 'none'` stops it fetching anything (nor tell the outlet who
    reads it); the bytes are unchanged, only the browser's treatment differs. People who need
    the file itself (to hash it, to attach it to a report) use `?download=1`, an attachment."""
    db = served_database(datasette)
    await datasette.ensure_permissions(request.actor, [("view-table", (db.name, "articles")),
                                                       ("view-database", db.name), "view-instance"])
    article_id = int(request.url_vars["article_id"])
    rows = (await db.execute("select warc_file, warc_offset from articles where id = ?", [article_id])).rows
    if not rows:
        raise NotFound("Không có bài này")
    if not rows[0]["warc_file"]:
        raise NotFound("Bài này không có bản lưu trữ (thu thập trước khi có lưu trữ WARC)")
    try:
        # evidence.article_page reads the record and refuses one that does not match its hash.
        body, sha256 = await asyncio.to_thread(article_page, db.path, article_id)
        content_type = await asyncio.to_thread(
            _archived_content_type, Path(db.path).resolve().parent / rows[0]["warc_file"], rows[0]["warc_offset"])
    except EvidenceError as exc:
        # Said in full (the site's 500 page gives no detail): damaged evidence is news for staff.
        problem = ("Không tìm thấy tệp lưu trữ của bài này." if "missing" in str(exc) else
                   "Bản lưu trữ của bài này bị hỏng: nội dung không khớp mã SHA-256 đã ghi.")
        page = await datasette.render_template(
            datasette.jinja_env.from_string(ARCHIVE_ERROR),
            {"problem": problem, "article_path": datasette.urls.row(db.name, "articles", str(article_id))},
            request=request)
        return Response.html(page, status=500)
    content_type = content_type or "application/octet-stream"
    extension = "html" if "html" in content_type.lower() else "bin"
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(
        body,
        status=200,
        content_type=content_type,
        headers={
            "X-Pressmon-SHA256": sha256,
            # RFC 9530: the digest of the bytes sent.
            "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:",
            "Content-Disposition": f'{disposition}; filename="pressmon-{article_id}-{sha256[:12]}.{extension}"',
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "private, max-age=3600",
        },
    )


@hookimpl
def register_routes():
    return [(r"^/-/archive/(?P<article_id>\d+)$", archive)]
