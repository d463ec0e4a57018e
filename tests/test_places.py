"""nlp.places: commune and ward mentions.

Each case lists ALL mentions expected in its text, in order, as (text as written, GSO code);
a missing or extra mention fails it. Spans are checked against the input string.
"""

import csv
import dataclasses
import pathlib
import unicodedata

import pytest

from pressmon.nlp.places import Place, communes, find_places

DATA = pathlib.Path(__file__).parent.parent / "nlp" / "data" / "gialai_communes_2025.csv"
CODE = {c.name: c.code for c in communes()}


def P(written, name):
    return (written, CODE[name])


CASES = [
    # official names, with prefix
    ("official", "UBND xã Đak Đoa và phường Quy Nhơn Bắc họp.",
     [P("xã Đak Đoa", "Xã Đak Đoa"), P("phường Quy Nhơn Bắc", "Phường Quy Nhơn Bắc")]),
    ("upper case", "XÃ IA GRAI RA QUÂN", [P("XÃ IA GRAI", "Xã Ia Grai")]),
    ("abbreviated prefix", "X.Ia Grai, P. Pleiku", [P("X.Ia Grai", "Xã Ia Grai"), P("P. Pleiku", "Phường Pleiku")]),
    # without diacritics
    ("no diacritics", "tai xa dak doa va phuong quy nhon nam",
     [P("xa dak doa", "Xã Đak Đoa"), P("phuong quy nhon nam", "Phường Quy Nhơn Nam")]),
    # without prefix
    ("bare", "Hồ tiêu Chư Sê, cà phê Ia Grai, chè Bàu Cạn", [
        P("Chư Sê", "Xã Chư Sê"), P("Ia Grai", "Xã Ia Grai"), P("Bàu Cạn", "Xã Bàu Cạn")]),
    ("bare Pleiku", "Một doanh nghiệp tại Pleiku.", [P("Pleiku", "Phường Pleiku")]),
    # Đak/Đăk/Đắk/Dak
    ("dak variants", "Đak Đoa, Đăk Đoa, Đắk Đoa, Dak Doa, ĐakĐoa, Đak-Đoa",
     [P(w, "Xã Đak Đoa") for w in ["Đak Đoa", "Đăk Đoa", "Đắk Đoa", "Dak Doa", "ĐakĐoa", "Đak-Đoa"]]),
    ("dak song needs prefix", "huyện Đắk Song (Lâm Đồng); xã Đắk Song", [P("xã Đắk Song", "Xã Đăk Song")]),
    ("K'Dang", "xã K'Dang, xã K’Dang, xã KDang, xã Kdang",
     [P(w, "Xã KDang") for w in ["xã K'Dang", "xã K’Dang", "xã KDang", "xã Kdang"]]),
    ("Ia spacing and hyphen", "Iagrai, Ia-Grai, Ia  Grai", [P(w, "Xã Ia Grai") for w in ["Iagrai", "Ia-Grai", "Ia  Grai"]]),
    ("Ayun Pa", "AyunPa, Ayun Pa, phường Ayun Pa",
     [P(w, "Phường Ayun Pa") for w in ["AyunPa", "Ayun Pa", "phường Ayun Pa"]]),
    ("old orthography", "Qui Nhơn", [P("Qui Nhơn", "Phường Quy Nhơn")]),
    # old tone placement
    ("old tone", "xã Hoà Hội; Hoà Hội; HOÀ HỘI", [
        P("xã Hoà Hội", "Xã Hòa Hội"), P("Hoà Hội", "Xã Hòa Hội"), P("HOÀ HỘI", "Xã Hòa Hội")]),
    # longest match
    ("longest", "phường Quy Nhơn Bắc", [P("phường Quy Nhơn Bắc", "Phường Quy Nhơn Bắc")]),
    ("longest bare", "Quy Nhơn Đông và Quy Nhơn", [
        P("Quy Nhơn Đông", "Phường Quy Nhơn Đông"), P("Quy Nhơn", "Phường Quy Nhơn")]),
    ("longest west", "xã An Nhơn Tây, phường An Nhơn", [
        P("xã An Nhơn Tây", "Xã An Nhơn Tây"), P("phường An Nhơn", "Phường An Nhơn")]),
    ("Ayun Pa over Ayun", "xã Ayun, phường Ayun Pa", [P("xã Ayun", "Xã Ayun"), P("phường Ayun Pa", "Phường Ayun Pa")]),
    # no match inside words
    ("inside words", "Pleikuy, xPleiku, Iagraix, Quy Nhơnn, phườngQuy Nhơn Bắcx", []),
    # bare ambiguous names
    ("common words", "thống nhất ý kiến, an toàn thực phẩm, cổng tam quan, bình an", []),
    ("former province", "tỉnh Bình Định cũ, Bình Định và Bình Dương", []),
    ("one-word names", "tiếng gào, sông Ayun, Kbang, Krong", []),
    ("former district after designator", "TP Quy Nhơn, TP. Pleiku, thị xã An Nhơn, huyện Chư Păh, tỉnh Gia Lai", []),
    ("thị xã is not xã", "thị xã An Khê", []),
    ("prefix of the wrong type", "xã Bình Định", []),
    ("wrong prefix spelling", "phương Thống Nhất, xá Gào", []),
    ("folds to a common word", "tạo ấn tượng, tố tụng, Hội Phụ nữ, vấn đề gì, ăn lương, Cát Tiên, Phú Mỹ", []),
    ("common fold without diacritics", "an tuong, to tung, de gi", []),
    ("same name with diacritics", "Ân Tường, Tơ Tung, Đề Gi", [
        P("Ân Tường", "Xã Ân Tường"), P("Tơ Tung", "Xã Tơ Tung"), P("Đề Gi", "Xã Đề Gi")]),
    ("person name", "ông Nguyễn Hoài Ân ở xã Hoài Ân", [P("xã Hoài Ân", "Xã Hoài Ân")]),
    # prefix-required names with the prefix, and lists
    ("prefix-required with prefix", "phường Thống Nhất, xã Gào, phường Bình Định",
     [P("phường Thống Nhất", "Phường Thống Nhất"), P("xã Gào", "Xã Gào"), P("phường Bình Định", "Phường Bình Định")]),
    ("list carries the prefix", "các phường Thống Nhất, Diên Hồng và An Phú; 3 xã Gào, xã Biển Hồ", [
        P("phường Thống Nhất", "Phường Thống Nhất"), P("Diên Hồng", "Phường Diên Hồng"),
        P("An Phú", "Phường An Phú"), P("xã Gào", "Xã Gào"), P("xã Biển Hồ", "Xã Biển Hồ")]),
    ("list stops at another type", "các xã Ia Pa, phường An Phú", [
        P("xã Ia Pa", "Xã Ia Pa"), P("phường An Phú", "Phường An Phú")]),
    ("no list without plural", "phường Quy Nhơn, Bình Định", [P("phường Quy Nhơn", "Phường Quy Nhơn")]),
    ("empty", "", []),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cases(text, expected):
    found = find_places(text)
    for p in found:
        assert text[p.start:p.end] == p.text
    assert [(p.text, p.commune_code) for p in found] == expected


def test_spans_and_fields():
    text = "Tại xã Ia Grai, hôm qua."
    (p,) = find_places(text)
    assert (p.start, p.end, p.text) == (4, 14, "xã Ia Grai")
    assert p.as_dict() == {"commune_code": "23764", "commune_name": "Xã Ia Grai", "division_type": "xã",
                           "start": 4, "end": 14, "text": "xã Ia Grai"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.start = 0  # type: ignore[misc]
    assert isinstance(p, Place)


@pytest.mark.parametrize("text", ["Ở phường Quy Nhơn Bắc và Hoà Hội, xã Đắk Đoa.",
                                  "Ở PHƯỜNG QUY NHƠN BẮC và HOÀ HỘI, xã Đắk Đoa."])
def test_nfd_input_spans_map_to_input(text):
    nfd = unicodedata.normalize("NFD", text)
    assert len(nfd) != len(text)
    nfc_found, nfd_found = find_places(text), find_places(nfd)
    assert [p.commune_code for p in nfd_found] == [p.commune_code for p in nfc_found]
    assert len(nfd_found) == 3
    for p in nfd_found:
        assert nfd[p.start:p.end] == p.text
        assert unicodedata.normalize("NFC", p.text) in text
        # the combining marks of the last letter belong to the span
        assert p.end == len(nfd) or not unicodedata.combining(nfd[p.end])


def test_every_official_name_found_with_its_own_code():
    units = communes()
    assert len(units) == 135
    assert sum(u.division_type == "xã" for u in units) == 110
    for unit in units:
        for name in (unit.name, unit.name.lower(), unit.name.upper()):
            sentence = f"Tại {name}, người dân phấn khởi."
            found = find_places(sentence)
            assert [(p.commune_code, p.text) for p in found] == [(unit.code, name)], sentence


def test_every_bare_name_maps_to_its_own_code_or_nothing():
    for unit in communes():
        found = find_places(f"Tại {unit.bare_name}, người dân phấn khởi.")
        assert [p.commune_code for p in found] in ([unit.code], []), unit.name


def test_data_file_is_the_reference_list_with_its_source():
    with DATA.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 135
    assert all(r["source"].startswith("vietnam-provinces 2025.10.1") for r in rows)
    assert {r["code"] for r in rows} == {u.code for u in communes()}


def test_nlp_places_imports_no_later_stage():
    source = (pathlib.Path(__file__).parent.parent / "nlp" / "places.py").read_text(encoding="utf-8")
    assert "import pipeline" not in source and "from pipeline" not in source
    assert "import crawlers" not in source and "from crawlers" not in source
