"""Nightly operation: the cycle (crawl child → classify → publish) and its lock, the
schedule, the nightly log, source health with its morning summary and e-mail, and the
canary that checks each outlet's newest article still extracts."""
