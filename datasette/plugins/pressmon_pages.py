"""Datasette plugin: what the Vietnamese staff pages need beyond Datasette's own context.

- `render_cell`: code values as their Vietnamese labels (outlet and media kinds from the outlet
  registry, documents, tiers and verdicts from nlp/documents.py), and the article list's
  title as a link to the item's page, its date as staff write it, its documents with tiers.
- `extra_template_vars`: `pressmon`, a helper every template reads — the navigation's URLs,
  column and value labels, the Vietnamese description of a table page's filters, search and
  sort (Datasette only gives `human_description_en`) — and on the home page the year's
  figures per watched document.
- `register_facet_classes`: a `month` facet, listing every month newest first (Datasette's
  column facet orders by count and cuts at 30 values).

Column headers' Vietnamese names live in metadata.yml under `plugins: pressmon-pages:
column_labels` (per table under `table_column_labels`), next to the column descriptions.
Everything here only reads.
"""

from __future__ import annotations

import collections
import datetime
import json
import re
from zoneinfo import ZoneInfo

from datasette import hookimpl
from datasette.facets import ColumnFacet, load_facet_configs
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from markupsafe import Markup

from pressmon.crawlers.dates import vn_datetime
from pressmon.crawlers.registry import media_kinds, outlet_kinds
from pressmon.nlp.documents import DOCUMENT_SHORT_LABELS, DOCUMENTS, TIER_LABELS, VERDICT_LABELS

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

# The article list (a view of migration 8) and the names its links use.
ARTICLE_LIST = "article_list"
ARTICLE_TABLE = "articles"
# The tables and views staff work with, in the database page's order; every other one is
# technical and listed under "Bảng kỹ thuật".
TASK_TABLES = (ARTICLE_LIST, "topic_decisions", "article_references", "outlets")
# Columns the article list carries for its facets and links but does not show.
ARTICLE_LIST_HIDDEN = ("outlet_id", "outlet_kind", "published_month", "media_kind", "id", "search_key")

# Datasette's filter operators (datasette/filters.py keys), as a person says them.
LOOKUPS = {
    "exact": "là",
    "not": "khác",
    "contains": "có chứa",
    "endswith": "kết thúc bằng",
    "startswith": "bắt đầu bằng",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "like": "khớp mẫu",
    "notlike": "không khớp mẫu",
    "glob": "khớp mẫu glob",
    "in": "thuộc danh sách",
    "notin": "không thuộc danh sách",
    "arraycontains": "có phần tử",
    "arraynotcontains": "không có phần tử",
    "date": "vào ngày",
    "isnull": "trống",
    "notnull": "không trống",
    "isblank": "để trống",
    "notblank": "không để trống",
}
NO_ARGUMENT = {"isnull", "notnull", "isblank", "notblank"}

# Datasette's own flash messages, as a person here reads them.
MESSAGES = {"You are now logged out": "Bạn đã đăng xuất."}

# At most this many months in a month facet: twenty years of coverage.
MONTHS_LISTED = 240
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_label(value) -> str:
    """"2025-09" → "Tháng 9/2025"."""
    match = MONTH.match(str(value or ""))
    if not match:
        return str(value) if value is not None else ""
    return f"Tháng {int(match.group(2))}/{match.group(1)}"


def value_labels(outlet_names: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Column → {code: Vietnamese label}, each from its one home."""
    return {
        "outlet_kind": outlet_kinds(),
        "media_kind": media_kinds(),
        "topic": dict(DOCUMENT_SHORT_LABELS),
        "tier": dict(TIER_LABELS),
        "verdict": dict(VERDICT_LABELS),
        "outlet_id": dict(outlet_names or {}),
    }


# Columns whose meaning depends on the table (`kind` of an outlet, of an error, of a document).
TABLE_VALUE_COLUMNS = {("outlets", "kind"): "outlet_kind"}


def label_of(column: str, value, table: str | None = None, outlet_names=None):
    """A code value as staff read it, or the value itself when it is not a code."""
    if value is None:
        return None
    column = TABLE_VALUE_COLUMNS.get((table, column), column)
    if column.endswith("_month") or column == "month":
        return month_label(value)
    return value_labels(outlet_names).get(column, {}).get(str(value), value)


def documents_label(value: str | None) -> str:
    """"ct20:probable qd1894:confirmed" → "QĐ 1894: Đã xác nhận · CT 20: Có khả năng", in the
    registry's order of documents; a verdict names itself, otherwise the tier."""
    states = dict(word.split(":", 1) for word in (value or "").split() if ":" in word)
    labels = {**TIER_LABELS, **VERDICT_LABELS}
    ordered = [t for t in DOCUMENTS if t in states] + sorted(t for t in states if t not in DOCUMENTS)
    return " · ".join(f"{DOCUMENT_SHORT_LABELS.get(t, t)}: {labels.get(states[t], states[t])}" for t in ordered)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if table == ARTICLE_LIST:
        if column == "title" and "id" in row.keys():
            url = datasette.urls.row(database, ARTICLE_TABLE, str(row["id"]))
            return Markup('<a href="{}">{}</a>').format(url, value or "(không có tiêu đề)")
        if column == "published_at":
            return vn_datetime(value) or "không rõ"
        if column == "documents":
            return documents_label(value)
    if isinstance(value, str):
        labelled = label_of(column, value, table)
        if labelled != value:
            return labelled
    return None


# A page of at most this many rows counts its facets from one read of their columns.
ONE_PASS_ROWS = 20_000


class OnePassFacet(ColumnFacet):
    """Datasette's column facet, counted from one read of the page's rows when they are few.

    Each facet's query re-runs the page's condition: for a capped search that is a walk of the
    search index and 5,000 key lookups, five times over. When the page has at most
    ONE_PASS_ROWS rows, the columns of every facet on the page are read once per request and
    counted here; the results have Datasette's form (order by count, then value; labels of
    foreign keys; links that add or remove the filter)."""

    async def facet_results(self):
        rows = await _facet_rows(self)
        if rows is None:
            return await super().facet_results()
        columns, values = rows
        results = []
        pairs = self.get_querystring_pairs()
        size = self.get_facet_size()
        for config in self.get_configs():
            column = config["config"].get("column") or config["config"]["simple"]
            counts = collections.Counter(row[columns.index(column)] for row in values)
            counts.pop(None, None)
            ordered = sorted(counts.items(), key=lambda item: (-item[1], _sqlite_order(item[0])))
            shown = ordered[:size]
            expanded = (await self.ds.expand_foreign_keys(self.database, self.table, column, [v for v, _ in shown])
                        if self.table else {})
            column_qs = f"{column}__exact" if column.startswith("_") else column
            facet_values = []
            for value, count in shown:
                selected = (column_qs, str(value)) in pairs
                toggle = (path_with_removed_args(self.request, {column_qs: str(value)}) if selected
                          else path_with_added_args(self.request, {column_qs: value}))
                facet_values.append({"value": value, "label": expanded.get((column, value), value), "count": count,
                                     "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle)),
                                     "selected": selected})
            results.append({"name": column, "type": self.type, "hideable": config["source"] != "metadata",
                            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet": column})),
                            "results": facet_values, "truncated": len(ordered) > size})
        return results, []


def _sqlite_order(value) -> tuple:
    # SQLite sorts numbers before text.
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))


async def _facet_rows(facet: ColumnFacet) -> tuple[list[str], list[tuple]] | None:
    """The page's rows, only the columns of its facets (of every type), read once per request;
    None when the page has too many rows or a facet names no column of the page."""
    if facet.row_count is None or facet.row_count > ONE_PASS_ROWS:
        return None
    wanted = [config["config"].get("column") or config["config"]["simple"]
              for configs in load_facet_configs(facet.request, facet.metadata).values() for config in configs]
    memo = facet.request.scope.setdefault("pressmon.facet_rows", {})
    key = (facet.sql, json.dumps(facet.params, sort_keys=True, default=str))
    if key not in memo:
        present = set(await facet.get_columns(facet.sql, facet.params))
        columns = list(dict.fromkeys(c for c in wanted if c in present))
        sql = f"select {', '.join(escape_sqlite(c) for c in columns)} from ({facet.sql})"

        def read(conn):
            # Plain tuples: Datasette's sqlite3.Row costs more than the counting.
            cursor = conn.cursor()
            cursor.row_factory = None
            return cursor.execute(sql, facet.params).fetchall()

        memo[key] = (columns, await facet.ds.get_database(facet.database).execute_fn(read) if columns else [])
    columns, values = memo[key]
    mine = {config["config"].get("column") or config["config"]["simple"] for config in facet.get_configs()}
    return (columns, values) if columns and mine <= set(columns) else None


class MonthFacet(OnePassFacet):
    """Every value of a YYYY-MM column, newest month first (`_facet_month=published_month`
    or `{month: published_month}` in metadata)."""

    type = "month"

    def get_facet_size(self):
        return MONTHS_LISTED

    async def suggest(self):
        return []

    async def facet_results(self):
        results, timed_out = await super().facet_results()
        for result in results:
            result["results"].sort(key=lambda v: str(v["value"]), reverse=True)
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [MonthFacet]


@hookimpl(hookwrapper=True, specname="register_facet_classes")
def column_facet_in_one_pass():
    """Datasette's column facet, counted in one pass on small pages (OnePassFacet)."""
    outcome = yield
    outcome.force_result([[OnePassFacet if klass is ColumnFacet else klass for klass in classes]
                          for classes in outcome.get_result()])


class Pages:
    """What the templates ask of `pressmon`: labels, URLs, the filters in words."""

    def __init__(self, datasette, database_name: str, outlet_names: dict[str, str], actor):
        self.datasette = datasette
        self.db = database_name
        self.outlet_names = outlet_names
        self.actor = actor
        config = datasette.plugin_config("pressmon-pages") or {}
        self._column_labels = config.get("column_labels") or {}
        self._table_column_labels = config.get("table_column_labels") or {}
        self.software = config.get("software")
        self.software_url = config.get("software_url")
        self._database_metadata = (datasette.metadata("databases") or {}).get(database_name) or {}

    @property
    def database_title(self) -> str:
        return self._database_metadata.get("title") or self.db

    def table_title(self, table: str) -> str:
        return ((self._database_metadata.get("tables") or {}).get(table) or {}).get("title") or table

    task_tables = TASK_TABLES

    @property
    def is_admin(self) -> bool:
        # SQL of one's own is for administrators (pressmon_access.py's gate refuses it to
        # anyone else), so only they are offered the editor.
        return bool(self.actor) and self.actor.get("role") == "admin"

    def table_description(self, table: str) -> str | None:
        return ((self._database_metadata.get("tables") or {}).get(table) or {}).get("description")

    def query_title(self, name: str) -> str:
        return ((self._database_metadata.get("queries") or {}).get(name) or {}).get("title") or name

    # URLs of the navigation and the home page's tasks
    @property
    def article_list_url(self) -> str:
        return self.datasette.urls.table(self.db, ARTICLE_LIST)

    @property
    def reports_url(self) -> str:
        return self.datasette.urls.database(self.db) + "#bao-cao"

    @property
    def health_url(self) -> str:
        return self.datasette.urls.query(self.db, "crawl_health")

    def query_url(self, name: str) -> str:
        return self.datasette.urls.query(self.db, name)

    def table_url(self, name: str) -> str:
        return self.datasette.urls.table(self.db, name)

    dashboard_url = "/-/dashboards/do-phu-tuyen-truyen"
    review_url = "/-/review"

    # Labels
    def column(self, column: str, table: str | None = None) -> str:
        by_table = self._table_column_labels.get(table or "") or {}
        if column in by_table:
            return by_table[column]
        if column in self._column_labels:
            return self._column_labels[column]
        match = re.match(r"^articles_(\w+)$", column)
        if match and match.group(1) in DOCUMENT_SHORT_LABELS:
            return f"Số bài trích dẫn {DOCUMENT_SHORT_LABELS[match.group(1)]}"
        return column

    def value(self, column: str, value, table: str | None = None):
        if value is None or value == "":
            return "(trống)"
        return label_of(column, value, table, self.outlet_names)

    def parameter_choices(self, name: str) -> dict[str, str] | None:
        """A canned query's parameter offered as a list of labels, when its values are codes."""
        if name == "outlet_kind":
            return outlet_kinds()
        if name == "topic":
            return dict(DOCUMENT_SHORT_LABELS)
        return None

    def message(self, text: str) -> str:
        return MESSAGES.get(text, text)

    @staticmethod
    def facets_in_order(facet_results, metadata) -> list:
        """The metadata's facets in the metadata's order (Datasette sorts them by their
        number of values), then any asked for in the URL."""
        order = []
        for facet in (metadata or {}).get("facets") or []:
            order.append(facet if isinstance(facet, str) else next(iter(facet.values())))
        rank = {name: n for n, name in enumerate(order)}
        return sorted(facet_results, key=lambda f: rank.get(f["name"], len(rank)))

    def lookup(self, key: str) -> str:
        return LOOKUPS.get(key, key)

    def is_article_list(self, table: str | None) -> bool:
        return table == ARTICLE_LIST

    def hidden(self, table: str | None, column: str) -> bool:
        return table == ARTICLE_LIST and column in ARTICLE_LIST_HIDDEN

    def rows(self, n) -> str:
        return "{:,} dòng".format(n).replace(",", ".")

    def number(self, n) -> str:
        return "{:,}".format(n or 0).replace(",", ".")

    def describe(self, table, filters, search, sort, sort_desc) -> str:
        """The page's search, filters and sort in Vietnamese, built from the request (what
        Datasette's English `human_description_en` says)."""
        bits = []
        if search:
            bits.append(f"có “{search}”")
        for column, lookup, value in filters.selections() if filters else ():
            name = self.column(column, table)
            if lookup in NO_ARGUMENT:
                bits.append(f"{name} {self.lookup(lookup)}")
            elif lookup == "exact":
                bits.append(f"{name} là {self.value(column, value, table)}")
            else:
                bits.append(f"{name} {self.lookup(lookup)} {value}")
        text = ", ".join(bits)
        if sort or sort_desc:
            order = f"xếp theo {self.column(sort or sort_desc, table)}, {'giảm dần' if sort_desc else 'tăng dần'}"
            text = f"{text}; {order}" if text else order
        return text


async def _outlet_names(db) -> dict[str, str]:
    try:
        return {row[0]: row[1] for row in (await db.execute("select id, name from outlets")).rows}
    except Exception:  # a database without outlets (never ours) still renders its pages
        return {}


def current_year() -> int:
    return datetime.datetime.now(VIETNAM).year


# The year's figures per watched document, from the counts the database keeps per outlet,
# month, document, tier and verdict (decision_counts): a few hundred rows, however many items.
FIGURES_SQL = """
select coalesce(sum(items * counted), 0) as counted,
       coalesce(sum(case when tier = 'probable' and verdict = '' then items end), 0) as awaiting
from decision_counts
where topic = :topic and published_month between :first and :last
"""

HOLDINGS_SQL = """
select (select coalesce(sum(articles), 0) from article_counts) as articles,
       (select count(distinct outlet_id) from article_counts) as outlets_crawled,
       (select count(*) from outlets) as outlets,
       (select min(published_at) from articles) as first_published,
       (select max(published_at) from articles) as last_published,
       (select max(started_at) from crawl_runs) as last_crawl
"""


async def home_figures(db, year: int) -> dict:
    holdings = dict((await db.execute(HOLDINGS_SQL)).rows[0])
    documents = []
    for topic, document in DOCUMENTS.items():
        row = (await db.execute(FIGURES_SQL, {"topic": topic, "first": f"{year}-01",
                                              "last": f"{year}-12"})).rows[0]
        documents.append({"topic": topic, "label": document.label, "short_label": document.short_label,
                          "subject": document.subject, "counted": row["counted"], "awaiting": row["awaiting"]})
    return {
        "year": year,
        "documents": documents,
        "holdings": holdings,
        "first_published": vn_datetime(holdings["first_published"]),
        "last_published": vn_datetime(holdings["last_published"]),
        "last_crawl": vn_datetime(holdings["last_crawl"]),
    }


@hookimpl
def prepare_jinja2_environment(env, datasette):
    # Datasette renders its error pages without extra_template_vars (and without a request):
    # base.html then takes this one, so the navigation and labels are there too.
    def pressmon_default():
        names = [name for name in datasette.databases if name != "_internal"]
        return Pages(datasette, names[0], {}, None) if names else None

    env.globals["pressmon_default"] = pressmon_default


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    async def inner():
        names = [name for name in datasette.databases if name != "_internal"]
        if not names:
            return {}
        db = datasette.get_database(database if database in names else names[0])
        pages = Pages(datasette, db.name, await _outlet_names(db), getattr(request, "actor", None))
        extra = {"pressmon": pages}
        if view_name == "index":
            year = current_year()
            asked = request.args.get("nam") if request else None
            if asked and asked.isdigit() and 1990 <= int(asked) <= year:
                year = int(asked)
            extra["pressmon_home"] = await home_figures(db, year)
            extra["pressmon_home"]["current_year"] = current_year()
        return extra

    return inner


@hookimpl
def handle_exception(datasette, request, exception):
    """Error pages drawn like every other page. Datasette's own handler renders error.html
    without the request, so the navigation would offer "Đăng nhập" to someone logged in;
    this one keeps its statuses and messages and passes the request. JSON errors and the
    debugger stay Datasette's."""
    if datasette.pdb or request.path.split("?")[0].endswith(".json"):
        return None
    from datasette.utils.asgi import Base400, Response
    from datasette.views.base import DatasetteError

    async def inner():
        title = None
        if isinstance(exception, Base400):
            status, message = exception.status, exception.args[0]
        elif isinstance(exception, DatasetteError):
            status, title = exception.status, exception.title
            message = Markup(exception.message) if exception.message_is_html else exception.message
        else:
            return None
        html = await datasette.render_template(
            [f"{status}.html", "error.html"],
            {"ok": False, "error": message, "status": status, "title": title}, request=request)
        return Response.html(html, status=status)

    return inner
