"""Throughput of nlp.normalize.normalize_text and fold on ~1 MB of mixed text.

    python benchmarks/normalize_speed.py
"""

import time

from pressmon.nlp.normalize import fold, normalize_text

PARAGRAPH = ("Uỷ ban nhân dân tỉnh Gia Lai ban hành Kế hoạch thực hiện Quyết định số 1894/QĐ-TTg "
             "về phát triển ngành công nghiệp môi trường; hoà nhập, khoẻ mạnh, thuỷ lợi.\u00a0\r\n")


def megabytes_per_second(function, text: str, repeat: int = 5) -> float:
    best = min(_timed(function, text) for _ in range(repeat))
    return len(text.encode()) / best / 1e6


def _timed(function, text):
    start = time.perf_counter()
    function(text)
    return time.perf_counter() - start


if __name__ == "__main__":
    sample = PARAGRAPH * (1_000_000 // len(PARAGRAPH.encode()))
    print(f"normalize_text: {megabytes_per_second(normalize_text, sample):.1f} MB/s")
    print(f"fold:           {megabytes_per_second(fold, sample):.1f} MB/s")
