"""Publishing: serve the database with Datasette."""

from __future__ import annotations

import click

from pressmon.pipeline.cli.options import db_option, fail


@click.command()
@db_option("SQLite file to publish (a pressmon database).")
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. Any other than loopback needs an account (pressmon users add).")
@click.option("--public", is_flag=True,
              help="Let anonymous visitors read the coverage pages (no SQL of their own, no reviewers' names or "
                   "notes); without it every page asks for a login.")
def serve(db_path, port, host, public):
    """Publish the database with Datasette: staff log in at /-/login to read and to review.

    The site never writes to the database except a reviewer's verdict. Accounts: pressmon
    users add.

    \b
    Example:
        pressmon serve --port 8001
        pressmon serve --public --host 0.0.0.0 --port 80
    """
    from pressmon.pipeline.publish import AccessRefused, PortInUse, check_access, check_port
    from pressmon.pipeline.publish import serve as serve_datasette

    try:
        check_access(db_path, host, public)
        check_port(host, port)
    except (AccessRefused, PortInUse) as exc:
        raise fail(str(exc)) from None
    who = "anyone may read; staff log in to review" if public else "log in to read"
    click.echo(f"Datasette: http://{host}:{port}/ ({who}; Ctrl-C stops it)")
    serve_datasette(db_path, host=host, port=port, public=public)


COMMANDS = (serve,)
