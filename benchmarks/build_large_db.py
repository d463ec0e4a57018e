"""Build a large pressmon database through the real store, for benchmarks/site_at_scale.py.

    python benchmarks/build_large_db.py --db /tmp/large.db --items 100000 [--seed 1]

Every article goes through Store.save_article (its own transaction, with its search row, its
references and its topic decisions, which save_article stores with Store.save_topics), over
all outlets of the registry and ten years of publication dates, with crawl runs per outlet and
month and a few reviewers' verdicts (Store.add_verdict). The text is synthetic Vietnamese,
assembled from a small vocabulary (NFC, as the item pipeline stores it): about a fifth of the
items speak of "ô nhiễm môi trường", about 2% name the commune Đắk Đoa, about 1% cite
Quyết định 1894/QĐ-TTg or Chỉ thị 20/CT-TTg.

For speed the build sets PRAGMA synchronous = OFF on the store's connection (a power loss
during the build could corrupt the file; a process crash cannot). Prints the rate and the
file size.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pressmon.crawlers.registry import load_registry
from pressmon.pipeline.store import Store

MODEL_VERSION = "bench-synthetic-1"
VN = timezone(timedelta(hours=7))
START = datetime(2016, 12, 1, tzinfo=VN)
YEARS = 10

SUBJECTS = [
    "UBND tỉnh", "Sở Tài nguyên và Môi trường", "Sở Công Thương", "Hội Nông dân", "Đoàn thanh niên",
    "Ban quản lý dự án", "Người dân địa phương", "Hợp tác xã", "Trường tiểu học", "Công an huyện",
    "Phòng Văn hóa", "Bệnh viện đa khoa", "Hội Liên hiệp Phụ nữ", "Doanh nghiệp tư nhân",
    "Chính quyền xã", "Trung tâm y tế", "Sở Giáo dục và Đào tạo", "Ban chỉ đạo",
]
VERBS = [
    "triển khai", "kiểm tra", "tổ chức", "hướng dẫn", "đẩy mạnh", "họp bàn về", "tuyên truyền về",
    "hoàn thành", "khảo sát", "báo cáo", "phát động", "đánh giá", "hỗ trợ", "xây dựng",
]
OBJECTS = [
    "kế hoạch phát triển nông thôn mới", "mô hình trồng cà phê bền vững", "dự án đường liên xã",
    "chương trình chuyển đổi số", "công tác phòng chống thiên tai", "lễ hội văn hóa cồng chiêng",
    "việc cấp giấy chứng nhận quyền sử dụng đất", "phong trào xây dựng đời sống văn hóa",
    "mùa vụ hồ tiêu", "hệ thống thủy lợi", "công tác tiêm chủng", "kỳ thi tốt nghiệp",
    "dịch vụ công trực tuyến", "việc giải phóng mặt bằng", "hoạt động khuyến nông",
    "chợ phiên cuối tuần", "quỹ hỗ trợ người nghèo", "đội văn nghệ quần chúng",
]
TAILS = [
    "trong năm nay", "tại hội trường", "với sự tham gia của đông đảo bà con", "theo kế hoạch đề ra",
    "trên địa bàn", "trong tháng qua", "nhằm nâng cao đời sống người dân", "đạt kết quả tích cực",
    "dưới sự chỉ đạo của lãnh đạo tỉnh", "vào sáng thứ hai", "sau nhiều tháng chuẩn bị",
]
PLACES = [
    "Pleiku", "An Khê", "Ayun Pa", "Chư Sê", "Chư Păh", "Ia Grai", "Kbang", "Kông Chro", "Mang Yang",
    "Phú Thiện", "Krông Pa", "Đức Cơ", "Chư Prông", "Ia Pa", "Đak Pơ", "Chư Pưh", "Quy Nhơn",
]
RARE_PLACE = "Đắk Đoa"
ENVIRONMENT = [
    "Tình trạng ô nhiễm môi trường tại khu dân cư đã được phản ánh nhiều lần.",
    "Cơ quan chức năng xử lý nghiêm các cơ sở gây ô nhiễm môi trường.",
    "Người dân mong muốn sớm khắc phục ô nhiễm môi trường ở các làng nghề.",
]
DOCUMENTS = [
    ("qd1894", "Quyết định 1894/QĐ-TTg", "QĐ", "1894", "TTg", "1894/QĐ-TTg"),
    ("ct20", "Chỉ thị 20/CT-TTg", "CT", "20", "TTg", "20/CT-TTg"),
]
SECTIONS = ["Thời sự", "Xã hội", "Kinh tế", "Văn hóa", "Pháp luật", "Giáo dục", "Y tế", "Tin tức"]
AUTHORS = ["Minh Châu", "PHƯƠNG VY", "Hồng Thi", "Đức Thụy", "Ngọc Sang", "Lê Nam"]
MEDIA = ["text"] * 8 + ["photo", "video"]
REVIEWERS = ["lan.pham", "minh.tran", "chi.nguyen"]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def sentence(rng: random.Random, place: str | None = None) -> str:
    where = place or rng.choice(PLACES)
    return (f"{rng.choice(SUBJECTS)} {where} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"{rng.choice(TAILS)}.")


def make_item(n: int, rng: random.Random, outlet, published: datetime) -> tuple[dict, list[dict], dict]:
    environment = rng.random() < 0.22
    dak_doa = rng.random() < 0.02
    cites = DOCUMENTS[rng.randrange(2)] if rng.random() < 0.01 else None
    title = sentence(rng, RARE_PLACE if dak_doa else None)[:-1]
    if environment and rng.random() < 0.3:
        title = f"{rng.choice(PLACES)}: khắc phục ô nhiễm môi trường {rng.choice(TAILS)}"
    lead = sentence(rng) if rng.random() < 0.85 else None
    body_sentences = [sentence(rng) for _ in range(rng.randint(6, 22))]
    if environment:
        body_sentences.insert(rng.randrange(len(body_sentences)), rng.choice(ENVIRONMENT))
    if dak_doa:
        body_sentences.insert(rng.randrange(len(body_sentences)),
                              f"Xã {RARE_PLACE} cũng {rng.choice(VERBS)} {rng.choice(OBJECTS)}.")
    references: list[dict] = []
    if cites:
        topic, text, kind, number, issuer, document = cites
        cited = f"Các đơn vị thực hiện nghiêm {text} của Thủ tướng Chính phủ."
        index = rng.randrange(len(body_sentences))
        body_sentences.insert(index, cited)
    body = nfc("\n".join(" ".join(body_sentences[i:i + 4]) for i in range(0, len(body_sentences), 4)))
    title, lead = nfc(title), lead and nfc(lead)
    topics: dict[str, dict] = {}
    for topic in ("qd1894", "ct20"):
        topics[topic] = {"tier": "none", "probability": round(rng.random() * 0.3, 3), "evidence": []}
    if cites:
        start = body.find(text)
        references.append({
            "field": "body", "start": start, "end": start + len(text), "text": text, "kind": kind,
            "number": number, "year": None, "issuer": issuer, "signed_on": None,
            "document": document, "topic": topic,
        })
        topics[topic] = {"tier": "cited", "probability": round(0.8 + rng.random() * 0.2, 3),
                         "evidence": [{"field": "body", "start": start, "end": start + len(text),
                                       "text": text, "document": document}]}
    elif environment and rng.random() < 0.1:
        topics["ct20"] = {"tier": "probable", "probability": round(0.5 + rng.random() * 0.3, 3),
                          "evidence": [{"sign": "ô nhiễm môi trường"}]}
    slug = f"bai-viet-{n}-post{100000 + n}.html"
    url = outlet.home + slug
    published_at = published.isoformat(timespec="seconds")
    item = {
        "type": "article", "outlet_id": outlet.id, "url": url, "fetched_url": url,
        "title": title, "lead": lead, "body": body, "author": rng.choice(AUTHORS),
        "section": rng.choice(SECTIONS), "tags": [nfc("môi trường")] if environment else [],
        "published_at": published_at, "published_raw": published.strftime("%d/%m/%Y %H:%M"),
        "modified_at": None, "media_kind": rng.choice(MEDIA), "language": "vi",
        "methods": {"title": "selector", "body": "trafilatura"}, "http_status": 200,
    }
    return item, references, {"model_version": MODEL_VERSION, "topics": topics}


def build(db: Path, items: int, seed: int) -> None:
    rng = random.Random(seed)
    outlets = list(load_registry().values())
    span = (START.replace(year=START.year + YEARS) - START).total_seconds()
    # Publication dates in order, as nightly crawls would store them.
    dates = sorted(START + timedelta(seconds=rng.random() * span) for _ in range(items))
    started = time.perf_counter()
    verdicts = 0
    with Store(db) as store:
        store.db.execute("PRAGMA synchronous = OFF")
        store.sync_outlets([o.as_row() for o in outlets])
        month = None
        run_id = None
        for n, published in enumerate(dates, 1):
            if published.strftime("%Y-%m") != month:
                if run_id is not None:
                    for outlet in outlets:
                        store.finish_run(run_id, outlet.id)
                month = published.strftime("%Y-%m")
                run_id = published.strftime("%Y%m01T010000-000000")
                for outlet in outlets:
                    store.start_run(run_id, outlet.id)
            outlet = outlets[rng.randrange(len(outlets))]
            item, references, classification = make_item(n, rng, outlet, published)
            outcome = store.save_article(run_id, item, references, classification)
            if outcome != "new":
                raise SystemExit(f"item {n}: {outcome}, expected new")
            tiers = {t: d["tier"] for t, d in classification["topics"].items()}
            if any(tier != "none" for tier in tiers.values()) and rng.random() < 0.05:
                topic = next(t for t, tier in tiers.items() if tier != "none")
                article_id = store.db.execute("SELECT id FROM articles WHERE url = ?",
                                              [item["url"]]).fetchone()[0]
                store.add_verdict(article_id, topic, "confirmed" if rng.random() < 0.7 else "rejected",
                                  rng.choice(REVIEWERS), "kiểm tra thử")
                verdicts += 1
            if n % 10000 == 0:
                elapsed = time.perf_counter() - started
                print(f"  {n:,} items, {n / elapsed:,.0f} items/s", file=sys.stderr, flush=True)
        if run_id is not None:
            for outlet in outlets:
                store.finish_run(run_id, outlet.id)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elapsed = time.perf_counter() - started
    size = os.path.getsize(db)
    rate = items / elapsed
    print(f"built {db}: {items:,} articles ({verdicts} verdicts) over {len(outlets)} outlets, "
          f"{dates[0]:%Y-%m-%d} .. {dates[-1]:%Y-%m-%d}")
    print(f"time {elapsed:,.1f} s, rate {rate:,.0f} items/s "
          f"(1,000,000 items would take about {1_000_000 / rate / 60:,.0f} min at this rate)")
    print(f"file size {size / 1e6:,.1f} MB ({size / items / 1e3:,.1f} kB per item)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--items", required=True, type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.db.exists():
        raise SystemExit(f"{args.db} exists: give a new path")
    build(args.db, args.items, args.seed)


if __name__ == "__main__":
    main()
