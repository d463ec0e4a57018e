"""Datasette plugin: who may see and do what on the published database.

Three roles: anonymous, reviewer and admin (pipeline/accounts.py keeps the accounts). The
settings come from `datasette.pressmon_access` (pipeline/publish.py sets it): the accounts
file and whether anonymous visitors may read (`--public`).

| | anonymous | anonymous, --public | reviewer | admin |
|---|---|---|---|---|
| coverage pages (home, tables, canned queries, charts, item pages) | login | read | read | read |
| verdicts and topic_decisions (reviewers' names and notes) | login | login | read | read |
| SQL of one's own (`sql=`, `_where=`) | login | 403 | 403 | yes |
| /-/review | login | login | yes | yes |
| its POSTs (a verdict), /-/logout | 403 | 403 | yes | yes |
| Datasette's debug pages (/-/metadata, /-/plugins, …) | login | 403 | 403 | yes |
| any other POST, PUT, DELETE… | 403 | 403 | 403 | 403 |

The role is read from the accounts file on every request, not from the login cookie, so an
account removed or demoted loses its rights at once. datasette-auth-passwords checks the
password at /-/login; it reads the accounts through the `get_metadata` hook below. A gate
(asgi_wrapper) sits in front of every route, plugins' routes included, so a page that forgets
to ask for a permission is still covered; `permission_allowed` tells Datasette the same rules
so that its lists (tables, queries) show only what the visitor may open.

The charts (datasette-dashboards) fetch their data as `/<db>.json?sql=<the chart's query>`
from the browser, which Datasette only answers with the `execute-sql` permission. So that
permission is granted to whoever may read, and the gate lets a non-admin's `sql=` through
only when it is, word for word, one of the configured charts' queries.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

from datasette import hookimpl
from datasette.actor_auth_cookie import actor_from_request as cookie_actor
from datasette.utils.asgi import Request, Response

# Paths anyone may fetch: the login form and static files.
OPEN_PATHS = ("/-/login", "/-/static/", "/-/static-plugins/", "/pressmon-static/", "/favicon.ico")
# Datasette's own inspection and debugging pages, and the plugin's password tool.
ADMIN_PATHS = ("/-/metadata", "/-/plugins", "/-/settings", "/-/config", "/-/threads", "/-/databases",
               "/-/versions", "/-/permissions", "/-/allow-debug", "/-/messages", "/-/patterns",
               "/-/password-tool")
# The only POSTs the site answers (and the role they need): logging in and out, and a verdict.
POST_PATHS = {"/-/login": None, "/-/logout": "reviewer", "/-/review": "reviewer", "/-/review/verdict": "reviewer"}
# Where reviewers' names and notes are: not for anonymous visitors.
STAFF_TABLES = {"verdicts", "topic_decisions", "current_decisions"}
RANK = {None: 0, "reviewer": 1, "admin": 2}


def access(datasette):
    """The served database's Access (publish.py), or None when Datasette was started some
    other way: then no one has an account and nothing is public."""
    return getattr(datasette, "pressmon_access", None)


class _AccountCache:
    """The accounts file read again only when it changed (Datasette asks for plugin
    configuration many times a page)."""

    def __init__(self):
        self._stamp = None
        self._hashes: dict[str, tuple[str, str]] = {}

    def hashes(self, accounts) -> dict[str, tuple[str, str]]:
        try:
            stat = os.stat(accounts.path)
            stamp = (str(accounts.path), stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            return {}
        if stamp != self._stamp:
            self._hashes, self._stamp = accounts.password_hashes(), stamp
        return self._hashes


_cache = _AccountCache()


def role_of(datasette, actor) -> str | None:
    """The current role of the actor's account: None for anonymous visitors and for a
    cookie whose account no longer exists."""
    settings = access(datasette)
    if not actor or settings is None:
        return None
    account = _cache.hashes(settings.accounts).get(actor.get("id"))
    return account[0] if account else None


def is_staff(datasette, actor) -> bool:
    return RANK[role_of(datasette, actor)] >= RANK["reviewer"]


@hookimpl
def get_metadata(datasette, key, database, table):
    # Only the plugin section, only when asked for by that key: /-/metadata (which asks with
    # no key) never shows a hash.
    settings = access(datasette)
    if key != "plugins" or settings is None:
        return {}
    hashes = _cache.hashes(settings.accounts)
    config = {f"{name}_password_hash": digest for name, (_, digest) in hashes.items()}
    config["actors"] = {name: {"id": name, "role": role} for name, (role, _) in hashes.items()}
    return {"plugins": {"datasette-auth-passwords": config}}


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    settings = access(datasette)
    role = role_of(datasette, actor)
    if role == "admin":
        return True
    if role == "reviewer":
        # execute-sql: the gate lets only the charts' queries through.
        return True if action.startswith("view-") or action == "execute-sql" else None
    # Anonymous.
    if settings is None or not settings.public:
        return False
    if action == "view-table" and resource and resource[1] in STAFF_TABLES:
        return False
    return action in ("view-instance", "view-database", "view-table", "view-query", "execute-sql")


@hookimpl
def forbidden(datasette, request, message):
    if role_of(datasette, request.actor) is None:
        return login_redirect(datasette)


def login_redirect(datasette):
    return Response.redirect(datasette.urls.path("/-/login"), status=303)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def gate(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            scope = _with_current_actor(datasette, scope)
            refusal = _refusal(datasette, scope)
            if isinstance(refusal, str):
                refusal = await _refusal_page(datasette, scope, refusal)
            if refusal is not None:
                return await refusal.asgi_send(send)
            return await app(scope, receive, send)

        return gate

    return wrap


def _with_current_actor(datasette, scope):
    """The request as Datasette and the templates should see it: a login cookie whose account
    is gone is dropped, and one whose role changed carries the current role, so that every
    `request.actor` downstream says what the accounts file says now. The scope's `actor` is
    set too: Datasette looks the actor up only once a route matched, so its 404 and error
    pages then know who is logged in as well."""
    actor = _cookie_actor(datasette, scope)
    role = role_of(datasette, actor)
    current = {"id": actor["id"], "role": role} if role else None
    if not actor or role == actor.get("role"):
        return dict(scope, actor=current)
    replacement = "" if role is None else datasette.sign({"a": current}, "actor")
    headers = []
    for name, value in scope.get("headers") or []:
        if name == b"cookie":
            kept = [part for part in value.decode("latin-1").split(";") if not part.strip().startswith("ds_actor=")]
            if replacement:
                kept.append(f" ds_actor={replacement}")
            value = ";".join(kept).strip().encode("latin-1")
        headers.append((name, value))
    return dict(scope, headers=headers, actor=current)


def _refusal(datasette, scope) -> Response | str | None:
    """The answer to a request its visitor may not make — a redirect to the login page or
    the reason for a 403 — or None to let it through. `scope["actor"]` is the current one
    (_with_current_actor)."""
    path, method = scope["path"], scope["method"]
    settings = access(datasette)
    role = (scope["actor"] or {}).get("role")
    if method not in ("GET", "HEAD"):
        needed = POST_PATHS.get(path, "nobody") if method == "POST" else "nobody"
        if needed is None or (needed in RANK and RANK[role] >= RANK[needed]):
            return None
        return "Không được phép gửi dữ liệu tới địa chỉ này."
    if path.startswith(OPEN_PATHS):
        return None
    if role is None and (settings is None or not settings.public or path.startswith("/-/review")):
        return login_redirect(datasette)
    if role != "admin" and path.startswith(ADMIN_PATHS):
        return "Trang này chỉ dành cho quản trị viên."
    if role != "admin" and _runs_own_sql(datasette, scope):
        return "Chỉ quản trị viên được chạy câu lệnh SQL tự viết."
    return None


def _runs_own_sql(datasette, scope) -> bool:
    args = parse_qs((scope.get("query_string") or b"").decode("latin-1"), keep_blank_values=True)
    if any(key.startswith("_where") for key in args):
        return True
    return any(sql not in _chart_queries(datasette) for sql in args.get("sql", []))


def _chart_queries(datasette) -> set[str]:
    dashboards = datasette.plugin_config("datasette-dashboards") or {}
    return {chart.get("query") for dashboard in dashboards.values() if isinstance(dashboard, dict)
            for chart in (dashboard.get("charts") or {}).values()}


async def _refusal_page(datasette, scope, message: str) -> Response:
    """A 403 on the site's own error page."""
    # The gate runs before Datasette's CSRF middleware: a 403 page has no form to protect.
    request = Request(dict(scope, csrftoken=lambda: ""), None)
    html = await datasette.render_template(
        "error.html", {"ok": False, "error": message, "status": 403, "title": "Không được phép"}, request=request)
    return Response.html(html, status=403)


def _cookie_actor(datasette, scope) -> dict | None:
    """The actor of the signed login cookie, read as Datasette itself reads it."""
    return cookie_actor(datasette, Request(scope, None))
