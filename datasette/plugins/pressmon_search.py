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
(plugin configuration `pressmon-search: cap`, 5,000): rows, count and facets then cost the
same for rare and common words, and the rows come in key order without a sort (the tables'
default order is `search_key` descending). When there are more matches the page says "hơn
5.000 bài" and that its counts and facets are over the newest 5,000; filters and other sort
orders apply within those. An export (pressmon_exports marks its request) gets every match.

Words typed with diacritics. The folding also throws away diacritics typed on purpose:
"Hòa" would find "hóa" and "họa". So when a `_search` word carries diacritics, only the items
containing that word exactly — case-insensitive, after Unicode NFC and new-style tone
placement (`pressmon.nlp.normalize.normalize_text`, as the stored text), so "Hoà", "HÒA" and
"hòa" are one word — in the title, lead or body are kept. Words without diacritics keep
matching every spelling: "Hòa hoi" requires "hòa" exactly and "hoi" in any form. We filter
rather than rank: Datasette 0.65 offers no hook to reorder a table page, and a person who types
the marks means that word. The typed words are looked up in `articles_fts_exact` (migration 13,
`remove_diacritics 0`, keyed by search_key too), the whole query in `articles_fts`: once per
page the plugin walks both newest first and keeps the keys found in both, the first `cap` + 1
(under a random token, for the few most recent pages), and the page's queries look keys up
with `pressmon_search_passed(token, rowid)`. The walk reads at most `scan` keys (plugin
configuration) and the page says when it stopped there; when every word carries marks, the
exact index alone answers. An export takes every key of both indexes.
"""

from __future__ import annotations

import itertools
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
EXACT_TABLE = "articles_fts_exact"
PASSED_FUNCTION = "pressmon_search_passed"
# The request scope key pressmon_exports sets: an export gets every match, not the cap.
EXPORT_SCOPE_KEY = "pressmon_export"
DEFAULT_CAP = 5_000
DEFAULT_SCAN = 200_000
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


def query_words(query: str) -> list[str]:
    """The words of a search, normalised and in lower case, once each."""
    return list(dict.fromkeys(_WORD_RE.findall((normalize_text(query) or "").lower())))


def typed_words(query: str) -> list[str]:
    """The words of a search that carry diacritics; a word without diacritics is not among
    them (it matches every spelling)."""
    return [w for w in query_words(query) if fold(w) != w]


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


# Per read connection: a search walks up to 5,000 entries of the search-key index and the
# FTS5 doclists, which SQLite's default 2 MB page cache evicts between two requests.
READ_CACHE_KIB = 65_536


@hookimpl
def prepare_connection(conn):
    conn.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")
    conn.create_function(PASSED_FUNCTION, 2, passed)


class Search(NamedTuple):
    """One `_search` of a configured table, as SQL over articles_fts."""

    query: str
    words: tuple[str, ...]  # typed with diacritics
    raw: bool

    @property
    def every_word_typed(self) -> bool:
        return len(self.words) == len(query_words(self.query))

    @property
    def params(self) -> dict:
        return {"pressmon_search": self.query, "pressmon_exact": " ".join(f'"{w}"' for w in self.words)}

    def _match(self, columns: str = "rowid") -> str:
        match = ":pressmon_search" if self.raw else "escape_fts(:pressmon_search)"
        return f"select {columns} from {FTS_TABLE} where {FTS_TABLE} match {match}"

    def _exact(self) -> str:
        return f"select rowid from {EXACT_TABLE} where {EXACT_TABLE} match :pressmon_exact"

    def matches(self) -> str:
        """Every item the search finds, typed words as typed, newest first."""
        exact = f" and rowid in ({self._exact()})" if self.words else ""
        return f"{self._match()}{exact} order by rowid desc"

    def newest(self, limit: str) -> str:
        """The newest `limit` items the search finds (words typed without diacritics): FTS5
        walks its index newest first and stops at the limit; there is no sort."""
        return f"{self._match()} order by rowid desc limit {limit}"

    def passing(self) -> str:
        """The items of a page whose typed words were found once (`_passed_keys`): the walk
        covers the keys from the newest down to the lowest that passed, and only looks up
        each key."""
        return (f"{self._match()} and rowid >= :pressmon_floor "
                f"and {PASSED_FUNCTION}(:pressmon_token, rowid) order by rowid desc")


def _passed_keys(connection, search: Search, config: SearchConfig) -> tuple[list[int], bool]:
    """The keys of the newest cap + 1 items with the typed words as typed and every word in any
    spelling, reading at most `scan` keys of the two indexes; and whether it stopped there."""
    exact = (key for (key,) in connection.execute(f"{search._exact()} order by rowid desc", search.params))
    if search.every_word_typed:
        # Every word typed with marks: the exact index alone says which items have them all.
        keys = list(itertools.islice(exact, min(config.cap + 1, config.scan)))
        return keys, len(keys) == config.scan <= config.cap
    folded = (key for (key,) in connection.execute(f"{search._match()} order by rowid desc", search.params))
    keys, read = [], 0
    a, b = next(exact, None), next(folded, None)
    # Both walks come newest first (descending keys): step the one that is ahead.
    while a is not None and b is not None and len(keys) <= config.cap:
        if read >= config.scan:
            return keys, True
        read += 1
        if a == b:
            keys.append(a)
            a, b = next(exact, None), next(folded, None)
        elif a > b:
            a = next(exact, None)
        else:
            b = next(folded, None)
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
