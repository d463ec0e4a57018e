"""The schema of the pressmon database, as an ordered list of migrations.

`PRAGMA user_version` is the number of migrations applied. Each migration is a function
`(db: sqlite_utils.Database) -> None` applied once, in its own transaction together with the
version bump and its `_migrations` row, so an older database upgrades in place and a crash
mid-upgrade leaves it at the previous version. Never edit a released migration: append one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


@contextlib.contextmanager
def immediate_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """Run the block as one write transaction, or as part of the one already open.

    BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    writes fails at once with SQLITE_BUSY if another connection committed in between, whereas
    waiting for the lock is covered by busy_timeout. Joining an open transaction lets methods
    that are public on their own (Store.replace_references) commit together with a caller's.
    """
    if db.conn.in_transaction:
        yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.conn.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def create_initial_schema(db: sqlite_utils.Database) -> None:
    """Every table and index of docs/design.md."""
    for statement in _INITIAL_SCHEMA:
        db.execute(statement)


_INITIAL_SCHEMA = (
    """CREATE TABLE outlets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT,
    family TEXT,
    domain TEXT,
    home_url TEXT,
    language TEXT
)""",
    """CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    outlet_id TEXT NOT NULL REFERENCES outlets(id),
    outlet_kind TEXT, -- copied from outlets so Datasette can facet on it without a join
    title TEXT NOT NULL,
    lead TEXT,
    body TEXT NOT NULL,
    author TEXT,
    section TEXT,
    tags TEXT NOT NULL DEFAULT '[]', -- JSON list
    published_at TEXT,
    published_raw TEXT,
    published_month TEXT, -- YYYY-MM
    modified_at TEXT,
    media_kind TEXT,
    language TEXT,
    methods TEXT NOT NULL DEFAULT '{}', -- JSON: field -> extraction method
    content_sha256 TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    last_run_id TEXT,
    changed_at TEXT NOT NULL -- when the current text was first seen
)""",
    "CREATE INDEX idx_articles_outlet_id ON articles(outlet_id)",
    "CREATE INDEX idx_articles_published_at ON articles(published_at)",
    "CREATE INDEX idx_articles_published_month ON articles(published_month)",
    """CREATE TABLE article_versions (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    title TEXT NOT NULL,
    lead TEXT,
    body TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    modified_at TEXT,
    first_seen_at TEXT NOT NULL,
    replaced_at TEXT NOT NULL
)""",
    "CREATE INDEX idx_article_versions_article_id ON article_versions(article_id)",
    """CREATE TABLE crawl_runs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    outlet_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    pages_fetched INTEGER NOT NULL DEFAULT 0,
    articles_new INTEGER NOT NULL DEFAULT 0,
    articles_updated INTEGER NOT NULL DEFAULT 0,
    articles_unchanged INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    UNIQUE (run_id, outlet_id)
)""",
    """CREATE TABLE crawl_errors (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    outlet_id TEXT,
    url TEXT,
    kind TEXT NOT NULL,
    detail TEXT,
    at TEXT NOT NULL
)""",
    "CREATE INDEX idx_crawl_errors_run_id ON crawl_errors(run_id)",
    """CREATE TABLE article_references (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    field TEXT NOT NULL, -- title, lead or body
    "start" INTEGER,
    "end" INTEGER,
    text TEXT NOT NULL,
    kind TEXT,
    number TEXT,
    year INTEGER,
    issuer TEXT,
    signed_on TEXT,
    document TEXT, -- resolved key such as 1894/QĐ-TTg, NULL for any other document
    topic TEXT -- qd1894, ct20 or NULL
)""",
    "CREATE INDEX idx_article_references_article_id ON article_references(article_id)",
    "CREATE INDEX idx_article_references_topic ON article_references(topic)",
    # A regular (not external-content) FTS5 table: `folded` exists only here and is computed
    # in Python, so the store writes each row itself, with rowid = articles.id.
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, lead, body, folded,
    tokenize="unicode61 remove_diacritics 2"
)""",
)

def add_topics_and_verdicts(db: sqlite_utils.Database) -> None:
    """The topic decision per article, model version and topic; staff verdicts that override
    it; and the view of what counts as coverage."""
    for statement in _TOPICS_SCHEMA:
        db.execute(statement)


_TOPICS_SCHEMA = (
    # One row per article, topic and model version: reclassifying with a new model adds
    # rows and keeps the earlier decisions.
    """CREATE TABLE article_topics (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    topic TEXT NOT NULL, -- qd1894 or ct20
    tier TEXT NOT NULL, -- cited, probable or none
    probability REAL,
    model_version TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '[]', -- JSON: reference spans or the sentences that weighed most
    reason TEXT,
    classified_at TEXT NOT NULL,
    UNIQUE (article_id, topic, model_version)
)""",
    "CREATE INDEX idx_article_topics_article_id ON article_topics(article_id)",
    "CREATE INDEX idx_article_topics_topic_tier ON article_topics(topic, tier)",
    """CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    topic TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('confirmed', 'rejected')),
    reviewer TEXT NOT NULL,
    note TEXT,
    at TEXT NOT NULL
)""",
    "CREATE INDEX idx_verdicts_article_topic ON verdicts(article_id, topic)",
    # The decision in force per article and topic: the newest classification, and the newest
    # verdict, which always overrides the model. `counted` is what reports count.
    """CREATE VIEW topic_decisions AS
WITH latest AS (
    SELECT t.*, row_number() OVER (PARTITION BY article_id, topic ORDER BY classified_at DESC, id DESC) AS n
    FROM article_topics t
), verdict AS (
    SELECT v.*, row_number() OVER (PARTITION BY article_id, topic ORDER BY at DESC, id DESC) AS n
    FROM verdicts v
)
SELECT latest.article_id, latest.topic, latest.tier, latest.probability, latest.evidence,
       latest.reason, latest.model_version, verdict.verdict, verdict.reviewer,
       a.outlet_id, a.outlet_kind, a.published_at, a.published_month, a.title, a.url,
       CASE WHEN verdict.verdict = 'rejected' THEN 0
            WHEN verdict.verdict = 'confirmed' OR latest.tier = 'cited' THEN 1
            ELSE 0 END AS counted
FROM latest
JOIN articles a ON a.id = latest.article_id
LEFT JOIN verdict ON verdict.article_id = latest.article_id AND verdict.topic = latest.topic AND verdict.n = 1
WHERE latest.n = 1""",
)

def add_article_places(db: sqlite_utils.Database) -> None:
    """Mentions of the province's communes and wards in each article."""
    db.execute("""CREATE TABLE article_places (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    commune_code TEXT NOT NULL, -- GSO code
    commune_name TEXT NOT NULL, -- official name, e.g. Xã Đak Đoa
    division_type TEXT, -- xã or phường
    field TEXT NOT NULL, -- title, lead or body
    "start" INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL -- the mention as written
)""")
    db.execute("CREATE INDEX idx_article_places_article_id ON article_places(article_id)")
    db.execute("CREATE INDEX idx_article_places_commune ON article_places(commune_code)")


def add_http_validators(db: sqlite_utils.Database) -> None:
    """What the next night needs to ask "has this changed?" (conditional GET), and a count of
    the answers "no" (HTTP 304), which transfer no page."""
    db.execute("""CREATE TABLE http_validators (
    url TEXT PRIMARY KEY,
    outlet_id TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    fetched_at TEXT NOT NULL
)""")
    db.execute("ALTER TABLE crawl_runs ADD COLUMN pages_not_modified INTEGER NOT NULL DEFAULT 0")


def add_evidence_and_health(db: sqlite_utils.Database) -> None:
    """Where each article's response is archived (WARC) and per-outlet, per-night health."""
    for column, kind in (("warc_file", "TEXT"), ("warc_offset", "INTEGER"), ("payload_sha256", "TEXT")):
        db.execute(f"ALTER TABLE articles ADD COLUMN {column} {kind}")
    db.execute("""CREATE TABLE source_health (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    outlet_id TEXT NOT NULL REFERENCES outlets(id),
    night TEXT NOT NULL, -- YYYY-MM-DD, Vietnam time
    pages INTEGER NOT NULL,
    new_items INTEGER NOT NULL,
    parse_failures INTEGER NOT NULL,
    http_errors INTEGER NOT NULL,
    flagged INTEGER NOT NULL, -- 1 when someone should look at this outlet
    reasons TEXT NOT NULL DEFAULT '[]', -- JSON list of why it was flagged
    checked_at TEXT NOT NULL,
    UNIQUE (run_id, outlet_id)
)""")


def add_crawl_source(db: sqlite_utils.Database) -> None:
    """Whether a run crawled the real sites (`live`) or the offline mirror (`mirror`), so that
    the demo's sample articles and real coverage never end up in one database. NULL for runs
    made before this was recorded."""
    db.execute("ALTER TABLE crawl_runs ADD COLUMN source TEXT")


def add_reference_role(db: sqlite_utils.Database) -> None:
    """What a resolved reference is to its topic: the watched document itself, a document
    carrying it out (both cite the topic) or a related one (recorded, never enough on its
    own). Rows stored before are given the roles of the registry of the time."""
    db.execute("ALTER TABLE article_references ADD COLUMN role TEXT")
    db.execute("""UPDATE article_references SET role = CASE
        WHEN topic IS NULL THEN NULL
        WHEN document IN ('1894/QĐ-TTg', '20/CT-TTg') THEN 'document'
        WHEN document IN ('980/QĐ-TTg', 'KC.06/21-30') THEN 'related'
        ELSE 'implementing' END""")


def add_article_list(db: sqlite_utils.Database) -> None:
    """The article list staff read: the columns a person reads, the outlet's name, and per
    row the documents the item is about as `topic:state` words (state = the newest verdict,
    else the newest tier when cited or probable), e.g. "ct20:probable qd1894:confirmed".

    The documents column is a correlated subquery on article_topics and verdicts (both
    indexed by article), so SQLite works it out only for the rows a page shows, not through
    the window-function view topic_decisions over every classification; the outlet's name is
    one too, so that counting a facet over every article never joins outlets. Codes, not labels:
    labels live in the registries and are applied when a page is rendered."""
    db.execute("""CREATE VIEW article_list AS
SELECT a.title, a.outlet_id, (SELECT o.name FROM outlets o WHERE o.id = a.outlet_id) AS outlet_name,
       a.published_at, a.section,
       (SELECT group_concat(d.topic || ':' || coalesce(d.verdict, d.tier), ' ')
        FROM (SELECT k.topic,
                     (SELECT t.tier FROM article_topics t WHERE t.article_id = a.id AND t.topic = k.topic
                      ORDER BY t.classified_at DESC, t.id DESC LIMIT 1) AS tier,
                     (SELECT v.verdict FROM verdicts v WHERE v.article_id = a.id AND v.topic = k.topic
                      ORDER BY v.at DESC, v.id DESC LIMIT 1) AS verdict
              FROM (SELECT topic FROM article_topics WHERE article_id = a.id
                    UNION SELECT topic FROM verdicts WHERE article_id = a.id) k
              ORDER BY k.topic) d
        WHERE d.verdict IS NOT NULL OR d.tier IN ('cited', 'probable')) AS documents,
       a.outlet_kind, a.published_month, a.media_kind, a.id
FROM articles a""")


def add_article_aliases(db: sqlite_utils.Database) -> None:
    """Other URLs of one outlet that served an article's very text (same content_sha256): the
    article is stored once and each further URL is recorded here. The index finds a stored
    article of the outlet by its text hash."""
    db.execute("""CREATE TABLE article_aliases (
    url TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    first_seen_at TEXT NOT NULL
)""")
    db.execute("CREATE INDEX idx_article_aliases_article_id ON article_aliases(article_id)")
    db.execute("CREATE INDEX idx_articles_outlet_content ON articles(outlet_id, content_sha256)")


def add_decision_counts(db: sqlite_utils.Database) -> None:
    """The decision in force kept as a table, and counts kept beside it, so that no page view
    recomputes them from every row.

    `current_decisions` holds one row per article and topic: the newest classification and
    the newest verdict (which overrides it), with the article's outlet and dates copied in. A
    pair with a verdict and no classification has a row too (tier NULL): the person's word
    counts. `decision_counts` holds the number of such rows per outlet × month × topic × tier ×
    verdict, and `article_counts` the number of articles per outlet × month. Triggers keep all
    three current on every write — a crawl, `pressmon classify`, a verdict from the terminal or
    the browser — so the coverage queries, the report, the dashboard and the home page read a
    few thousand rows however many articles there are. The view topic_decisions keeps its
    columns and now reads current_decisions instead of ranking every classification."""
    for statement in _DECISION_COUNTS_SCHEMA:
        db.execute(statement)


# Months and verdicts are '' rather than NULL in the counts' keys: NULLs are never equal in a
# primary key, so an upsert could not find the row to add to.
_DECISION_COUNTS_SCHEMA = (
    """CREATE TABLE current_decisions (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    topic TEXT NOT NULL,
    decision_id INTEGER, -- article_topics.id in force; NULL when only a verdict exists
    classified_at TEXT,
    tier TEXT,
    probability REAL,
    model_version TEXT,
    verdict_id INTEGER, -- verdicts.id in force
    verdict_at TEXT,
    verdict TEXT,
    reviewer TEXT,
    outlet_id TEXT NOT NULL,
    outlet_kind TEXT,
    published_at TEXT,
    published_month TEXT,
    counted INTEGER GENERATED ALWAYS AS (CASE WHEN verdict = 'rejected' THEN 0
        WHEN verdict = 'confirmed' OR tier = 'cited' THEN 1 ELSE 0 END) VIRTUAL,
    PRIMARY KEY (article_id, topic)
)""",
    # The review queue (newest undecided first) and the staff table's default order.
    "CREATE INDEX idx_current_decisions_queue ON current_decisions(tier, verdict, published_at)",
    "CREATE INDEX idx_current_decisions_published_at ON current_decisions(published_at)",
    """INSERT INTO current_decisions (article_id, topic, decision_id, classified_at, tier, probability,
    model_version, verdict_id, verdict_at, verdict, reviewer, outlet_id, outlet_kind, published_at, published_month)
WITH latest AS (
    SELECT t.*, row_number() OVER (PARTITION BY article_id, topic ORDER BY classified_at DESC, id DESC) AS n
    FROM article_topics t
), verdict AS (
    SELECT v.*, row_number() OVER (PARTITION BY article_id, topic ORDER BY at DESC, id DESC) AS n
    FROM verdicts v
), pairs AS (
    SELECT article_id, topic FROM latest WHERE n = 1 UNION SELECT article_id, topic FROM verdict WHERE n = 1
)
SELECT p.article_id, p.topic, l.id, l.classified_at, l.tier, l.probability, l.model_version,
       v.id, v.at, v.verdict, v.reviewer, a.outlet_id, a.outlet_kind, a.published_at, a.published_month
FROM pairs p
JOIN articles a ON a.id = p.article_id
LEFT JOIN latest l ON l.article_id = p.article_id AND l.topic = p.topic AND l.n = 1
LEFT JOIN verdict v ON v.article_id = p.article_id AND v.topic = p.topic AND v.n = 1""",
    """CREATE TABLE decision_counts (
    outlet_id TEXT NOT NULL,
    published_month TEXT NOT NULL, -- YYYY-MM, '' when the item has no date
    topic TEXT NOT NULL,
    tier TEXT NOT NULL, -- cited, probable, none; '' for a verdict without a classification
    verdict TEXT NOT NULL, -- confirmed, rejected, '' when none
    items INTEGER NOT NULL,
    counted INTEGER GENERATED ALWAYS AS (CASE WHEN verdict = 'rejected' THEN 0
        WHEN verdict = 'confirmed' OR tier = 'cited' THEN 1 ELSE 0 END) VIRTUAL,
    PRIMARY KEY (outlet_id, published_month, topic, tier, verdict)
) WITHOUT ROWID""",
    """INSERT INTO decision_counts (outlet_id, published_month, topic, tier, verdict, items)
SELECT outlet_id, coalesce(published_month, ''), topic, coalesce(tier, ''), coalesce(verdict, ''), count(*)
FROM current_decisions GROUP BY 1, 2, 3, 4, 5""",
    """CREATE TABLE article_counts (
    outlet_id TEXT NOT NULL,
    published_month TEXT NOT NULL, -- YYYY-MM, '' when the item has no date
    articles INTEGER NOT NULL,
    PRIMARY KEY (outlet_id, published_month)
) WITHOUT ROWID""",
    """INSERT INTO article_counts (outlet_id, published_month, articles)
SELECT outlet_id, coalesce(published_month, ''), count(*) FROM articles GROUP BY 1, 2""",
    # Classifications: a newer one (later classified_at, then larger id, as the old view
    # ranked them) takes the pair's row; a re-run of the same model updates its own row.
    """CREATE TRIGGER article_topics_decide AFTER INSERT ON article_topics BEGIN
    INSERT INTO current_decisions (article_id, topic, decision_id, classified_at, tier, probability,
        model_version, outlet_id, outlet_kind, published_at, published_month)
    SELECT new.article_id, new.topic, new.id, new.classified_at, new.tier, new.probability,
           new.model_version, a.outlet_id, a.outlet_kind, a.published_at, a.published_month
    FROM articles a WHERE a.id = new.article_id
    ON CONFLICT (article_id, topic) DO UPDATE SET decision_id = excluded.decision_id,
        classified_at = excluded.classified_at, tier = excluded.tier, probability = excluded.probability,
        model_version = excluded.model_version
    WHERE current_decisions.decision_id IS NULL
       OR (excluded.classified_at, excluded.decision_id) > (current_decisions.classified_at, current_decisions.decision_id);
END""",
    """CREATE TRIGGER article_topics_redecide AFTER UPDATE ON article_topics BEGIN
    UPDATE current_decisions SET decision_id = new.id, classified_at = new.classified_at, tier = new.tier,
        probability = new.probability, model_version = new.model_version
    WHERE article_id = new.article_id AND topic = new.topic
      AND (decision_id = new.id OR (new.classified_at, new.id) > (classified_at, decision_id));
END""",
    """CREATE TRIGGER verdicts_decide AFTER INSERT ON verdicts BEGIN
    INSERT INTO current_decisions (article_id, topic, verdict_id, verdict_at, verdict, reviewer,
        outlet_id, outlet_kind, published_at, published_month)
    SELECT new.article_id, new.topic, new.id, new.at, new.verdict, new.reviewer,
           a.outlet_id, a.outlet_kind, a.published_at, a.published_month
    FROM articles a WHERE a.id = new.article_id
    ON CONFLICT (article_id, topic) DO UPDATE SET verdict_id = excluded.verdict_id,
        verdict_at = excluded.verdict_at, verdict = excluded.verdict, reviewer = excluded.reviewer
    WHERE current_decisions.verdict_id IS NULL
       OR (excluded.verdict_at, excluded.verdict_id) > (current_decisions.verdict_at, current_decisions.verdict_id);
END""",
    """CREATE TRIGGER articles_redate_decisions AFTER UPDATE OF outlet_id, outlet_kind, published_at, published_month
ON articles BEGIN
    UPDATE current_decisions SET outlet_id = new.outlet_id, outlet_kind = new.outlet_kind,
        published_at = new.published_at, published_month = new.published_month
    WHERE article_id = new.id;
END""",
    """CREATE TRIGGER current_decisions_count AFTER INSERT ON current_decisions BEGIN
    INSERT INTO decision_counts (outlet_id, published_month, topic, tier, verdict, items)
    VALUES (new.outlet_id, coalesce(new.published_month, ''), new.topic, coalesce(new.tier, ''),
            coalesce(new.verdict, ''), 1)
    ON CONFLICT DO UPDATE SET items = items + 1;
END""",
    """CREATE TRIGGER current_decisions_recount AFTER UPDATE OF outlet_id, published_month, tier, verdict
ON current_decisions
WHEN old.outlet_id IS NOT new.outlet_id OR old.published_month IS NOT new.published_month
  OR old.tier IS NOT new.tier OR old.verdict IS NOT new.verdict BEGIN
    UPDATE decision_counts SET items = items - 1
    WHERE outlet_id = old.outlet_id AND published_month = coalesce(old.published_month, '') AND topic = old.topic
      AND tier = coalesce(old.tier, '') AND verdict = coalesce(old.verdict, '');
    DELETE FROM decision_counts
    WHERE outlet_id = old.outlet_id AND published_month = coalesce(old.published_month, '') AND topic = old.topic
      AND tier = coalesce(old.tier, '') AND verdict = coalesce(old.verdict, '') AND items <= 0;
    INSERT INTO decision_counts (outlet_id, published_month, topic, tier, verdict, items)
    VALUES (new.outlet_id, coalesce(new.published_month, ''), new.topic, coalesce(new.tier, ''),
            coalesce(new.verdict, ''), 1)
    ON CONFLICT DO UPDATE SET items = items + 1;
END""",
    """CREATE TRIGGER articles_count AFTER INSERT ON articles BEGIN
    INSERT INTO article_counts (outlet_id, published_month, articles)
    VALUES (new.outlet_id, coalesce(new.published_month, ''), 1)
    ON CONFLICT DO UPDATE SET articles = articles + 1;
END""",
    """CREATE TRIGGER articles_recount AFTER UPDATE OF outlet_id, published_month ON articles
WHEN old.outlet_id IS NOT new.outlet_id OR old.published_month IS NOT new.published_month BEGIN
    UPDATE article_counts SET articles = articles - 1
    WHERE outlet_id = old.outlet_id AND published_month = coalesce(old.published_month, '');
    DELETE FROM article_counts
    WHERE outlet_id = old.outlet_id AND published_month = coalesce(old.published_month, '') AND articles <= 0;
    INSERT INTO article_counts (outlet_id, published_month, articles)
    VALUES (new.outlet_id, coalesce(new.published_month, ''), 1)
    ON CONFLICT DO UPDATE SET articles = articles + 1;
END""",
    "DROP VIEW topic_decisions",
    """CREATE VIEW topic_decisions AS
SELECT d.article_id, d.topic, d.tier, d.probability, t.evidence, t.reason, d.model_version, d.verdict,
       d.reviewer, d.outlet_id, d.outlet_kind, d.published_at, d.published_month, a.title, a.url, d.counted
FROM current_decisions d
LEFT JOIN articles a ON a.id = d.article_id
LEFT JOIN article_topics t ON t.id = d.decision_id""",
    # The article list's documents: one primary-key range read per row shown.
    "DROP VIEW article_list",
    """CREATE VIEW article_list AS
SELECT a.title, a.outlet_id, (SELECT o.name FROM outlets o WHERE o.id = a.outlet_id) AS outlet_name,
       a.published_at, a.section,
       (SELECT group_concat(d.topic || ':' || coalesce(d.verdict, d.tier), ' ')
        FROM (SELECT topic, tier, verdict FROM current_decisions
              WHERE article_id = a.id AND (verdict IS NOT NULL OR tier IN ('cited', 'probable'))
              ORDER BY topic) d) AS documents,
       a.outlet_kind, a.published_month, a.media_kind, a.id
FROM articles a""",
    # The columns the article list and the articles table facet on, and each outlet's newest
    # article (crawl health).
    "CREATE INDEX idx_articles_outlet_kind ON articles(outlet_kind)",
    "CREATE INDEX idx_articles_section ON articles(section)",
    "CREATE INDEX idx_articles_media_kind ON articles(media_kind)",
    "CREATE INDEX idx_articles_outlet_first_seen ON articles(outlet_id, first_seen_at)",
)


# An article's place in the search index, newest first: the second (UTC) it was published,
# times 10^9, plus its id, so keys are unique while ids stay below 10^9; an item without a
# readable date has only its id and sorts after every dated one. SQLite's strftime reads the
# stored ISO 8601 time with its +07:00 offset.
def search_key_sql(row: str = "") -> str:
    """The search key of an article as SQL; `row` prefixes the columns ("new." in a trigger)."""
    return f"max(coalesce(CAST(strftime('%s', {row}published_at) AS INTEGER), 0), 0) * 1000000000 + {row}id"


def add_search_key(db: sqlite_utils.Database) -> None:
    """Search results newest first without sorting them: the FTS5 rowid of an article becomes
    its `search_key` (search_key_sql), so "the newest N matches" is `... MATCH ? ORDER BY rowid
    DESC LIMIT N`, which FTS5 answers by walking its index backwards and stops after N. The
    index is rebuilt from its own stored columns (the folded text is not recomputed), in key
    order. The covering index holds the key with the columns the article list facets on, so
    counting a capped search's facets reads the index only. `search_key` is a plain column that
    triggers keep: SQLite (3.40) never treats an index on a generated column as covering, and
    reading `section` or `published_month` from the row means walking the body's overflow
    pages. A trigger moves an article's search row when its publication time changes, whoever
    changes it. The article list gains the key, its default order."""
    db.execute("ALTER TABLE articles ADD COLUMN search_key INTEGER")
    db.execute(f"UPDATE articles SET search_key = {search_key_sql()}")
    db.execute("CREATE UNIQUE INDEX idx_articles_search_key ON articles(search_key, outlet_id, outlet_kind, section, "
               "published_month, media_kind)")
    db.execute("""CREATE VIRTUAL TABLE articles_fts_by_key USING fts5(
    title, lead, body, folded,
    tokenize="unicode61 remove_diacritics 2"
)""")
    # In key order, so FTS5 appends; CROSS JOIN walks the new index instead of sorting the text.
    db.execute("INSERT INTO articles_fts_by_key (rowid, title, lead, body, folded) "
               "SELECT a.search_key, f.title, f.lead, f.body, f.folded "
               "FROM articles a CROSS JOIN articles_fts f ON f.rowid = a.id ORDER BY a.search_key")
    db.execute("DROP TABLE articles_fts")
    db.execute("ALTER TABLE articles_fts_by_key RENAME TO articles_fts")
    db.execute(f"""CREATE TRIGGER articles_search_key AFTER INSERT ON articles BEGIN
    UPDATE articles SET search_key = {search_key_sql("new.")}
    WHERE id = new.id;
END""")
    db.execute(f"""CREATE TRIGGER articles_search_key_moves AFTER UPDATE OF published_at ON articles
WHEN old.published_at IS NOT new.published_at BEGIN
    UPDATE articles SET search_key = {search_key_sql("new.")}
    WHERE id = new.id;
    INSERT INTO articles_fts (rowid, title, lead, body, folded)
    SELECT a.search_key, f.title, f.lead, f.body, f.folded
    FROM articles a JOIN articles_fts f ON f.rowid = old.search_key WHERE a.id = new.id;
    DELETE FROM articles_fts WHERE rowid = old.search_key;
END""")
    # Migration 10's view with one more column.
    db.execute("DROP VIEW article_list")
    db.execute(_ARTICLE_LIST_WITH_KEY)


_ARTICLE_LIST_WITH_KEY = """CREATE VIEW article_list AS
SELECT a.title, a.outlet_id, (SELECT o.name FROM outlets o WHERE o.id = a.outlet_id) AS outlet_name,
       a.published_at, a.section,
       (SELECT group_concat(d.topic || ':' || coalesce(d.verdict, d.tier), ' ')
        FROM (SELECT topic, tier, verdict FROM current_decisions
              WHERE article_id = a.id AND (verdict IS NOT NULL OR tier IN ('cited', 'probable'))
              ORDER BY topic) d) AS documents,
       a.outlet_kind, a.published_month, a.media_kind, a.id, a.search_key
FROM articles a"""


def add_reclassify_runs(db: sqlite_utils.Database) -> None:
    """`pressmon classify --all` runs, one row per model version, so that a run stopped
    part-way (killed, machine restarted) carries on where it stopped when the same command is
    run again: every article up to `last_article_id` has been classified by that run (the
    decisions and this row are written in one transaction per batch). `finished_at` is NULL
    while the run is unfinished; the next `--all` with that model after it finished starts over."""
    db.execute("""CREATE TABLE reclassify_runs (
    model_version TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    last_article_id INTEGER NOT NULL DEFAULT 0,
    classified INTEGER NOT NULL DEFAULT 0, -- articles this run has classified so far
    finished_at TEXT
)""")


def add_exact_search(db: sqlite_utils.Database) -> None:
    """Words typed with diacritics found by an index: `articles_fts_exact` indexes title, lead
    and body with `remove_diacritics 0` (case still folded), so "hòa" finds hòa, Hòa and HÒA
    but neither hóa nor họa. It is contentless (the text is stored once, in articles_fts) and
    keyed by search_key like articles_fts, so its own order is newest first too. Deleting a
    row of a contentless table needs the text it was indexed with: it is read from
    articles_fts, which is why the store and the trigger that moves a row write both indexes
    together."""
    db.execute("""CREATE VIRTUAL TABLE articles_fts_exact USING fts5(
    title, lead, body,
    content='',
    tokenize="unicode61 remove_diacritics 0"
)""")
    db.execute("INSERT INTO articles_fts_exact (rowid, title, lead, body) "
               "SELECT rowid, title, lead, body FROM articles_fts ORDER BY rowid")
    db.execute("DROP TRIGGER articles_search_key_moves")
    db.execute(f"""CREATE TRIGGER articles_search_key_moves AFTER UPDATE OF published_at ON articles
WHEN old.published_at IS NOT new.published_at BEGIN
    UPDATE articles SET search_key = {search_key_sql("new.")}
    WHERE id = new.id;
    INSERT INTO articles_fts (rowid, title, lead, body, folded)
    SELECT a.search_key, f.title, f.lead, f.body, f.folded
    FROM articles a JOIN articles_fts f ON f.rowid = old.search_key WHERE a.id = new.id;
    INSERT INTO articles_fts_exact (rowid, title, lead, body)
    SELECT a.search_key, f.title, f.lead, f.body
    FROM articles a JOIN articles_fts f ON f.rowid = old.search_key WHERE a.id = new.id;
    INSERT INTO articles_fts_exact (articles_fts_exact, rowid, title, lead, body)
    SELECT 'delete', old.search_key, title, lead, body FROM articles_fts WHERE rowid = old.search_key;
    DELETE FROM articles_fts WHERE rowid = old.search_key;
END""")


MIGRATIONS: list[Migration] = [create_initial_schema, add_topics_and_verdicts, add_article_places,
                               add_http_validators, add_evidence_and_health, add_crawl_source,
                               add_reference_role, add_article_list, add_article_aliases, add_decision_counts,
                               add_search_key, add_reclassify_runs, add_exact_search]


def migrate(db: sqlite_utils.Database, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations `db` has not had yet; return the resulting schema version."""
    _refuse_newer_schema(db, len(migrations))
    for version, migration in enumerate(migrations, start=1):
        with immediate_transaction(db):
            # Read inside the write lock: another process may have migrated meanwhile.
            if schema_version(db) >= version:
                continue
            migration(db)
            _record_migration(db, version, migration.__name__)
    return schema_version(db)


def _refuse_newer_schema(db: sqlite_utils.Database, known_versions: int) -> None:
    # Writing to a schema this code does not know could silently corrupt it.
    version = schema_version(db)
    if version > known_versions:
        raise RuntimeError(
            f"database schema version {version} is newer than this pressmon knows "
            f"({known_versions}); upgrade pressmon"
        )


def _record_migration(db: sqlite_utils.Database, version: int, name: str) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    # Asia/Ho_Chi_Minh has been UTC+7 without DST since 1975, so SQLite's clock can stamp
    # the same +07:00 time as crawlers.dates.now() without a Python clock.
    db.execute(
        "INSERT INTO _migrations (version, name, applied_at) VALUES "
        "(?, ?, strftime('%Y-%m-%dT%H:%M:%S', 'now', '+7 hours') || '+07:00')",
        (version, name),
    )
    # PRAGMA does not take bound parameters; version is an int from enumerate().
    db.execute(f"PRAGMA user_version = {int(version)}")
