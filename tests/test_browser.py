"""The staff workspace in a real browser: Debian's chromium driven by Playwright against
`pressmon serve` processes on loopback, on a copy of the demo's crawled database.

Two servers share the copy: the staff site (`pressmon serve`, a login for every page) and the
public one (`--public`). Accounts are made with `pressmon users add`, as an administrator
would. One browser serves the module; the logged-in page is reused from test to test, so the
order below is the order a person would work in: log in, review, then look at what changed.
The last test takes screenshots of the main pages; with PRESSMON_SCREENSHOTS=docs/screenshots
it renews the README's.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from browser_support import ENGLISH_CHROME, Server, find_chromium, folded
from conftest import ROOT, pressmon, query

CHROMIUM = find_chromium()

# The README's screenshots are written where $PRESSMON_SCREENSHOTS says (docs/screenshots to
# renew them); otherwise into the run's temporary folder, since every run crawls the demo at a
# new time that the pages show, and a plain test run must leave the repository as it was.
SCREENSHOTS_ENV = "PRESSMON_SCREENSHOTS"
REVIEWER, REVIEWER_PASSWORD = "lan", "mat-khau-cua-lan-2026"
ADMIN, ADMIN_PASSWORD = "quantri", "mat-khau-quan-tri-2026"
REJECT_NOTE = "Bài nói chung về môi trường, không nêu văn bản này."
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Long enough for a page of Datasette on a loaded CI machine, short enough to fail fast.
TIMEOUT_MS = 15_000


class Site:
    def __init__(self, db: Path, staff: Server, public: Server):
        self.db, self.staff, self.public = db, staff, public


@pytest.fixture(scope="module")
def site(demo_db, tmp_path_factory):
    """A copy of the demo's database named pressmon.db (so its URLs are /pressmon/...), its
    WARC archive beside it, two accounts, and the staff and public servers answering."""
    source, *_ = demo_db
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "pressmon.db"
    with sqlite3.connect(source) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    for archive in source.parent.glob("*.warc"):
        shutil.copytree(archive, folder / archive.name)
    for name, role, password in ((REVIEWER, "reviewer", REVIEWER_PASSWORD), (ADMIN, "admin", ADMIN_PASSWORD)):
        added = pressmon("users", "add", name, "--db", str(db), "--role", role, "--password-stdin",
                         input=password + "\n")
        assert added.returncode == 0, added.stderr[-2000:]
    staff = Server(db, log=folder / "staff.log")
    public = Server(db, "--public", log=folder / "public.log")
    try:
        staff.wait_until_answering()
        public.wait_until_answering()
        yield Site(db, staff, public)
    finally:
        staff.stop()
        public.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # A missing browser fails, never skips: a skip would hide the whole staff workspace.
    assert CHROMIUM, "chromium is not installed: apt-get install -y chromium fonts-noto-core (.ci/run does)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def new_context(browser, viewport=DESKTOP, **kwargs):
    phone = viewport == PHONE
    context = browser.new_context(viewport=viewport, locale="vi-VN", is_mobile=phone, has_touch=phone, **kwargs)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def log_in(page, base_url: str, username: str, password: str):
    page.goto(base_url + "/-/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[action='/-/login'] [type=submit]")


@pytest.fixture(scope="module")
def staff_context(browser, site):
    context = new_context(browser)
    page = context.new_page()
    log_in(page, site.staff.url, REVIEWER, REVIEWER_PASSWORD)
    yield context
    context.close()


@pytest.fixture(scope="module")
def staff(staff_context):
    """The reviewer's page on the staff site, logged in through the form."""
    return staff_context.pages[0]


@pytest.fixture(scope="module")
def phone(browser, site, staff_context):
    """The same reviewer on a 390 px wide phone screen (the session's cookie reused)."""
    context = new_context(browser, PHONE, storage_state=staff_context.storage_state())
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def anonymous(browser):
    context = new_context(browser)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def anonymous_phone(browser):
    context = new_context(browser, PHONE)
    yield context.new_page()
    context.close()


def article_ids(page) -> list[int]:
    """The items a list page links to, in the order shown."""
    hrefs = page.eval_on_selector_all("table a[href]", "links => links.map(a => a.getAttribute('href'))")
    ids = []
    for href in hrefs:
        match = re.search(r"/pressmon/articles/(\d+)(?:[?#]|$)", href)
        if match and int(match.group(1)) not in ids:
            ids.append(int(match.group(1)))
    return ids


def article_list_url(page, base_url: str) -> str:
    """Where the navigation's Tin bài link goes (the article list staff read)."""
    page.goto(base_url + "/")
    link = page.get_by_role("link", name="Tin bài", exact=True)
    href = link.first.get_attribute("href") if link.count() else None
    return base_url + href if href and href.startswith("/") else base_url + "/pressmon/articles"


def search(page, base_url: str, words: str) -> list[int]:
    page.goto(article_list_url(page, base_url))
    box = page.locator("input[type=search], input[name=_search]").first
    box.fill(words)
    with page.expect_navigation():
        box.press("Enter")
    return article_ids(page)


def article_texts(db) -> dict[int, str]:
    return {i: " ".join(filter(None, parts)) for i, *parts in query(db, "select id, title, lead, body from articles")}


def counted(db) -> int:
    return query(db, "select count(*) from topic_decisions where counted = 1")[0][0]


def report_counts(db, year: int, out: Path) -> dict[tuple[str, str, str], int]:
    """`pressmon report --year` as CSV: items per (outlet, month, topic)."""
    made = pressmon("report", "--year", str(year), "--db", str(db), "-o", str(out))
    assert made.returncode == 0, made.stderr[-2000:]
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("outlet_id,"))
    return {(r["outlet_id"], r["month"], r["topic"]): int(r["items"])
            for r in csv.DictReader(io.StringIO("\n".join(lines[header:])))}


def shown_item(page) -> tuple[int, str, int] | None:
    """(article id, topic, remaining) of the review page's item; None when the queue is empty."""
    if page.locator("#queue-empty").count():
        return None
    item = page.locator("#review-item")
    return (int(item.get_attribute("data-article-id")), item.get_attribute("data-topic"),
            int(page.inner_text("#remaining")))


# --- Logging in -----------------------------------------------------------------------------

def test_login_form_logs_the_reviewer_in(staff, site):
    assert urlsplit(staff.url).path == "/"
    staff.goto(site.staff.url + "/")
    nav = staff.inner_text("body")
    assert REVIEWER in nav and "Đăng xuất" in nav and "Đăng nhập" not in nav


def test_a_wrong_password_is_told_in_vietnamese(anonymous, site):
    log_in(anonymous, site.staff.url, REVIEWER, "sai-mat-khau")
    assert urlsplit(anonymous.url).path == "/-/login"
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in anonymous.inner_text("body")


def test_navigation_names_the_tasks(staff, anonymous, site):
    staff.goto(site.staff.url + "/")
    for name in ("Trang chủ", "Tin bài", "Duyệt tin", "Báo cáo", "Biểu đồ", "Tình trạng nguồn tin"):
        assert staff.get_by_role("link", name=name, exact=True).count(), name
    anonymous.goto(site.public.url + "/")
    assert anonymous.get_by_role("link", name="Duyệt tin", exact=True).count() == 0
    assert "Đăng nhập" in anonymous.inner_text("body")


# --- Review in the browser ------------------------------------------------------------------

@pytest.fixture(scope="module")
def reviewed(staff, site, tmp_path_factory):
    """Three items of the queue reviewed with the buttons and a key: the first confirmed with
    the key x, the second rejected with a note, the third skipped. What was shown, and the
    counts before."""
    out = tmp_path_factory.mktemp("report")
    staff.goto(site.staff.url + "/-/review")
    first = shown_item(staff)
    assert first, "the demo's database has probable items to review"
    year = int(query(site.db, "select substr(published_month, 1, 4) from articles where id = ?", [first[0]])[0][0])
    before = {"counted": counted(site.db), "report": report_counts(site.db, year, out / "before.csv")}

    staff.evaluate("document.activeElement && document.activeElement.blur()")
    with staff.expect_navigation():
        staff.keyboard.press("x")
    second = shown_item(staff)
    assert second and second[:2] != first[:2] and second[2] == first[2] - 1

    staff.fill("textarea[name=note]", REJECT_NOTE)
    with staff.expect_navigation():
        staff.get_by_role("button", name="Bác bỏ").click()
    third = shown_item(staff)
    assert third and third[:2] not in (first[:2], second[:2]) and third[2] == first[2] - 2

    with staff.expect_navigation():
        staff.get_by_role("button", name="Bỏ qua").click()
    after_skip = shown_item(staff)
    assert after_skip is None or after_skip[:2] != third[:2], "a skipped item comes back at once"
    return {"confirmed": first, "rejected": second, "skipped": third, "year": year, "before": before,
            "report_after": report_counts(site.db, year, out / "after.csv")}


def test_verdicts_are_stored_with_the_logged_in_reviewer(reviewed, site):
    rows = query(site.db, "select article_id, topic, verdict, reviewer, note from verdicts order by id")
    (c_id, c_topic, _), (r_id, r_topic, _), (s_id, s_topic, _) = (
        reviewed["confirmed"], reviewed["rejected"], reviewed["skipped"])
    assert [r[:4] for r in rows] == [(c_id, c_topic, "confirmed", REVIEWER), (r_id, r_topic, "rejected", REVIEWER)]
    assert not rows[0][4], "no note typed, none stored"
    assert rows[1][4] == REJECT_NOTE
    assert not query(site.db, "select 1 from verdicts where article_id = ? and topic = ?", [s_id, s_topic])


def test_the_coverage_query_counts_the_confirm(reviewed, staff, site):
    expected = reviewed["before"]["counted"] + 1
    assert counted(site.db) == expected
    staff.goto(site.staff.url + "/pressmon/coverage_by_document")
    # Whatever the columns are called, one of them holds the counts, and they add up.
    columns = staff.eval_on_selector_all(
        "table tbody tr", "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))")
    assert columns, "the coverage query shows rows"
    sums = [sum(int(v) for v in column) for column in zip(*columns) if all(re.fullmatch(r"\d+", v) for v in column)]
    assert expected in sums, sums


def test_the_report_counts_the_confirm(reviewed, site):
    article_id, topic, _ = reviewed["confirmed"]
    outlet, month = query(site.db, "select outlet_id, published_month from articles where id = ?", [article_id])[0]
    before, after = reviewed["before"]["report"], reviewed["report_after"]
    assert after.get((outlet, month, topic), 0) == before.get((outlet, month, topic), 0) + 1
    assert sum(after.values()) == sum(before.values()) + 1


def test_notes_and_reviewers_only_for_staff(reviewed, staff, anonymous, site):
    article_id, topic, _ = reviewed["rejected"]
    staff.goto(f"{site.staff.url}/pressmon/articles/{article_id}")
    assert REJECT_NOTE in staff.inner_text("body")
    anonymous.goto(f"{site.public.url}/pressmon/articles/{article_id}")
    assert REJECT_NOTE not in anonymous.content()
    for path in ("/pressmon/verdicts.json?_shape=array", f"/pressmon/topic_decisions.json?_shape=array&article_id={article_id}"):
        answer = anonymous.context.request.get(site.public.url + path, max_redirects=0)
        if answer.ok:
            assert REJECT_NOTE not in answer.text() and all(not row.get("reviewer") for row in answer.json()), path


# --- Search ---------------------------------------------------------------------------------

def test_search_without_diacritics_finds_dak_doa(staff, site):
    found = search(staff, site.staff.url, "dak doa")
    texts = article_texts(site.db)
    expected = {i for i, text in texts.items() if "dak doa" in folded(text)}
    assert expected, "the demo's items name Đak Đoa"
    assert expected <= set(found)
    assert all(re.search(r"\bdak\b", folded(texts[i])) and re.search(r"\bdoa\b", folded(texts[i])) for i in found)


def test_search_with_diacritics_prefers_the_exact_form(staff, site):
    found = search(staff, site.staff.url, "Hòa")
    texts = article_texts(site.db)
    exact = [bool(re.search(r"\bhòa\b", texts[i].lower())) for i in found]
    assert exact and exact[0], "an item with Hòa comes first"
    assert exact == sorted(exact, reverse=True), "no item without Hòa above one with it"


# --- Anonymous visitors ---------------------------------------------------------------------

STAFF_PAGES = ("/", "/pressmon", "/pressmon/articles", "/pressmon/articles/1", "/pressmon/coverage_by_document",
               "/pressmon/crawl_health", "/-/review", "/-/dashboards/do-phu-tuyen-truyen",
               "/pressmon?sql=select+1", "/pressmon/verdicts")


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_the_staff_site_sends_anonymous_visitors_to_the_login_page(anonymous, site, path):
    anonymous.goto(site.staff.url + path)
    assert urlsplit(anonymous.url).path == "/-/login"
    assert anonymous.locator("form[action='/-/login'] input[name=password]").count() == 1


@pytest.mark.parametrize("path", ("/pressmon/articles.json", "/pressmon/articles.csv?_stream=on",
                                  "/pressmon/coverage_by_document.json", "/pressmon/verdicts.csv"))
def test_the_staff_site_gives_anonymous_visitors_no_data(anonymous, site, path):
    answer = anonymous.context.request.get(site.staff.url + path, max_redirects=0)
    title = query(site.db, "select title from articles order by id limit 1")[0][0]
    assert answer.status in (302, 303, 401, 403), answer.status
    assert title not in answer.text()


def test_the_public_site_asks_for_a_login_to_review(anonymous, site):
    anonymous.goto(site.public.url + "/-/review")
    assert urlsplit(anonymous.url).path == "/-/login"
    assert anonymous.locator("#review-item").count() == 0


def test_the_public_site_runs_no_arbitrary_sql(anonymous, site):
    answer = anonymous.context.request.get(site.public.url + "/pressmon.json?sql=select+count(*)+from+articles",
                                           max_redirects=0)
    assert answer.status in (302, 303, 401, 403), answer.status


WRITE_PATHS = ("/-/review", "/-/review/verdict", "/pressmon/coverage_by_document", "/pressmon",
               "/pressmon/verdicts", "/pressmon/verdicts/-/insert", "/pressmon/-/create")


@pytest.mark.parametrize("server", ("public", "staff"))
def test_anonymous_posts_are_refused_and_write_nothing(anonymous, site, server):
    """With the page's own CSRF token, from the page: nothing an anonymous visitor posts is
    accepted, and the database does not change."""
    base = getattr(site, server).url
    anonymous.goto(base + "/-/login")
    token = anonymous.get_attribute("input[name=csrftoken]", "value")
    article_id, topic = query(site.db, "select article_id, topic from topic_decisions where tier = 'probable' limit 1")[0]
    form = {"csrftoken": token, "article_id": str(article_id), "topic": topic, "action": "confirmed",
            "verdict": "confirmed", "note": "khách", "next": "/", "sql": "delete from verdicts"}
    before = query(site.db, "select count(*), coalesce(max(id), 0) from verdicts")
    for path in WRITE_PATHS:
        answer = anonymous.evaluate(
            """async ([url, form]) => {
                 const r = await fetch(url, {method: 'POST', body: new URLSearchParams(form), redirect: 'manual'});
                 return {status: r.status, type: r.type};
               }""", [base + path, form])
        # A redirect (opaque to the page) is checked below by where it goes.
        assert answer["type"] == "opaqueredirect" or 400 <= answer["status"] < 500, (path, answer)
        if answer["type"] == "opaqueredirect":
            direct = anonymous.context.request.post(base + path, form=form, max_redirects=0)
            assert urlsplit(direct.headers.get("location", "")).path == "/-/login", (path, direct.status)
    assert query(site.db, "select count(*), coalesce(max(id), 0) from verdicts") == before
    # The token was good: the same visitor's login attempt passes the CSRF check.
    answer = anonymous.evaluate(
        """async ([url, form]) => (await fetch(url, {method: 'POST', body: new URLSearchParams(form)})).status""",
        [base + "/-/login", {"csrftoken": token, "username": REVIEWER, "password": "sai-mat-khau"}])
    assert answer == 200


def test_a_post_without_its_csrf_token_is_refused_even_logged_in(staff, site):
    staff.goto(site.staff.url + "/-/review")
    article_id, topic, _ = shown_item(staff)
    before = query(site.db, "select count(*) from verdicts")
    status = staff.evaluate(
        """async ([url, form]) => (await fetch(url, {method: 'POST', body: new URLSearchParams(form)})).status""",
        [site.staff.url + "/-/review", {"article_id": str(article_id), "topic": topic, "action": "confirmed"}])
    assert status == 403
    assert query(site.db, "select count(*) from verdicts") == before


def test_only_the_admin_runs_sql_of_their_own(browser, staff, site):
    sql = "/pressmon?sql=select+count(*)+as+n+from+verdicts"
    refused = staff.goto(site.staff.url + sql)
    assert refused.status == 403 and english_in(staff) == []
    context = new_context(browser)
    try:
        admin = context.new_page()
        log_in(admin, site.staff.url, ADMIN, ADMIN_PASSWORD)
        admin.goto(site.staff.url + sql.replace("/pressmon?", "/pressmon.json?") + "&_shape=array")
        assert admin.evaluate("JSON.parse(document.body.innerText)") == [{"n": query(site.db, "select count(*) from verdicts")[0][0]}]
    finally:
        context.close()


@pytest.mark.parametrize("server", ("public", "staff"))
def test_the_dashboard_draws_its_charts(anonymous, staff, site, server):
    """The charts fetch their own queries from the browser: drawn for an anonymous visitor of
    the public site as for the reviewer."""
    page = anonymous if server == "public" else staff
    page.goto(getattr(site, server).url + "/-/dashboards/do-phu-tuyen-truyen")
    cards = page.locator(".dashboard-card-chart")
    assert cards.count() >= 2
    for n in range(cards.count()):
        cards.nth(n).locator("svg, canvas").first.wait_for()


# --- A phone's screen -----------------------------------------------------------------------

def item_url(site) -> str:
    """An item's page worth showing: the newest item citing a document (evidence to highlight)."""
    item = query(site.db, "select article_id from topic_decisions where tier = 'cited' order by published_at desc limit 1")[0][0]
    return f"{site.staff.url}/pressmon/articles/{item}"


# The main pages by the names their screenshots get; the article list is reached as a person
# reaches it (the navigation's link, then the search box).
MAIN_PAGES = {"trang-chu": "/", "tin-bai": None, "bai": None, "duyet-tin": "/-/review",
              "bao-cao": "/pressmon/coverage_by_document", "dang-nhap": "/-/login",
              "bieu-do": "/-/dashboards/do-phu-tuyen-truyen"}


def open_page(page, site, name: str) -> None:
    if name == "tin-bai":
        search(page, site.staff.url, "dak doa")
    elif name == "bai":
        page.goto(item_url(site))
    else:
        page.goto(site.staff.url + MAIN_PAGES[name])


@pytest.mark.parametrize("name", ("trang-chu", "tin-bai", "bai", "duyet-tin", "bao-cao"))
def test_a_phone_screen_needs_no_sideways_scrolling(phone, site, name):
    open_page(phone, site, name)
    assert urlsplit(phone.url).path != "/-/login"
    widths = phone.evaluate("({page: document.documentElement.scrollWidth, screen: window.innerWidth})")
    assert widths["screen"] == PHONE["width"], "the page lays out at the phone's width (viewport meta)"
    assert widths["page"] <= widths["screen"], widths


def test_the_login_page_fits_a_phone(anonymous_phone, site):
    anonymous_phone.goto(site.staff.url + "/-/login")
    assert anonymous_phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# --- Vietnamese everywhere ------------------------------------------------------------------

ENGLISH = re.compile("|".join(rf"\b{re.escape(p)}(?!\w)" for p in ENGLISH_CHROME) + r"|\b\d[\d,.]* rows?\b")


# What a person reads that is not in the body's text: button values, placeholders, tooltips,
# labels read aloud, the choices of a select.
SHOWN_ATTRIBUTES = """() => {
  const shown = el => el.getClientRects().length > 0;
  const texts = [];
  for (const el of document.querySelectorAll('input[type=submit], input[type=button], input[type=reset]'))
    if (shown(el)) texts.push(el.value);
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label]'))
    if (shown(el)) texts.push(el.placeholder || '', el.title || '', el.getAttribute('aria-label') || '');
  for (const el of document.querySelectorAll('select'))
    if (shown(el)) for (const option of el.options) texts.push(option.text);
  return texts.join('\\n');
}"""


def english_in(page) -> list[str]:
    text = "\n".join((page.title(), page.inner_text("body"), page.evaluate(SHOWN_ATTRIBUTES)))
    return sorted(set(ENGLISH.findall(text)))


@pytest.mark.parametrize("path", ("trang-chu", "article-list", "tin-bai", "bao-cao", "bai", "duyet-tin", "bieu-do",
                                  "/pressmon", "/pressmon/crawl_health", "/pressmon/khong-co-bang-nay",
                                  "/khong-co-trang-nay", "/-/logout"))
def test_staff_pages_show_no_english_chrome(staff, site, path):
    if path == "article-list":
        staff.goto(article_list_url(staff, site.staff.url))
    elif path in MAIN_PAGES:
        open_page(staff, site, path)
    else:
        staff.goto(site.staff.url + path)
    assert english_in(staff) == []
    assert not re.search(r"\bselect\b", staff.title(), re.I), "the tab's title is not SQL"


def test_the_column_menu_is_in_vietnamese(staff, site):
    staff.goto(article_list_url(staff, site.staff.url))
    staff.locator("th .dropdown-menu-icon").first.click()
    menu = staff.locator(".dropdown-menu")
    assert menu.is_visible()
    assert not ENGLISH.findall(menu.inner_text())


def test_the_charts_menus_are_in_vietnamese(staff, site):
    open_page(staff, site, "bieu-do")
    charts = staff.locator(".dashboard-card-chart")
    charts.first.locator("svg, canvas").first.wait_for()
    menus = charts.locator("details")
    for n in range(menus.count()):
        menus.nth(n).locator("summary").click()
        assert not ENGLISH.findall(menus.nth(n).inner_text()), menus.nth(n).inner_text()


@pytest.mark.parametrize("password", (None, "sai-mat-khau"))
def test_the_login_page_shows_no_english(anonymous, site, password):
    if password:
        log_in(anonymous, site.staff.url, REVIEWER, password)
    else:
        anonymous.goto(site.staff.url + "/-/login")
    assert english_in(anonymous) == []
    assert anonymous.get_by_role("button", name="Đăng nhập").count() == 1


# --- Screenshots for the README -------------------------------------------------------------

def test_screenshots_of_the_main_pages(staff, phone, anonymous, anonymous_phone, site, tmp_path):
    """PNGs of what a person sees first on each main page, desktop and phone (the README
    shows them)."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    if not folder.is_absolute():
        folder = ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("trang-chu", "tin-bai", "bai", "duyet-tin", "dang-nhap", "bieu-do"):
        for suffix, page in (("may-tinh", staff), ("dien-thoai", phone)):
            if name == "dang-nhap":
                page = anonymous if suffix == "may-tinh" else anonymous_phone
            open_page(page, site, name)
            if name == "bieu-do":
                for n in range(page.locator(".dashboard-card-chart").count()):
                    page.locator(".dashboard-card-chart").nth(n).locator("svg, canvas").first.wait_for()
            page.evaluate("document.fonts.ready.then(() => true)")
            png = page.screenshot(full_page=False)
            (folder / f"{name}-{suffix}.png").write_bytes(png)
            assert 10_000 < len(png) < 400_000, (name, suffix, len(png))
