"""Datasette plugin: a search typed with diacritics matches the words as typed.

`articles_fts` is tokenized `unicode61 remove_diacritics 2` and also indexes a folded copy of
the text (đ → d), so that a query without diacritics finds every spelling: `dak doa` finds
"Đắk Đoa" and "Đak Đoa". The same folding throws away diacritics typed on purpose: "Hòa"
would also find "hóa" and "họa". So when a `_search` word carries diacritics, this plugin
adds a where-clause keeping only the items that contain that word exactly — case-insensitive,
after Unicode NFC and new-style tone placement (`pressmon.nlp.normalize.normalize_text`), so
"Hoà", "HÒA" and "hòa" are the same word — in the title, lead or body. Words typed without
diacritics keep matching every spelling: "Hòa hoi" requires "hòa" exactly and "hoi" in any
form. We filter rather than rank: Datasette 0.65 offers no hook to reorder a table page, and
a person who types the marks means that word; typing without marks is the way to find every
spelling (the place names' variants Đắk/Đăk/Đak included).

It applies to every table or view whose metadata names `fts_table: articles_fts` (the
articles table and the article list built on it) and only to a plain `_search`, in the
table's search mode. The check is a Python function registered on Datasette's read
connections; it runs only on the rows the FTS index already matched (the clause repeats the
FTS match in its own subquery), so a search costs what it did plus one regular-expression
scan of each matching item.
"""

from __future__ import annotations

import re
from functools import lru_cache

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite

from pressmon.nlp.normalize import fold, normalize_text

FTS_TABLE = "articles_fts"
SQL_FUNCTION = "pressmon_has_words"
# A word as FTS5's unicode61 tokenizer cuts it: letters and digits, nothing else.
_WORD_RE = re.compile(r"[^\W_]+")


def typed_words(query: str) -> list[str]:
    """The words of a search that carry diacritics, normalised and in lower case; a word
    without diacritics is not among them (it matches every spelling)."""
    words = _WORD_RE.findall((normalize_text(query) or "").lower())
    return list(dict.fromkeys(w for w in words if fold(w) != w))


@lru_cache(maxsize=256)
def _pattern(words: str) -> list[re.Pattern[str]]:
    return [re.compile(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", re.IGNORECASE)
            for word in words.split()]


def has_words(words: str, *fields: str | None) -> int:
    """1 when every word of `words` (space-separated, from `typed_words`) is a whole word of
    one of `fields`, else 0."""
    text = normalize_text("\n".join(f for f in fields if f)) or ""
    return int(all(p.search(text) for p in _pattern(words)))


@hookimpl
def prepare_connection(conn):
    conn.create_function(SQL_FUNCTION, -1, has_words, deterministic=True)


@hookimpl
def filters_from_request(request, database, table, datasette):
    search = request.args.get("_search")
    if not table or not search:
        return None
    metadata = datasette.table_metadata(database, table)
    if (request.args.get("_fts_table") or metadata.get("fts_table")) != FTS_TABLE:
        return None
    words = typed_words(search)
    if not words:
        return None
    fts_pk = request.args.get("_fts_pk", metadata.get("fts_pk", "rowid"))
    # The same search mode as Datasette's own clause (filters.search_filters).
    raw = request.args.get("_searchmode", metadata.get("searchmode")) == "raw"
    match = ":pressmon_search" if raw else "escape_fts(:pressmon_search)"
    clause = (f"{escape_sqlite(fts_pk)} in (select rowid from {FTS_TABLE} where {FTS_TABLE} match {match} "
              f"and {SQL_FUNCTION}(:pressmon_words, title, lead, body))")
    return FilterArguments(
        [clause],
        {"pressmon_search": search, "pressmon_words": " ".join(words)},
        # Templates can say which words had to match as typed.
        extra_context={"search_exact_words": words},
    )
