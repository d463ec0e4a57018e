import pytest

from pressmon.crawlers.registry import RegistryError, load_registry, media_kinds, outlet_for_url, outlet_kinds
from pressmon.crawlers.spiders.families import FAMILY_SPIDERS
from pressmon.crawlers.spiders.outlets import OUTLET_SPIDERS
from pressmon.crawlers.urls import canonical_url

REQUIRED = {"baogialai.com.vn", "gialai.gov.vn", "gialaitv.vn", "nongnghiepmoitruong.vn", "congthuong.vn"}


def test_registry_covers_the_outlets_the_issue_names():
    registry = load_registry()
    domains = {d for o in registry.values() for d in o.domains}
    assert REQUIRED <= domains
    assert any(d.endswith(".gialai.gov.vn") for d in domains), "a department portal"
    for outlet in registry.values():
        assert outlet.kind in outlet_kinds()
        assert outlet.spider in FAMILY_SPIDERS
        assert outlet.selectors.get("title"), outlet.id
        assert outlet.rss or outlet.sitemaps or outlet.sections, f"{outlet.id} has no discovery"


def test_every_outlet_has_a_spider_named_after_it():
    assert set(OUTLET_SPIDERS) == set(load_registry())
    assert OUTLET_SPIDERS["baogialai"].name == "baogialai"


def test_outlet_inherits_family_selectors_and_overrides():
    registry = load_registry()
    assert registry["baogialai"].selectors["body"] == "div.article__body"
    assert registry["nongnghiepmoitruong"].selectors["body"] == ".content-detail"
    assert "figcaption" in registry["nongnghiepmoitruong"].selectors["drop"]


@pytest.mark.parametrize("url, outlet_id", [
    ("https://baogialai.com.vn/a-post565021.html", "baogialai"),
    ("https://snnmt.gialai.gov.vn/tin-tuc/moi-truong/x.html", "snnmt-gialai"),
    ("https://gialai.gov.vn/tin-tuc/a/b.html", "gialai-gov"),
    ("https://www.gialai.gov.vn/", "gialai-gov"),
    ("https://example.com/", None),
])
def test_outlet_for_url_takes_the_most_specific_domain(url, outlet_id):
    found = outlet_for_url(url)
    assert (found.id if found else None) == outlet_id


def test_article_url_patterns():
    registry = load_registry()
    assert registry["baogialai"].is_article_url("https://baogialai.com.vn/rac-thai-post565021.html")
    assert not registry["baogialai"].is_article_url("https://baogialai.com.vn/moi-truong-tag1234.html")
    assert not registry["baogialai"].is_article_url("https://baogialai.com.vn/kinh-te/")


def test_canonical_url_drops_tracking_and_fragment():
    assert canonical_url("HTTPS://BaoGiaLai.com.vn/a-post1.html?utm_source=home&utm_medium=top#binh-luan") \
        == "https://baogialai.com.vn/a-post1.html"
    assert canonical_url("https://gialai.gov.vn/tin-tuc/a?page=2&fbclid=x") == "https://gialai.gov.vn/tin-tuc/a?page=2"


def test_registry_errors_are_clear(tmp_path):
    bad = tmp_path / "outlets.toml"
    vocabulary = '[kinds]\nnewspaper="Báo"\n[media_kinds]\ntext="Văn bản"\n'
    bad.write_text(vocabulary + '[families.x]\nspider="x"\n[[outlets]]\nid="a"\nname="A"\nkind="blog"\nfamily="x"\n'
                   'domains=["a.vn"]\nhome="https://a.vn/"\narticle_url="x"\n', encoding="utf-8")
    with pytest.raises(RegistryError, match="kind 'blog'"):
        load_registry(bad)
    no_kinds = tmp_path / "no-kinds.toml"
    no_kinds.write_text('[families.x]\nspider="x"\n', encoding="utf-8")
    with pytest.raises(RegistryError, match=r"no \[kinds\] table"):
        load_registry(no_kinds)


def test_the_outlet_and_media_kinds_are_the_registrys_with_vietnamese_labels():
    """One home for the kinds a report counts by and the labels staff read."""
    assert outlet_kinds() == {"newspaper": "Báo", "broadcaster": "Phát thanh – Truyền hình",
                              "government_portal": "Cổng thông tin điện tử",
                              "commune_portal": "Cổng thông tin xã, phường"}
    assert media_kinds()["audio"] == "Âm thanh"
    assert all(set(o.media) <= set(media_kinds()) for o in load_registry().values())


def test_crawl_limits_have_defaults_and_per_outlet_overrides(tmp_path):
    from pressmon.crawlers.registry import Limits

    assert load_registry()["baogialai"].limits == Limits()
    assert Limits().max_listing_pages >= 10 and Limits().max_links_per_page >= 100
    entry = ('[kinds]\nnewspaper="Báo"\n[media_kinds]\ntext="Văn bản"\n[families.x]\nspider="x"\n'
             '[families.x.selectors]\ntitle="h1"\n[[outlets]]\nid="a"\nname="A"\nkind="newspaper"\nfamily="x"\n'
             'domains=["a.vn"]\nhome="https://a.vn/"\narticle_url="x"\n[outlets.limits]\n')
    good = tmp_path / "good.toml"
    good.write_text(entry + "max_pages_per_night = 50\n", encoding="utf-8")
    assert load_registry(good)["a"].limits == Limits(max_pages_per_night=50)
    typo = tmp_path / "typo.toml"
    typo.write_text(entry + "max_page_per_night = 50\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="unknown limits"):
        load_registry(typo)
    zero = tmp_path / "zero.toml"
    zero.write_text(entry + "max_links_per_page = 0\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="at least 1"):
        load_registry(zero)
