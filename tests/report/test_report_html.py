"""report.html and write_report: self-contained page, four plots, atomic writes."""

from __future__ import annotations

import base64
import re

import pytest

from simulator.report import jsonreport, write_report
from simulator.report.html import write_html
from simulator.report.plots import link_utilisation_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_html_embeds_four_plots_and_tables(tmp_path, results):
    path = write_html(results, tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 4
    for data in images:
        assert base64.b64decode(data).startswith(PNG_MAGIC)
    # no external resources: no remote URLs, no linked stylesheets or scripts
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert html.count("<table>") == 6
    assert "access (40 links)" in html and 'class="flag"' in html
    assert "Test town" in html


def test_plot_is_a_png_of_sensible_size(results):
    png = link_utilisation_png(results)
    assert png.startswith(PNG_MAGIC)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1000, 400)


def test_write_report_writes_everything(tmp_path, results):
    out = tmp_path / "new" / "dir"
    paths = write_report(results, out)
    names = [p.name for p in paths]
    assert names == [
        "summary.txt",
        "report.json",
        "links.csv",
        "servers.csv",
        "storage.csv",
        "cameras.csv",
        "report.html",
    ]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # no temp files left


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, results, monkeypatch):
    path = tmp_path / "report.json"
    jsonreport.write_json(results, path)
    before = path.read_bytes()

    def broken(_results):
        raise RuntimeError("disk full")

    monkeypatch.setattr(jsonreport, "to_json_dict", broken)
    with pytest.raises(RuntimeError):
        jsonreport.write_json(results, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_failed_atomic_write_removes_temp(tmp_path, monkeypatch):
    from simulator.report import files

    def fail(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(OSError):
        files.atomic_write_text(tmp_path / "x.txt", "hello")
    assert list(tmp_path.iterdir()) == []
