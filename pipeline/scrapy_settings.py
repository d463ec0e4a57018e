"""Scrapy settings with pressmon's item pipelines: what `scrapy crawl <outlet>` and
`pressmon crawl` both use. Spider settings proper live in crawlers.settings."""

from crawlers.settings import *  # noqa: F401,F403 — this module *is* those settings plus ours

ITEM_PIPELINES = {
    "pipeline.item_pipelines.NormalizePipeline": 100,
    "pipeline.item_pipelines.ReferencePipeline": 200,
    "pipeline.item_pipelines.PlacesPipeline": 250,
    "pipeline.item_pipelines.ClassifyPipeline": 300,
    "pipeline.item_pipelines.StorePipeline": 900,
}
# The SQLite file the crawl writes to; `-s PRESSMON_DB=path` or `pressmon crawl --db`.
PRESSMON_DB = "pressmon.db"
# The topic model (`pressmon nlp train` writes it); None: pipeline.classify.DEFAULT_MODEL.
PRESSMON_MODEL = None
# Where article responses are archived as WARC; None: a folder beside the database.
PRESSMON_WARC_DIR = None
# All spiders of one `pressmon crawl` share a run id; a bare `scrapy crawl` makes its own.
PRESSMON_RUN_ID = None
