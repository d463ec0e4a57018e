"""The package as a user installs it: a wheel built from this checkout, installed into an
environment of its own (not editable), run from a folder outside the repository. It must hold
everything under the one name `pressmon`, run the demo and classify text with the model it ships
(no training step, nothing written into the package or the user's data folder), and serve the
whole site (metadata, templates, plugins)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, TEST_SCALE


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (path,) = out.glob("pressmon-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A new environment with the wheel installed for real (no editable finder, no checkout on
    the path); the libraries pressmon needs come from this test run's environment through a
    .pth line, which Python adds to sys.path without reading the .pth files there."""
    env = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    python = env / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                             str(wheel)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return env


def run(venv: Path, folder: Path, *args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(venv / "bin" / "pressmon"), *args], cwd=folder, capture_output=True, text=True,
                          env={**environment, **(env or {})}, timeout=600, **kwargs)


def test_everything_installed_is_under_pressmon(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"pressmon", wheel.name.split("-py3")[0] + ".dist-info"}
    for needed in ("pressmon/datasette/metadata.yml", "pressmon/datasette/templates/row.html",
                   "pressmon/datasette/plugins/pressmon_article.py", "pressmon/crawlers/outlets.toml",
                   "pressmon/crawlers/mirror/sites/_manifest.json", "pressmon/nlp/data/corpus/ct20.jsonl",
                   "pressmon/pipeline/cli/__main__.py"):
        assert needed in names, needed


def test_the_installed_package_runs_the_demo_serves_the_site_and_classifies(installed, tmp_path):
    folder = tmp_path / "somewhere-else"
    folder.mkdir()
    home = tmp_path / "home"  # a new user: no model of their own, no PRESSMON_MODEL
    user = {"HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share"), "PRESSMON_MODEL": ""}
    generic = subprocess.run([str(installed / "bin" / "python"), "-c",
                              "import importlib.util as u; print([m for m in ('crawlers', 'nlp', 'pipeline') "
                              "if u.find_spec(m)])"], cwd=folder, capture_output=True, text=True, check=True)
    assert generic.stdout.strip() == "[]"
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import pressmon.pipeline.cli as c; "
                            "print(c.__file__)"], cwd=folder, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(installed)), where.stdout

    documents = run(installed, folder, "documents", "--json", env=user)
    assert [(d["id"], d["number"]) for d in json.loads(documents.stdout)] == [("qd1894", "1894/QĐ-TTg"),
                                                                              ("ct20", "20/CT-TTg")]
    package = installed / "lib"
    before = sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts)
    demo = run(installed, folder, "demo", "--no-serve", "--politeness-scale", TEST_SCALE, "--no-progress", env=user)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    assert "pressmon.db: 164 articles" in demo.stdout and "train" not in demo.stdout
    # The lock file stays: it is what the next crawl or nightly cycle locks.
    assert sorted(p.name for p in folder.iterdir()) == ["pressmon.db", "pressmon.db.lock", "pressmon.warc"]

    items = [{"id": 1, "title": "Gia Lai triển khai Chỉ thị số 20/CT-TTg",
              "body": "Thực hiện Chỉ thị số 20/CT-TTg của Thủ tướng Chính phủ về ngăn chặn ô nhiễm môi trường, "
                      "tỉnh lập đoàn kiểm tra các cơ sở xả thải."},
             {"id": 2, "title": "Doanh nghiệp chế tạo thiết bị xử lý nước thải tìm đối tác",
              "body": "Một doanh nghiệp cơ khí ở Gia Lai giới thiệu thiết bị xử lý nước thải, tháp hấp thụ khí thải "
                      "và máy ép rác sản xuất trong nước tại hội chợ công nghệ môi trường, mong thay hàng nhập khẩu.",
              "published_at": "2026-03-02"}]
    classified = run(installed, folder, "nlp", "classify",
                     input="".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), env=user)
    assert classified.returncode == 0, classified.stderr[-2000:]
    first, second = (json.loads(line) for line in classified.stdout.splitlines())
    assert first["topics"]["ct20"]["tier"] == "cited"
    assert second["topics"]["qd1894"]["tier"] == "probable" and second["topics"]["qd1894"]["probability"] > 0.5
    assert not home.exists()  # nothing trained or saved for the user
    assert sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts) == before

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(installed / "bin" / "pressmon"), "serve", "--public", "--port", str(port)], cwd=folder,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        pages = {path: fetch(port, path, server) for path in (
            "/", "/pressmon/article_list?_search=dak+doa", "/pressmon/articles/1", "/-/dashboards/do-phu-tuyen-truyen",
            "/-/login", "/pressmon-static/review.js")}
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Giám sát truyền thông Gia Lai" in pages["/"]
    assert "Đak Đoa" in pages["/pressmon/article_list?_search=dak+doa"]
    assert 'name="password"' in pages["/-/login"] and "Đăng nhập" in pages["/-/login"]
    assert "keydown" in pages["/pressmon-static/review.js"]  # static files from the package
    assert 'class="pressmon-article"' in pages["/pressmon/articles/1"]  # templates and plugin from the package
    assert "vega" in pages["/-/dashboards/do-phu-tuyen-truyen"]


def fetch(port: int, path: str, server: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                return response.read().decode("utf-8")
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"no answer for {path}")
