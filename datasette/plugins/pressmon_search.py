"""Datasette plugin: the search of the article list and the articles table — newest first,
capped, and exact where the words are typed with diacritics.

The index. `articles_fts` is tokenized `unicode61 remove_diacritics 2` and also indexes a
folded copy of the text (đ → d), so a query without diacritics finds every spelling: `dak
doa` finds "Đắk Đoa" and "Đak Đoa". Its rowid is the article's `search_key` (migration 11):
the publication second × 10^9 + id, so FTS5's own rowid order is newest first and "the newest
N matches" is `MATCH ? ORDER BY rowid DESC LIMIT N`, a walk of the index that stops after N.

The cap. Datasette runs a table page's condition seven times (rows, count, five facets); with
its own `_search` clause each run reads every match and the rows are sorted by date: seconds
for common words on 10^6 items. This plugin replaces that clause (the tables have no
`fts_table` in metadata, so Datasette adds none) with one that keeps the newest `cap` matches
(plugin configuration `pressmon-search: cap`, 10,000): rows, count and facets then cost the
same for rare and common words, and the rows come in key order without a sort (the tables'
default order is `search_key` descending). When there are more matches the page says "hơn
10.000 bài" and that its counts and facets are over the newest 10,000; filters and other sort
orders apply within those. An export (pressmon_exports marks its request) gets every match.

Words typed with diacritics. The folding also throws away diacritics typed on purpose:
"Hòa" would find "hóa" and "họa". So when a `_search` word carries diacritics, only the items
containing that word exactly — case-insensitive, after Unicode NFC and new-style tone
placement (`pressmon.nlp.normalize.normalize_text`), so "Hoà", "HÒA" and "hòa" are one word —
in the title, lead or body are kept. Words without diacritics keep matching every spelling:
"Hòa hoi" requires "hòa" exactly and "hoi" in any form. We filter rather than rank: Datasette
0.65 offers no hook to reorder a table page, and a person who types the marks means that word.
The check is Python, run once per page: the plugin walks the matches newest first, keeps the
keys of the first `cap` that pass (under a random token, for the few most recent pages), and
the page's queries look keys up with `pressmon_search_passed(token, rowid)` instead of reading
the text seven times. The walk stops after the newest `scan` matches (plugin configuration,
20,000), when the page says how many it looked at — a word typed with marks whose unmarked
form is everywhere ("hòa" among "hoa") never costs more than that. An export checks every
match (`pressmon_has_words`, the same test in SQL).
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from typing import NamedTuple

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite

from pressmon.nlp.normalize import fold, normalize_text

PLUGIN = "pressmon-search"
FTS_TABLE = "articles_fts"
KEY_COLUMN = "search_key"
SQL_FUNCTION = "pressmon_has_words"
PASSED_FUNCTION = "pressmon_search_passed"
# The request scope key pressmon_exports sets: an export gets every match, not the cap.
EXPORT_SCOPE_KEY = "pressmon_export"
DEFAULT_CAP = 10_000
DEFAULT_SCAN = 20_000
# A word as FTS5's unicode61 tokenizer cuts it: letters and digits, nothing else.
_WORD_RE = re.compile(r"[^\W_]+")


class SearchConfig(NamedTuple):
    tables: frozenset[str]
    cap: int
    scan: int


def search_config(datasette) -> SearchConfig:
    config = datasette.plugin_config(PLUGIN) or {}
    return SearchConfig(frozenset(config.get("tables") or ()), int(config.get("cap", DEFAULT_CAP)),
                        int(config.get("scan", DEFAULT_SCAN)))


def typed_words(query: str) -> list[str]:
    """The words of a search that carry diacritics, normalised and in lower case; a word
    without diacritics is not among them (it matches every spelling)."""
    words = _WORD_RE.findall((normalize_text(query) or "").lower())
    return list(dict.fromkeys(w for w in words if fold(w) != w))


def _has_word(text: str, word: str) -> bool:
    # A whole word: no letter or digit (what [^\W_] matches) on either side. str.find rather
    # than a regular expression with look-arounds, which Python tries at every position.
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or not text[start - 1].isalnum()) and (end == len(text) or not text[end].isalnum()):
            return True
        start = text.find(word, start + 1)
    return False


def has_words(words: str, *fields: str | None) -> int:
    """1 when every word of `words` (space-separated, from `typed_words`) is a whole word of
    one of `fields`, else 0. The stored text is already normalised (the pipeline normalises
    before storing), so it is only lower-cased here."""
    text = "\n".join(f for f in fields if f).lower()
    return int(all(_has_word(text, word) for word in words.split()))


# The items a page's typed words let through, found once per page (its seven queries then
# only look them up): page token → keys. A few pages' worth, the oldest forgotten first.
_PASSED: OrderedDict[str, frozenset[int]] = OrderedDict()
_PASSED_PAGES = 32
_passed_lock = threading.Lock()


def _remember(keys: frozenset[int]) -> str:
    token = secrets.token_hex(8)
    with _passed_lock:
        _PASSED[token] = keys
        while len(_PASSED) > _PASSED_PAGES:
            _PASSED.popitem(last=False)
    return token


def passed(token: str, key: int) -> int:
    keys = _PASSED.get(token)
    if keys is None:
        raise ValueError("kết quả tìm kiếm này đã hết hạn: hãy tìm lại")
    return int(key in keys)


@hookimpl
def prepare_connection(conn):
    conn.create_function(SQL_FUNCTION, -1, has_words, deterministic=True)
    conn.create_function(PASSED_FUNCTION, 2, passed)


class Search(NamedTuple):
    """One `_search` of a configured table, as SQL over articles_fts."""

    query: str
    words: tuple[str, ...]
    raw: bool

    @property
    def params(self) -> dict:
        return {"pressmon_search": self.query, "pressmon_words": " ".join(self.words)}

    def _match(self, columns: str = "rowid") -> str:
        match = ":pressmon_search" if self.raw else "escape_fts(:pressmon_search)"
        return f"select {columns} from {FTS_TABLE} where {FTS_TABLE} match {match}"

    def matches(self) -> str:
        """Every item the search finds, typed words checked, newest first."""
        exact = f" and {SQL_FUNCTION}(:pressmon_words, title, lead, body)" if self.words else ""
        return f"{self._match()}{exact} order by rowid desc"

    def newest(self, limit: str) -> str:
        """The newest `limit` items the search finds (words typed without diacritics): FTS5
        walks its index newest first and stops at the limit; there is no sort."""
        return f"{self._match()} order by rowid desc limit {limit}"

    def passing(self) -> str:
        """The items of a page whose typed words were checked once (`_passed_keys`): the walk
        covers the keys from the newest down to the lowest that passed, and only looks up
        each key, never the text."""
        return (f"{self._match()} and rowid >= :pressmon_floor "
                f"and {PASSED_FUNCTION}(:pressmon_token, rowid) order by rowid desc")

    def window(self, scan: int) -> str:
        """The newest `scan` + 1 matches of the index with their text, typed words unchecked."""
        return f"{self._match('rowid, title, lead, body')} order by rowid desc limit {int(scan) + 1}"


def _passed_keys(connection, search: Search, config: SearchConfig) -> tuple[list[int], bool]:
    """The keys of the newest cap + 1 items whose typed words match, looking at the newest
    `scan` matches of the index at most; and whether there were more matches than that."""
    words = " ".join(search.words)
    keys, seen = [], 0
    for key, *fields in connection.execute(search.window(config.scan), search.params):
        seen += 1
        if seen > config.scan:
            return keys, True
        if has_words(words, *fields):
            keys.append(key)
            if len(keys) > config.cap:
                break
    return keys, False


def search_of(request, database: str, table: str | None, datasette) -> Search | None:
    """The request's `_search` on a configured table, or None."""
    query = (request.args.get("_search") or "").strip()
    if not table or not query or table not in search_config(datasette).tables:
        return None
    # The same search mode as Datasette's own clause (filters.search_filters).
    mode = request.args.get("_searchmode", datasette.table_metadata(database, table).get("searchmode"))
    return Search(query, tuple(typed_words(query)), mode == "raw")


@hookimpl
def filters_from_request(request, database, table, datasette):
    config = search_config(datasette)
    if not table or table not in config.tables:
        return None
    search = search_of(request, database, table, datasette)
    if search is None:
        return FilterArguments([], extra_context={"pressmon_searchable": True})
    key = escape_sqlite(KEY_COLUMN)
    context = {
        "pressmon_searchable": True,
        "search": search.query,
        # Templates can say which words had to match as typed.
        "search_exact_words": list(search.words),
    }
    if request.scope.get(EXPORT_SCOPE_KEY):
        return FilterArguments([f"{key} in ({search.matches()})"], search.params, extra_context=context)

    async def capped():
        db = datasette.get_database(database)
        params = {**search.params, "pressmon_cap": config.cap}
        scanned = False
        if search.words:
            keys, scanned = await db.execute_fn(lambda connection: _passed_keys(connection, search, config))
            found = len(keys)
            keep = keys[:config.cap]
            params.update(pressmon_token=_remember(frozenset(keep)), pressmon_floor=keep[-1] if keep else 0)
            clause = search.passing()
        else:
            # Whether there are more than the cap: one walk of at most cap + 1 items.
            found = (await db.execute(f"select count(*) from ({search.newest(str(config.cap + 1))})",
                                      params)).single_value()
            clause = search.newest(":pressmon_cap")
        return FilterArguments(
            [f"{key} in ({clause})"],
            params,
            extra_context={**context, "pressmon_search_cap": config.cap if found > config.cap else None,
                           "pressmon_search_scanned": config.scan if scanned else None},
        )

    return capped
