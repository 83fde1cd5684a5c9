"""The committed widget build (`functions/linkback/read/static/widget.js`, what MentionsFunction serves) is
what `widget/build.mjs` makes from `widget/src/`, within its size budget, and served with the right
cache rules."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from linkback.read import widget_asset

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "functions" / "linkback" / "read" / "static" / "widget.js"
BUDGET_GZIPPED = 5 * 1024
NODE = shutil.which("node")
ESBUILD = ROOT / "node_modules" / "esbuild"


@pytest.mark.skipif(NODE is None or not ESBUILD.exists(), reason="needs node and `npm ci` (make test does both)")
def test_the_committed_build_is_up_to_date_with_the_source(tmp_path: Path) -> None:
    # Given the source as it is now
    # When it is built again into a scratch directory
    built = subprocess.run(
        [str(NODE), str(ROOT / "widget" / "build.mjs"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    # Then it is byte for byte the committed file (else: `npm run build:widget` and commit the result)
    assert (tmp_path / "widget.js").read_bytes() == COMMITTED.read_bytes(), "run `npm run build:widget`"


def test_the_widget_is_at_most_5_kb_gzipped() -> None:
    size = len(gzip.compress(COMMITTED.read_bytes(), compresslevel=9))
    print(f"widget.js: {COMMITTED.stat().st_size} bytes, {size} bytes gzipped")
    assert size <= BUDGET_GZIPPED


def test_the_build_builds_no_markup_from_strings() -> None:
    # The widget's safety rests on never parsing feed data as HTML.
    code = COMMITTED.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code


def test_the_versioned_url_is_cached_for_a_year_and_the_bare_one_briefly() -> None:
    asset = widget_asset.from_bytes(b"console.log(1)")
    assert asset.cache_control(asset.version) == "public, max-age=31536000, immutable"
    assert asset.cache_control(None) == widget_asset.SHORT
    # an old version's URL gets today's file, which must not be pinned under the old name for a year
    assert asset.cache_control("0" * widget_asset.VERSION_LENGTH) == widget_asset.SHORT
    assert asset.path() == f"/widget.js?v={asset.version}"


def test_the_etag_is_strong_and_changes_with_the_content() -> None:
    one, two = widget_asset.from_bytes(b"a"), widget_asset.from_bytes(b"b")
    assert one.etag.startswith('"') and one.etag.endswith('"') and not one.etag.startswith("W/")
    assert one.etag != two.etag and one.version != two.version


def test_the_served_asset_is_the_committed_build() -> None:
    assert widget_asset.widget().body == COMMITTED.read_bytes()
