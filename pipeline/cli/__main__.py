"""`python -m pressmon.pipeline.cli`: how the nightly cycle starts its crawl child."""

from pressmon.pipeline.cli import main

main()
