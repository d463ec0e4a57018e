"""Scrapy settings with pressmon's item pipelines: what `scrapy crawl <outlet>` (scrapy.cfg)
and `pressmon crawl` both use. Spider settings proper live in crawlers/settings.py."""

from pressmon.crawlers.settings import *  # noqa: F401,F403 — this module *is* those settings plus ours

ITEM_PIPELINES = {
    "pressmon.pipeline.crawl.item_pipelines.NormalizePipeline": 100,
    "pressmon.pipeline.crawl.item_pipelines.LanguagePipeline": 300,
    "pressmon.pipeline.crawl.item_pipelines.StorePipeline": 900,
}
# The SQLite file the crawl writes to; `-s PRESSMON_DB=path` or `pressmon crawl --db`.
PRESSMON_DB = "pressmon.db"
# The topic model (`pressmon nlp train` writes it); None: decisions.classify.default_model_path().
PRESSMON_MODEL = None
# Processes doing the language work (references, places, classification) beside the reactor;
# None: one per core (os.cpu_count()). They are forked once per crawl, sharing its one model.
PRESSMON_LANGUAGE_WORKERS = None
# Added to the workers' nice value: a staff site served from the same machine stays responsive
# while a crawl runs (0: same priority as the crawl).
PRESSMON_LANGUAGE_NICENESS = 10
# Where article responses are archived as WARC; None: a folder beside the database.
PRESSMON_WARC_DIR = None
# All spiders of one `pressmon crawl` share a run id (the nightly cycle passes its own); a bare
# `scrapy crawl` makes one.
PRESSMON_RUN_ID = None
