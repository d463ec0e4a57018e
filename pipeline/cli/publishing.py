"""Publishing: serve the database with Datasette."""

from __future__ import annotations

import click

from pressmon.pipeline.cli.options import db_option, fail


@click.command()
@db_option("SQLite file to publish (a pressmon database).")
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
def serve(db_path, port, host):
    """Publish the database with Datasette (read-only for everyone).

    \b
    Example:
        pressmon serve --port 8001
    """
    from pressmon.pipeline.publish import PortInUse, check_port, serve as serve_datasette

    try:
        check_port(host, port)
    except PortInUse as exc:
        raise fail(str(exc)) from None
    click.echo(f"Datasette: http://{host}:{port}/ (Ctrl-C stops it)")
    serve_datasette(db_path, host=host, port=port)


COMMANDS = (serve,)
