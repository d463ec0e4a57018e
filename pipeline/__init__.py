"""pressmon's pipeline: what wires the crawlers and the language work to the database and to
the people who use it. One subpackage per role:

    store/      the SQLite database, its migrations and checks, the WARC archive beside it
    crawl/      the Scrapy glue: item pipelines, settings, the crawl runner and its summary
    decisions/  the topic decision on stored items, and the staff verdicts that override it
    nightly/    the nightly cycle, its lock, schedule and log; source health, mail, canary
    reports/    the annual report (one writer per format) and the evidence behind it
    publish.py  Datasette around the database, with the site of the repository's datasette/
    cli/        the `pressmon` command, one module per area
"""
