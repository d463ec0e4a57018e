"""Reports and evidence for the annual duty: report, evidence."""

from __future__ import annotations

from pathlib import Path

import click

from pressmon.nlp.documents import DOCUMENT_LABELS, TOPICS
from pressmon.pipeline.cli.options import check_output, db_option, fail, written_whole


def _format_of(output: str, fmt: str | None) -> str:
    """The format to write: --format, else the extension of -o; the two must agree."""
    from pressmon.pipeline.reports import FORMATS

    extension = Path(output).suffix.lower().lstrip(".")
    if fmt is None:
        if extension not in FORMATS:
            raise fail(f"-o {output}: cannot tell the format from the name; end it in "
                       f"{', '.join('.' + f for f in FORMATS)} or pass --format")
        return extension
    if extension and extension != fmt:
        raise fail(f"-o {output} ends in .{extension} but --format is {fmt}: "
                   f"name it {Path(output).with_suffix('.' + fmt).name} or drop --format")
    return fmt


@click.command()
@db_option("SQLite file to report from.")
@click.option("--year", type=click.IntRange(2000, 2100), metavar="YYYY",
              help="Calendar year of publication (Asia/Ho_Chi_Minh dates).")
@click.option("--topic", type=click.Choice([*TOPICS, "all"]), default="all", show_default=True,
              help="Document: " + ", ".join(f"{t} ({label})" for t, label in DOCUMENT_LABELS.items()) + " or all.")
@click.option("--from", "date_from", metavar="DATE",
              help="First publication day, YYYY-MM-DD or DD/MM/YYYY (inclusive; within --year if given).")
@click.option("--to", "date_to", metavar="DATE",
              help="Last publication day, YYYY-MM-DD or DD/MM/YYYY (inclusive; within --year if given).")
@click.option("--include-probable", is_flag=True,
              help="Also count 'probable' items that no reviewer has rejected.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "docx", "csv"]), default=None,
              help="Output format (default: from the extension of -o; the two must agree).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="File to write (replaced if it exists; written whole or not at all).")
@click.option("--author", metavar="NAME", envvar="PRESSMON_AUTHOR", show_envvar=True,
              help="Author of the DOCX and XLSX files (default: Sở Văn hóa, Thể thao và Du lịch tỉnh Gia Lai).")
def report(db_path, year, topic, date_from, date_to, include_probable, fmt, output, author):
    """Write the coverage report (counts per outlet × month × document, per outlet kind, per
    commune, and an annex of every counted item) as XLSX, DOCX or CSV.

    Counted: items that cite the document or that a reviewer confirmed, never rejected ones;
    add --include-probable to count unreviewed 'probable' items too.

    \b
    Examples:
      pressmon report --year 2026 -o bao-cao-2026.docx
      pressmon report --year 2026 --topic ct20 --from 2026-01-01 --to 2026-06-30 -o ct20-6-thang.xlsx
    """
    from pressmon.crawlers.dates import parse_day
    from pressmon.pipeline.reports import write_report
    from pressmon.pipeline.reports.counting import counted_items, empty_sentence, report_meta, summary_sentence

    fmt = _format_of(output, fmt)
    check_output(output)
    if year is None and date_from is None and date_to is None:
        raise fail("say which period: --year YYYY, or --from DATE and/or --to DATE")
    try:
        start = parse_day(date_from) if date_from else None
        end = parse_day(date_to) if date_to else None
        meta = report_meta(year, start, end, topic, include_probable, author)
    except ValueError as exc:
        raise fail(str(exc)) from None
    items = counted_items(db_path, year, start, end, topic, include_probable)
    with written_whole(output) as tmp:
        write_report(fmt, items, tmp, meta)
    click.echo(summary_sentence(items, meta) if items else empty_sentence(meta))
    click.echo(f"{output}: {fmt}")


@click.command()
@click.argument("article_id", required=False, type=int)
@db_option("SQLite file whose articles' evidence to export.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="With ARTICLE_ID: the file for the page body, byte for byte. Otherwise: the zip pack.")
@click.option("--year", type=int, help="Pack the counted items published in this year.")
@click.option("--topic", type=click.Choice([*TOPICS, "all"]), default="all", show_default=True,
              help="Pack only the items counted for this document.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def evidence(article_id, db_path, out_path, year, topic, force):
    """Export archived pages: one article's body as fetched, or a pack of WARC records with a
    CSV manifest of hashes for the items a report counts.

    \b
    Examples:
        pressmon evidence 42 --out trang-42.html
        pressmon evidence --year 2026 --topic ct20 --out pack.zip
    """
    from pressmon.pipeline.reports.evidence import EvidenceError, article_page, build_pack, pack_rows

    if article_id is None and year is None:
        raise fail("say what to export: ARTICLE_ID for one page, or --year YYYY for a pack")
    out = check_output(out_path, force=force, option="--out")
    try:
        if article_id is not None:
            body, digest = article_page(db_path, article_id)
            with written_whole(out) as tmp:
                tmp.write_bytes(body)
            click.echo(f"{out}: {len(body)} bytes, SHA-256 {digest}")
            return
        rows = pack_rows(db_path, year, topic)
        if not rows:
            raise fail(f"no counted item with an archived page in {year}"
                       + ("" if topic == "all" else f" for {topic}") + ": nothing written")
        pack = build_pack(rows, Path(db_path).resolve().parent)
    except EvidenceError as exc:
        raise fail(str(exc)) from None
    with written_whole(out) as tmp:
        tmp.write_bytes(pack)
    click.echo(f"{out}: {len(rows)} records")


COMMANDS = (report, evidence)
