"""The SQLite store: one database file (WAL) with a versioned schema, and the WARC archive of
fetched pages beside it.

    database.py    Store: every write one transaction (articles, runs, errors, decisions, verdicts)
    migrations.py  the schema as an ordered list of migrations (PRAGMA user_version)
    checks.py      is this file a pressmon database? (before anything opens it)
    warc.py        fetched article pages as WARC records, read back byte for byte
"""

from pressmon.pipeline.store.checks import DatabaseProblem, check_database, read_only
from pressmon.pipeline.store.database import Store, new_run_id
from pressmon.pipeline.store.migrations import immediate_transaction

__all__ = ["DatabaseProblem", "Store", "check_database", "immediate_transaction", "new_run_id",
           "read_only"]
