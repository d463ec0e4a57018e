"""The vocabulary of `crawl_errors.kind`: what each kind means, in Vietnamese for the staff
site, and which family it belongs to for the morning health check.

Families: `fetch` — the page could not be fetched whole (the site or the network failed);
`page` — a page came, but it is not an article pressmon can store (a changed layout shows up
here first); `bounded` — pressmon stopped on purpose (a limit, robots.txt); `kept` — the
article was stored, with something a person should know.
"""

from __future__ import annotations

ERROR_KINDS: dict[str, tuple[str, str]] = {
    # fetch
    "http_error": ("fetch", "máy chủ trả lỗi HTTP"),
    "timeout": ("fetch", "quá thời gian chờ"),
    "dns": ("fetch", "không tìm được tên miền"),
    "connection_refused": ("fetch", "máy chủ từ chối kết nối"),
    "connection_reset": ("fetch", "kết nối bị ngắt"),
    "truncated": ("fetch", "trang bị cắt cụt"),
    "redirect_loop": ("fetch", "chuyển hướng vòng lặp"),
    "offsite_redirect": ("fetch", "chuyển hướng sang trang khác"),
    "too_large": ("fetch", "trang quá lớn"),
    "ignored": ("fetch", "yêu cầu bị bỏ qua"),
    "other": ("fetch", "lỗi khác khi tải"),
    # page
    "not_html": ("page", "không phải trang HTML"),
    "empty_feed": ("page", "nguồn RSS rỗng"),
    "parse_failed": ("page", "không phân tích được"),
    "bad_charset": ("page", "sai bảng mã chữ"),
    "interstitial": ("page", "trang chặn/kiểm tra chống bot"),
    "soft_404": ("page", "trang báo không tìm thấy"),
    "no_title": ("page", "không có tiêu đề"),
    "spider_exception": ("page", "lỗi của bộ thu thập"),
    "pipeline_error": ("page", "lỗi khi xử lý, lưu bài"),
    # bounded
    "robots": ("bounded", "robots.txt không cho phép"),
    "limit": ("bounded", "chạm giới hạn thu thập"),
    # kept
    "bad_date": ("kept", "không đọc được ngày đăng"),
    "canonical_conflict": ("kept", "liên kết gốc trỏ tới bài khác"),
}

FETCH_KINDS = tuple(k for k, (family, _) in ERROR_KINDS.items() if family == "fetch")
PAGE_KINDS = tuple(k for k, (family, _) in ERROR_KINDS.items() if family == "page")
