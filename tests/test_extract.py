"""Per-outlet extraction fixtures (tests/fixtures/<outlet id>/<case>.*).

Each case is a saved page, the fields its extraction must give (written from the content the
page was built from, by tests/fixtures/make_fixtures.py — not from the extractor), and where
it came from. `methods` in an expected file pins the source of the fields where the source is
part of the contract; an `error` expected file names a page extraction must refuse.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from parsel import Selector

from conftest import FIXTURES, pressmon
from pressmon.crawlers.extract import ExtractionError, extract_article, extract_page
from pressmon.crawlers.registry import load_registry
from pressmon.pipeline.cli import cli


EXPECTED = sorted(FIXTURES.glob("*/*.expected.json"))
FIELDS = {"url", "title", "lead", "body", "author", "section", "tags", "published_at",
          "published_raw", "modified_at", "media_kind", "language"}


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.expected.json')}"


def load(path: Path):
    stem = path.name.removesuffix(".expected.json")
    expected = json.loads(path.read_text(encoding="utf-8"))
    meta = json.loads((path.parent / f"{stem}.meta.json").read_text(encoding="utf-8"))
    return path.parent / f"{stem}.html", expected, meta


def split(expected: dict) -> tuple[dict, dict]:
    fields = {k: v for k, v in expected.items() if k != "methods"}
    return fields, expected.get("methods", {})


ARTICLES = [p for p in EXPECTED if "error" not in json.loads(p.read_text(encoding="utf-8"))]
ERRORS = [p for p in EXPECTED if p not in ARTICLES]


@pytest.mark.parametrize("path", EXPECTED, ids=case_id)
def test_fixture(path):
    html, expected, meta = load(path)
    outlet = load_registry()[path.parent.name]
    served = (html.read_bytes(), meta["url"], outlet, meta.get("content_type"))
    if "error" in expected:
        with pytest.raises(ExtractionError, match=re.escape(expected["error"])) as raised:
            extract_page(*served)
        assert raised.value.kind == expected["kind"]
        return
    result = extract_page(*served)
    fields, methods = split(expected)
    assert set(result.fields) == FIELDS
    # every field but the raw date text is pinned by every article fixture
    assert FIELDS - {"published_raw"} <= set(fields), sorted(FIELDS - set(fields))
    for name, value in fields.items():
        assert result.fields[name] == value, name
    assert {name: result.methods.get(name) for name in methods} == methods


def test_every_outlet_has_an_article_fixture():
    covered = {p.parent.name for p in ARTICLES}
    assert set(load_registry()) <= covered, sorted(set(load_registry()) - covered)
    assert {p.parent.name for p in EXPECTED} <= set(load_registry())


def test_every_fixture_is_complete_and_says_where_it_came_from():
    pages = sorted(FIXTURES.glob("*/*.html"))
    assert {p.with_suffix("") for p in pages} == {p.parent / p.name.removesuffix(".expected.json")
                                                  for p in EXPECTED}
    for path in EXPECTED:
        _, _, meta = load(path)
        assert meta["url"].startswith("https://"), path
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["captured_at"]), path
        assert load_registry()[path.parent.name].is_article_url(meta["url"]), path


def test_fixtures_are_current_and_deterministic(tmp_path, monkeypatch):
    """make_fixtures.py regenerates every generated file byte for byte."""
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    written = module.build(tmp_path)
    assert written
    for path in written:
        rel = path.relative_to(tmp_path)
        assert path.read_bytes() == (FIXTURES / rel).read_bytes(), f"{rel} is stale: run make_fixtures.py"


@pytest.mark.parametrize("path", ARTICLES, ids=case_id)
def test_cli_extract_prints_the_fields(path):
    html, expected, meta = load(path)
    result = CliRunner().invoke(cli, ["extract", meta["url"], "--html", str(html)])
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    fields, methods = split(expected)
    assert printed["outlet_id"] == path.parent.name
    assert {name: printed[name] for name in fields} == fields
    assert isinstance(printed["methods"], dict) and printed["methods"]["title"]
    assert {name: printed["methods"].get(name) for name in methods} == methods


@pytest.mark.parametrize("path", ERRORS, ids=case_id)
def test_cli_extract_refuses_a_page_that_is_not_an_article(path):
    html, expected, meta = load(path)
    result = CliRunner().invoke(cli, ["extract", meta["url"], "--html", str(html)])
    assert result.exit_code != 0
    assert expected["error"] in result.stderr
    assert meta["url"] in result.stderr
    assert result.stdout == ""


def test_cli_extract_fetches_through_the_spider_politely(mirror):
    """Without --html the page is fetched the way a crawl fetches it: the same fields as the
    saved page, and a page robots.txt disallows is refused in one line, not fetched."""
    path = FIXTURES / "baogialai" / "text-div-lead.expected.json"
    html, expected, meta = load(path)
    fetched = pressmon("extract", meta["url"], "--mirror", mirror)
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    saved = CliRunner().invoke(cli, ["extract", meta["url"], "--html", str(html)])
    assert json.loads(fetched.stdout) == json.loads(saved.stdout)
    disallowed = pressmon("extract", "https://baogialai.com.vn/bai-noi-bo-post999007.html", "--mirror", mirror)
    assert disallowed.returncode == 1 and disallowed.stdout == ""
    assert disallowed.stderr.strip().splitlines() == [
        "Error: https://baogialai.com.vn/bai-noi-bo-post999007.html: robots: Forbidden by robots.txt"]


# ----------------------------------------------------------------------------------------
# What is not the item's text, wherever it sits and whatever its classes: the registry's
# `drop` selectors know none of the markup below.

OWN = ("Sáng nay, Sở Nông nghiệp và Môi trường kiểm tra các hồ chứa thủy lợi trên địa bàn tỉnh "
       "trước mùa mưa bão, tập trung vào những công trình đã xuống cấp.",
       "Đoàn ghi nhận phần lớn công trình đã được gia cố; một số cống xả vẫn phải sửa chữa xong "
       "trước ngày 15 tháng sau để bảo đảm an toàn cho vùng hạ du.",
       "Sở đề nghị các xã bố trí lực lượng trực, theo dõi mực nước và báo cáo ngay khi có sự cố.")
HEADLINE = "Gia Lai triển khai Chỉ thị số 20/CT-TTg về các nhiệm vụ cấp bách bảo vệ môi trường"
OTHER = "Phường Pleiku nhân rộng mô hình phân loại rác tại nguồn ở các tổ dân phố"
PAGES = {  # outlet → (URL of the page, a related article's path, the page around a body)
    "baogialai": ("https://baogialai.com.vn/kiem-tra-ho-chua-post565999.html",
                  "/phan-loai-rac-post565001.html",
                  '<h1 class="article__title">Kiểm tra hồ chứa trước mùa mưa bão</h1>'
                  '<div class="article__body">{body}</div>'),
    "congthuong": ("https://congthuong.vn/kiem-tra-ho-chua-412999.htm",
                   "/phan-loai-rac-412001.htm",
                   '<header class="header"><a href="/">Báo Công Thương</a></header>'
                   '<div id="main-detail"><h1 class="post-heading">Kiểm tra hồ chứa trước mùa mưa bão'
                   '</h1><div class="detail-inner">{body}</div></div>'),
}
BOXES = {
    "labelled list": '<p><strong>Tin liên quan:</strong></p><ul><li>{a}</li><li>{b}</li></ul>',
    "upper-case label, links to another site": (
        '<p><b>TIN LIÊN QUAN</b></p><p><a href="https://baochinhphu.vn/trien-khai-102250712.htm">'
        + HEADLINE + '</a></p><p><a href="https://baochinhphu.vn/tin-khac-102250713.htm">' + OTHER
        + "</a></p>"),
    "table, label in its own row, links to another site": (
        '<table border="1"><tr><td><p><strong>Bài viết liên quan</strong></p></td></tr>'
        '<tr><td><p>» <a href="https://baochinhphu.vn/trien-khai-102250712.htm">' + HEADLINE
        + '</a></p></td></tr><tr><td><p>» <a href="https://baochinhphu.vn/tin-khac-102250713.htm">'
        + OTHER + "</a></p></td></tr></table>"),
    "table, one cell": ('<table class="x"><tr><td><p><b>Đọc thêm</b></p><p>{a}</p><p>{b}</p></td></tr>'
                        "</table>"),
    "see-also lines": "<p>&gt;&gt; Xem thêm: {a}</p><p>&gt;&gt; Xem thêm: {b}</p>",
    "label and links in one paragraph": "<p><strong>Đọc thêm:</strong> {a}; {b}</p>",
    "div of an unknown class": ('<div class="box-x"><h4>Cùng chuyên mục</h4><ul><li>{a}</li><li>{b}</li>'
                                "</ul></div>"),
    "links with no label": '<ul class="list-x"><li>{a} (12/7/2025)</li><li>{b} (10/7/2025)</li></ul>',
    "one link with no label": "<p>{a}</p>",
    "share and print bar": ('<p class="tools"><a href="https://www.facebook.com/sharer/sharer.php?u=x">'
                            'Chia sẻ</a> | <a href="https://zalo.me/share">Zalo</a> | '
                            '<a href="javascript:print()">In bài</a> | <a href="mailto:?body=x">Gửi bài</a></p>'),
    "social buttons": ('<ul class="social"><li><a href="#">Facebook</a></li><li><a href="#">Twitter</a>'
                       '</li><li><a href="#">Email</a></li><li><span>Lưu bài</span></li></ul>'),
    "photo credit": '<p style="text-align:center"><em>Ảnh: Hồng Thi</em></p>',
    "caption with its credit": ("<p><em>Cán bộ kiểm tra việc thực hiện Chỉ thị số 20/CT-TTg tại một "
                                "nhà máy. Ảnh: T.Thủy</em></p>"),
}


def page_with(outlet_id: str, inserted: str) -> tuple[str, str]:
    """A page of the outlet whose body is OWN with `inserted` in the middle (its {a} and {b}
    links to related articles, {related} one's path), and its URL."""
    url, related, template = PAGES[outlet_id]
    inserted = inserted.format(a=f'<a href="{related}">{HEADLINE}</a>', related=related,
                               b=f'<a href="{related}?ref=box">{OTHER}</a>')
    body = f"<p>{OWN[0]}</p><p>{OWN[1]}</p>{inserted}<p>{OWN[2]}</p>"
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Kiểm tra hồ chứa'
            f"</title></head><body>{template.format(body=body)}</body></html>"), url


@pytest.mark.parametrize("outlet_id, method", [("baogialai", "selector"), ("congthuong", "trafilatura")])
@pytest.mark.parametrize("box", BOXES)
def test_text_that_is_not_the_item_never_reaches_the_body(box, outlet_id, method):
    html, url = page_with(outlet_id, BOXES[box])
    result = extract_article(html, url, load_registry()[outlet_id])
    assert result.methods["body"] == method
    assert result.fields["body"] == "\n\n".join(OWN)


KEPT = {
    "a paragraph with a link in it": (
        "<p>Kế hoạch dựa trên kết quả rà soát năm trước (xem {a}) và ý kiến của các xã, phường "
        "về những điểm có nguy cơ sạt lở, ngập úng cục bộ.</p>"),
    "prose that starts with a label": ("<p>Xem thêm thông tin về lịch kiểm tra tại trụ sở UBND các "
                                       "xã hoặc trên trang điện tử của Sở.</p>"),
    "prose after a label and a colon": ("<p>Xem thêm: các hồ chứa nhỏ do xã quản lý sẽ được kiểm tra "
                                        "trong tháng tới.</p>"),
    "prose after a label, with a short link": (
        '<p>Đọc thêm hướng dẫn tại <a href="{related}">bài viết này</a> của Sở về cách vận hành '
        "cửa xả khi mực nước dâng cao trong đêm.</p>"),
    "a quotation with 'chia sẻ'": "<p>Ông Nguyễn Văn An chia sẻ: “Năm nay hồ đã được nạo vét sớm”.</p>",
    "prose with 'hình ảnh:'": "<p>Đoàn ghi lại hình ảnh: cửa xả bị rò rỉ, bờ kè sạt một đoạn.</p>",
}


@pytest.mark.parametrize("outlet_id", ["baogialai", "congthuong"])
@pytest.mark.parametrize("case", KEPT)
def test_the_items_own_text_is_kept(case, outlet_id):
    html, url = page_with(outlet_id, KEPT[case])
    result = extract_article(html, url, load_registry()[outlet_id])
    kept = Selector(text=html).xpath("string(//p[3])").get()
    assert result.fields["body"] == "\n\n".join([*OWN[:2], kept, OWN[2]])


def test_a_link_to_a_document_is_not_a_link_to_another_article():
    """A paragraph that is one link to the text of a document is the item's own (trafilatura,
    on its own, leaves such a paragraph out: this is about the rules above)."""
    paragraph = ('<p><a href="https://vanban.chinhphu.vn/?docid=214512">Chỉ thị số 20/CT-TTg '
                 "ngày 12/7/2025 của Thủ tướng Chính phủ</a></p>")
    html, url = page_with("baogialai", paragraph)
    body = extract_article(html, url, load_registry()["baogialai"]).fields["body"]
    assert body.split("\n\n")[2] == "Chỉ thị số 20/CT-TTg ngày 12/7/2025 của Thủ tướng Chính phủ"


def test_a_credit_takes_only_its_own_block():
    """A block holding other blocks is never a caption, even when a credit ends its text."""
    prose = "Mực nước hồ đã hạ xuống dưới mức báo động."
    html, url = page_with("baogialai", f"<div><p>{prose}</p><em>Ảnh: Hồng Thi</em></div>")
    body = extract_article(html, url, load_registry()["baogialai"]).fields["body"]
    assert body == "\n\n".join([*OWN[:2], prose, OWN[2]])


def test_a_label_alone_goes_and_the_prose_after_it_stays():
    html, url = page_with("baogialai", "<p><strong>Tin liên quan</strong></p>")
    assert extract_article(html, url, load_registry()["baogialai"]).fields["body"] == "\n\n".join(OWN)


def test_a_short_item_that_is_mostly_a_link_list_is_an_error_not_its_links():
    """With the list gone, what is left is too short to be an article: the page is refused
    (parse_failed) rather than stored with other items' headlines as its text."""
    url, related, template = PAGES["baogialai"]
    body = (f"<p>Mời bạn đọc theo dõi.</p><ul><li><a href='{related}'>{HEADLINE}</a></li>"
            f"<li><a href='https://baogialai.com.vn/tin-khac-post565002.html'>{OTHER}</a></li></ul>")
    html = f"<html><body>{template.format(body=body)}</body></html>"
    with pytest.raises(ExtractionError, match="no article body found"):
        extract_article(html, url, load_registry()["baogialai"])


# ----------------------------------------------------------------------------------------
# The hostile web (issue 10): what extract_page refuses, and what it must still read. The
# per-outlet fixtures above hold the whole-page faults; these are the edges.

def article_page(body_extra: str = "", head: str = "", heading: str = "Kiểm tra hồ chứa trước mùa mưa bão") -> str:
    url, _, template = PAGES["baogialai"]
    body = "".join(f"<p>{p}</p>" for p in OWN) + body_extra
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{heading}</title>'
            f'{head}</head><body>{template.replace("Kiểm tra hồ chứa trước mùa mưa bão", heading).format(body=body)}'
            f"</body></html>")


def refused(page: str | bytes, content_type: str | None = None, outlet_id: str = "baogialai") -> ExtractionError:
    body = page.encode("utf-8") if isinstance(page, str) else page
    with pytest.raises(ExtractionError) as raised:
        extract_page(body, PAGES[outlet_id][0], load_registry()[outlet_id], content_type)
    return raised.value


def test_the_bytes_decide_the_charset_not_the_header():
    """UTF-8 bytes under a header saying windows-1258, and a UTF-8 byte order mark under a
    header saying ISO-8859-1, are read as UTF-8."""
    page = article_page().encode("utf-8")
    outlet = load_registry()["baogialai"]
    for body, header in ((page, "text/html; charset=windows-1258"),
                         (b"\xef\xbb\xbf" + page, "text/html; charset=iso-8859-1")):
        assert extract_page(body, PAGES["baogialai"][0], outlet, header).fields["body"] == "\n\n".join(OWN)


def test_a_replacement_character_is_bad_charset():
    error = refused(article_page("<p>Giá lúa tăng \ufffd trong tuần qua.</p>"))
    assert error.kind == "bad_charset" and "('\ufffd')" in str(error)


def test_legacy_bytes_no_charset_reads_cleanly_are_bad_charset():
    """Bytes undefined in both Vietnamese code pages (0x81, 0x8d, 0x90) under a UTF-8 header."""
    error = refused(article_page().encode("utf-8").replace("ồ".encode("utf-8"), b"\x81\x8d\x90"),
                    "text/html; charset=utf-8")
    assert error.kind == "bad_charset" and "not valid UTF-8" in str(error)


def test_a_headline_about_something_not_found_is_an_article():
    heading = "Không tìm thấy thi thể nạn nhân mất tích sau 3 ngày tìm kiếm trên sông Ba"
    result = extract_article(article_page(heading=heading), PAGES["baogialai"][0], load_registry()["baogialai"])
    assert result.fields["title"] == heading


@pytest.mark.parametrize("heading", ["404", "Lỗi 404 - Không tìm thấy trang", "Trang bạn tìm không tồn tại",
                                     "Page not found"])
def test_a_not_found_heading_is_a_soft_404(heading):
    assert refused(article_page(heading=heading)).kind == "soft_404"


def test_a_comment_captcha_on_an_article_is_not_an_interstitial():
    form = ('<form class="comment-form"><textarea></textarea><div class="g-recaptcha" '
            'data-sitekey="sample"></div><noscript>Vui lòng bật JavaScript để bình luận.</noscript></form>')
    url, _, template = PAGES["baogialai"]
    page = article_page().replace("</body>", form + "</body>")
    assert extract_article(page, url, load_registry()["baogialai"]).fields["body"] == "\n\n".join(OWN)


def test_another_articles_json_ld_gives_nothing():
    """The only JSON-LD on the page names another of the outlet's articles: its headline and
    its date are not this page's (no date → published_at null, recorded as bad_date)."""
    other = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Tin khác", '
             '"url": "https://congthuong.vn/tin-khac-412001.htm", "datePublished": "2019-03-12T07:00:00+07:00", '
             '"description": "Mô tả của tin khác."}</script>')
    url, _, template = PAGES["congthuong"]
    html = (f'<html><head><meta charset="utf-8">{other}</head><body>'
            f'{template.format(body="".join(f"<p>{p}</p>" for p in OWN))}</body></html>')
    result = extract_article(html, url, load_registry()["congthuong"])
    assert result.fields["published_at"] is None and result.fields["lead"] != "Mô tả của tin khác."


@pytest.mark.parametrize("ld", [
    '{"@type": ["NewsArticle", {"x": 1}], "headline": {"@value": "Tiêu đề mẫu từ JSON-LD"}, "author": [{"name": ["An"]}, "Bình"]}',
    '{"@type": "NewsArticle", "headline": [["Tiêu đề mẫu từ JSON-LD"]], "keywords": {"a": 1}, "@graph": {"@type": "WebPage"}}',
])
def test_json_ld_of_any_shape_is_read_never_crashes(ld):
    url, _, template = PAGES["congthuong"]
    body = "".join(f"<p>{p}</p>" for p in OWN)
    html = (f'<html><head><script type="application/ld+json">{ld}</script></head><body><div id="main-detail">'
            f'<div class="detail-inner">{body}</div></div></body></html>')
    result = extract_article(html, url, load_registry()["congthuong"])
    assert result.fields["title"] == "Tiêu đề mẫu từ JSON-LD" and result.methods["title"] == "json-ld"


def test_an_unexpected_exception_is_a_parse_failed_error(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("x")
    monkeypatch.setattr("pressmon.crawlers.extract.parse_date", broken)
    error = refused(article_page())
    assert error.kind == "parse_failed" and str(error) == "extraction failed: KeyError: 'x'"


def test_a_date_in_the_future_is_no_date():
    """published_at null with the raw text kept: the crawl records it as a bad date."""
    head = '<meta property="article:published_time" content="2099-03-01T08:00:00+07:00">'
    result = extract_article(article_page(head=head), PAGES["baogialai"][0], load_registry()["baogialai"])
    assert result.fields["published_at"] is None
    assert result.fields["published_raw"] == "2099-03-01T08:00:00+07:00"


def test_the_lead_with_its_outlet_marker_is_not_a_title():
    """No heading, no <title>, no og:title: the "(GLO)- …" sapo in a title's place is refused."""
    url, _, _ = PAGES["baogialai"]
    lead = "(GLO)- Sáng nay, Sở Nông nghiệp và Môi trường kiểm tra các hồ chứa thủy lợi trên địa bàn tỉnh."
    html = (f'<html><head><meta name="description" content="{lead}"></head><body><h2 class="article__sapo">{lead}</h2>'
            f'<div class="article__body">{"".join(f"<p>{p}</p>" for p in OWN)}</div></body></html>')
    error = refused(html)
    assert error.kind == "no_title" and "is the lead" in str(error)
