"""Who may see and do what on the published site: the permission matrix route by route for
each role, logging in through the real /-/login form, CSRF on every POST, no write path for
anonymous visitors, accounts on disk and on the command line.

Through Datasette's in-process client on a database built by the real Store; the accounts are
made with the same code as `pressmon users add`."""

from __future__ import annotations

import re
import shutil
import sqlite3
from urllib.parse import urlencode

import pytest

from pressmon.pipeline.accounts import AccountError, Accounts, accounts_path
from pressmon.pipeline.publish import AccessRefused, check_access, load_metadata, make_datasette
from pressmon.pipeline.store import Store

from conftest import pressmon, query

PASSWORDS = {"lan.pham": "mat-khau-cua-lan", "quantri": "mat-khau-quan-tri"}
OUTLETS = [{"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper", "family": "zce",
            "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/", "language": "vi"}]


def article(n: int) -> dict:
    return {"url": f"https://baogialai.com.vn/bai-mau-post{n}.html", "outlet_id": "baogialai",
            "title": f"Bài mẫu số {n} về thu gom rác", "lead": "Sa-pô mẫu.", "body": f"Nội dung mẫu của bài số {n}.",
            "published_at": f"2026-0{n}-10T08:00:00+07:00", "media_kind": "text", "language": "vi"}


@pytest.fixture(scope="module")
def site_db(tmp_path_factory):
    """A database with one cited and two probable items, a verdict with a note, and two
    accounts: a reviewer and an admin."""
    path = tmp_path_factory.mktemp("access") / "pressmon.db"
    with Store(path) as store:
        store.sync_outlets(OUTLETS)
        for n, tier in ((1, "cited"), (2, "probable"), (3, "probable")):
            store.save_article("run-1", article(n), classification={"model_version": "m1", "topics": {
                "qd1894": {"tier": tier, "probability": 0.8, "evidence": [{"text": "Quyết định 1894/QĐ-TTg"}]},
                "ct20": {"tier": "none", "probability": 0.1, "evidence": []}}})
        store.add_verdict(1, "qd1894", "confirmed", "chi.nguyen", "ghi chú riêng của cán bộ")
    accounts = Accounts.beside(path)
    accounts.add("lan.pham", "reviewer", PASSWORDS["lan.pham"])
    accounts.add("quantri", "admin", PASSWORDS["quantri"])
    return path


@pytest.fixture
def db(site_db, tmp_path):
    """A copy per test, accounts included, for tests that write."""
    path = tmp_path / "pressmon.db"
    shutil.copy(site_db, path)
    shutil.copy(accounts_path(site_db), accounts_path(path))
    return path


async def log_in(ds, name: str, password: str | None = None):
    """Log in through the form as a browser does: GET the form (CSRF cookie and token), POST it.
    Returns (response, cookies)."""
    form = await ds.client.get("/-/login")
    assert form.status_code == 200
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text).group(1)
    assert 'name="username"' in form.text and 'name="password"' in form.text
    cookies = {"ds_csrftoken": form.cookies["ds_csrftoken"]}
    response = await ds.client.post("/-/login", data={"username": name, "password": password or PASSWORDS[name],
                                                      "csrftoken": token}, cookies=cookies)
    if "ds_actor" in response.cookies:
        cookies["ds_actor"] = response.cookies["ds_actor"]
    return response, cookies


async def csrf_token(ds, cookies) -> str:
    """A CSRF token for `cookies` (as any page's form would carry it)."""
    page = await ds.client.get("/-/login", cookies=cookies)
    return re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)


def chart_query(db_path) -> str:
    charts = load_metadata(db_path)["plugins"]["datasette-dashboards"]["do-phu-tuyen-truyen"]["charts"]
    return charts["theo-thang"]["query"]


# What each visitor gets: (login-required site, anonymous), (--public site, anonymous),
# reviewer, admin. 303 is the way to the login page.
ROLES = ("anonymous", "public", "reviewer", "admin")
MATRIX = [
    ("/", (303, 200, 200, 200)),
    ("/pressmon", (303, 200, 200, 200)),
    ("/pressmon/article_list", (303, 200, 200, 200)),
    ("/pressmon/article_list.json?_search=thu+gom", (303, 200, 200, 200)),
    ("/pressmon/articles", (303, 200, 200, 200)),
    ("/pressmon/articles.json", (303, 200, 200, 200)),
    ("/pressmon/articles/1", (303, 200, 200, 200)),
    ("/pressmon/articles?_search=thu+gom", (303, 200, 200, 200)),
    ("/pressmon/outlets", (303, 200, 200, 200)),
    ("/pressmon/coverage_by_document", (303, 200, 200, 200)),
    ("/pressmon/crawl_health", (303, 200, 200, 200)),
    ("/-/dashboards/do-phu-tuyen-truyen", (303, 200, 200, 200)),
    ("CHART", (303, 200, 200, 200)),
    ("/pressmon/articles.csv?_stream=on", (303, 200, 200, 200)),
    ("/pressmon/verdicts", (303, 303, 200, 200)),
    ("/pressmon/verdicts.json", (303, 303, 200, 200)),
    ("/pressmon/topic_decisions", (303, 303, 200, 200)),
    ("/pressmon/current_decisions", (303, 303, 200, 200)),
    ("/pressmon/decision_counts", (303, 200, 200, 200)),
    ("/pressmon?sql=select+1", (303, 403, 403, 200)),
    ("/pressmon.json?sql=select+name+from+sqlite_master", (303, 403, 403, 200)),
    ("/pressmon/articles?_where=id+>+0", (303, 403, 403, 200)),
    ("/-/review", (303, 303, 200, 200)),
    ("/-/metadata", (303, 403, 403, 200)),
    ("/-/plugins.json", (303, 403, 403, 200)),
    ("/-/settings.json", (303, 403, 403, 200)),
    ("/-/databases.json", (303, 403, 403, 200)),
    ("/-/permissions", (303, 403, 403, 200)),
    ("/-/password-tool", (303, 403, 403, 200)),
    ("/-/login", (200, 200, 200, 200)),
    ("/-/static/app.css", (200, 200, 200, 200)),
    ("/pressmon-static/review.js", (200, 200, 200, 200)),
]


async def test_permission_matrix_route_by_route(site_db):
    sites = {"anonymous": make_datasette(site_db), "public": make_datasette(site_db, public=True)}
    sites["reviewer"] = sites["admin"] = sites["anonymous"]
    cookies = {"anonymous": {}, "public": {}}
    for role, name in (("reviewer", "lan.pham"), ("admin", "quantri")):
        response, cookies[role] = await log_in(sites[role], name)
        assert response.status_code == 302, response.text[:300]
    got = {}
    for path, _ in MATRIX:
        url = "/pressmon.json?" + urlencode({"sql": chart_query(site_db), "_shape": "objects"}) if path == "CHART" else path
        got[path] = tuple([(await sites[role].client.get(url, cookies=cookies[role])).status_code for role in ROLES])
    assert got == dict(MATRIX)


async def test_login_form_sets_a_session_and_wrong_passwords_do_not(site_db):
    ds = make_datasette(site_db)
    response, cookies = await log_in(ds, "lan.pham", "sai-mat-khau-roi")
    assert "ds_actor" not in cookies
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.text
    response, cookies = await log_in(ds, "khong.co", "mat-khau-bat-ky")
    assert "ds_actor" not in cookies
    response, cookies = await log_in(ds, "lan.pham")
    assert response.status_code == 302
    actor = (await ds.client.get("/-/actor.json", cookies=cookies)).json()["actor"]
    assert actor == {"id": "lan.pham", "role": "reviewer"}


async def test_login_without_csrf_token_is_refused(site_db):
    # asgi-csrf checks every POST that carries cookies (a forged form posted from another site
    # carries the visitor's); a browser that has opened the site holds the CSRF cookie.
    ds = make_datasette(site_db)
    cookies = {"ds_csrftoken": (await ds.client.get("/-/login")).cookies["ds_csrftoken"]}
    response = await ds.client.post("/-/login", data={"username": "lan.pham", "password": PASSWORDS["lan.pham"]},
                                    cookies=cookies)
    assert response.status_code == 403
    assert "ds_actor" not in response.cookies


async def test_every_post_needs_a_csrf_token(db):
    ds = make_datasette(db)
    _, cookies = await log_in(ds, "lan.pham")
    verdict = {"article_id": "2", "topic": "qd1894", "action": "confirmed", "next": "/"}
    for path in ("/-/review", "/-/review/verdict", "/-/logout"):
        response = await ds.client.post(path, data=verdict, cookies=cookies)
        assert response.status_code == 403, path
        wrong = await ds.client.post(path, data={**verdict, "csrftoken": "forged"}, cookies=cookies)
        assert wrong.status_code == 403, path
    assert query(db, "select count(*) from verdicts") == [(1,)]
    # The same form with the token is recorded.
    token = await csrf_token(ds, cookies)
    response = await ds.client.post("/-/review/verdict", data={**verdict, "csrftoken": token}, cookies=cookies)
    assert response.status_code == 303
    assert query(db, "select article_id, verdict, reviewer from verdicts where id = 2") == [(2, "confirmed", "lan.pham")]


async def test_anonymous_visitors_have_no_write_path(db):
    before = query(db, "select count(*) from verdicts")
    for public in (False, True):
        ds = make_datasette(db, public=public)
        page = await ds.client.get("/-/login")
        cookies = {"ds_csrftoken": page.cookies["ds_csrftoken"]}
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        form = {"csrftoken": token, "article_id": "2", "topic": "qd1894", "action": "confirmed", "next": "/"}
        for path in ("/-/review", "/-/review/verdict", "/-/logout", "/pressmon/newest_items", "/pressmon",
                     "/pressmon/articles/-/insert", "/pressmon/articles/1/-/delete", "/-/permissions", "/-/messages"):
            assert (await ds.client.post(path, data=form, cookies=cookies)).status_code == 403, (public, path)
        for method in ("put", "delete", "patch"):
            response = await ds.client.request(method.upper(), "/pressmon/articles/1", cookies=cookies)
            assert response.status_code == 403, method
    assert query(db, "select count(*) from verdicts") == before


async def test_reviewers_may_not_post_elsewhere_either(db):
    ds = make_datasette(db)
    _, cookies = await log_in(ds, "lan.pham")
    token = await csrf_token(ds, cookies)
    for path in ("/pressmon/newest_items", "/pressmon/articles/-/insert", "/-/messages"):
        response = await ds.client.post(path, data={"csrftoken": token}, cookies=cookies)
        assert response.status_code == 403, path


async def test_public_visitors_never_see_reviewers_names_or_notes(site_db):
    ds = make_datasette(site_db, public=True)
    pages = ["/", "/pressmon", "/pressmon/article_list", "/pressmon/article_list.json", "/pressmon/articles",
             "/pressmon/articles/1", "/pressmon/articles/1.json",
             "/pressmon/coverage_by_document", "/pressmon/coverage_by_document.json",
             "/pressmon/article_topics.json", "/-/dashboards/do-phu-tuyen-truyen"]
    for path in pages:
        text = (await ds.client.get(path)).text
        assert "chi.nguyen" not in text and "ghi chú riêng" not in text, path
    # Staff see them on the item's page.
    staff = make_datasette(site_db)
    _, cookies = await log_in(staff, "lan.pham")
    page = (await staff.client.get("/pressmon/articles/1", cookies=cookies)).text
    assert "chi.nguyen" in page


async def test_a_removed_or_demoted_account_loses_its_rights_at_once(db):
    ds = make_datasette(db)
    _, reviewer = await log_in(ds, "lan.pham")
    _, admin = await log_in(ds, "quantri")
    assert (await ds.client.get("/-/review", cookies=reviewer)).status_code == 200
    assert (await ds.client.get("/pressmon?sql=select+1", cookies=admin)).status_code == 200
    Accounts.beside(db).remove("lan.pham")
    Accounts.beside(db).add("quantri", "reviewer", PASSWORDS["quantri"], replace=True)
    assert (await ds.client.get("/-/review", cookies=reviewer)).status_code == 303
    assert (await ds.client.get("/", cookies=reviewer)).status_code == 303
    assert (await ds.client.get("/pressmon?sql=select+1", cookies=admin)).status_code == 403
    # Every page sees the account as it is now, not as the cookie remembers it.
    assert (await ds.client.get("/-/actor.json", cookies=admin)).json()["actor"] == {"id": "quantri", "role": "reviewer"}


async def test_a_removed_account_sees_no_names_on_a_public_site(db):
    ds = make_datasette(db, public=True)
    _, reviewer = await log_in(ds, "lan.pham")
    assert "chi.nguyen" in (await ds.client.get("/pressmon/articles/1", cookies=reviewer)).text
    Accounts.beside(db).remove("lan.pham")
    page = await ds.client.get("/pressmon/articles/1", cookies=reviewer)
    assert page.status_code == 200 and "chi.nguyen" not in page.text
    assert (await ds.client.get("/-/actor.json", cookies=reviewer)).json()["actor"] is None


async def test_a_cookie_signed_with_another_secret_is_anonymous(site_db, tmp_path):
    other = tmp_path / "other.db"
    shutil.copy(site_db, other)
    foreign = make_datasette(other)
    forged = {"ds_actor": foreign.sign({"a": {"id": "quantri", "role": "admin"}}, "actor")}
    ds = make_datasette(site_db)
    assert (await ds.client.get("/", cookies=forged)).status_code == 303


async def test_logout_ends_the_session(site_db):
    ds = make_datasette(site_db)
    _, cookies = await log_in(ds, "lan.pham")
    token = await csrf_token(ds, cookies)
    response = await ds.client.post("/-/logout", data={"csrftoken": token}, cookies=cookies)
    assert response.status_code == 302
    assert response.cookies.get("ds_actor", "") == ""


def test_serving_is_refused_where_no_one_could_log_in_or_anyone_could_read(tmp_path):
    path = tmp_path / "pressmon.db"
    Store(path).close()
    for host, public in (("0.0.0.0", True), ("0.0.0.0", False), ("192.168.1.10", True), ("127.0.0.1", False)):
        with pytest.raises(AccessRefused, match="pressmon users add"):
            check_access(path, host, public)
    check_access(path, "127.0.0.1", True)
    check_access(path, "localhost", True)
    Accounts.beside(path).add("quantri", "admin", "mat-khau-quan-tri")
    check_access(path, "0.0.0.0", False)


def test_accounts_keep_no_plain_password_anywhere(site_db):
    stored = accounts_path(site_db).read_bytes()
    database = site_db.read_bytes()
    for password in PASSWORDS.values():
        assert password.encode() not in stored and password.encode() not in database
    hashes = Accounts.beside(site_db).password_hashes()
    assert all(digest.startswith("pbkdf2_sha256$") for _, digest in hashes.values())
    assert accounts_path(site_db).stat().st_mode & 0o077 == 0  # owner-only
    # The published database has no accounts table, so no SQL page can reach a hash.
    with sqlite3.connect(site_db) as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master")}
    assert not {"accounts", "site"} & tables


async def test_metadata_never_shows_a_password_hash(site_db):
    ds = make_datasette(site_db)
    _, admin = await log_in(ds, "quantri")
    text = (await ds.client.get("/-/metadata.json", cookies=admin)).text
    assert "pbkdf2" not in text and "password_hash" not in text


def test_account_names_roles_and_passwords_are_checked(tmp_path):
    accounts = Accounts(tmp_path / "x.accounts")
    for name in ("", "A", "Lan Pham", "lan/pham", "x" * 41, "bad_password_hash"):
        with pytest.raises(AccountError):
            accounts.add(name, "reviewer", "mat-khau-du-dai")
    with pytest.raises(AccountError, match="role"):
        accounts.add("lan", "boss", "mat-khau-du-dai")
    with pytest.raises(AccountError, match="at least"):
        accounts.add("lan", "reviewer", "ngan")
    accounts.add("lan", "reviewer", "mat-khau-du-dai")
    with pytest.raises(AccountError, match="--replace"):
        accounts.add("lan", "admin", "mat-khau-khac-nua")
    assert accounts.role_of("lan") == "reviewer"


def test_users_commands(tmp_path):
    db = tmp_path / "pressmon.db"
    Store(db).close()
    empty = pressmon("users", "list", "--db", str(db))
    assert empty.returncode == 0 and "no account" in empty.stdout
    added = pressmon("users", "add", "lan.pham", "--db", str(db), "--role", "reviewer", "--password-stdin",
                     input="mat-khau-cua-lan\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added lan.pham (reviewer)"
    short = pressmon("users", "add", "an", "--db", str(db), "--password-stdin", input="ngan\n")
    assert short.returncode == 1 and short.stderr.strip() == "Error: the password must have at least 10 characters"
    again = pressmon("users", "add", "lan.pham", "--db", str(db), "--password-stdin", input="mat-khau-moi-nhe\n")
    assert again.returncode == 1 and "--replace" in again.stderr
    listed = pressmon("users", "list", "--db", str(db))
    assert [line.split("\t")[:2] for line in listed.stdout.splitlines()] == [["lan.pham", "reviewer"]]
    assert "mat-khau" not in listed.stdout + added.stdout + added.stderr
    removed = pressmon("users", "remove", "lan.pham", "--db", str(db))
    assert removed.returncode == 0 and removed.stdout.strip() == "removed lan.pham"
    gone = pressmon("users", "remove", "lan.pham", "--db", str(db))
    assert gone.returncode == 1 and gone.stderr.strip() == "Error: no account 'lan.pham'"


def test_serve_refuses_an_open_address_without_accounts(tmp_path):
    db = tmp_path / "pressmon.db"
    Store(db).close()
    refused = pressmon("serve", "--db", str(db), "--host", "0.0.0.0", "--public", "--port", "8799")
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: 0.0.0.0 is reachable from other machines")
    refused = pressmon("serve", "--db", str(db), "--port", "8799")
    assert refused.returncode == 1 and "--public" in refused.stderr


async def test_error_pages_know_who_is_logged_in(site_db):
    ds = make_datasette(site_db)
    _, cookies = await log_in(ds, "lan.pham")
    for path in ("/pressmon/no_such_table", "/no-such-database", "/pressmon/articles/999999"):
        page = await ds.client.get(path, cookies=cookies)
        assert page.status_code == 404, path
        assert "lan.pham" in page.text and "Đăng xuất" in page.text, path
    refused = await ds.client.get("/-/metadata", cookies=cookies)
    assert refused.status_code == 403 and "lan.pham" in refused.text
