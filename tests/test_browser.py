"""The report in a real browser (Debian's headless Chromium): no horizontal scroll on a phone or a desktop.

Headless Chromium's window is never narrower than 500 px, so each page is loaded in an iframe of the
width under test (390 px: a phone; 1280 px: a desktop) and a script in the outer page reads the
iframe's scrollWidth once everything has loaded. The report itself carries no script.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reporter.cli import cli
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
]  # fmt: skip
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's chromium)"
)

# For each iframe: the page's width against its viewport, and any table box wider than its
# container (a table that would scroll inside the page); the result lands in <pre id="out">.
MEASURE = """
<script>
window.addEventListener("load", () => {
  const out = {};
  for (const frame of document.querySelectorAll("iframe")) {
    const doc = frame.contentDocument, root = doc.documentElement;
    const wide = [...doc.querySelectorAll(".scroll")].filter(e => e.scrollWidth > e.clientWidth + 1);
    out[frame.id] = {scroll: root.scrollWidth, viewport: root.clientWidth, wide_tables: wide.length,
                     titles: wide.map(e => e.closest("td").querySelector("h2").textContent)};
  }
  document.getElementById("out").textContent = JSON.stringify(out);
});
</script>
"""


def measure(pages: dict[str, Path], width: int, tmp: Path) -> dict[str, dict[str, Any]]:
    frames = "".join(
        f'<iframe id="{name}" src="{path.as_uri()}" style="width:{width}px;height:900px;border:0"></iframe>'
        for name, path in pages.items()
    )
    wrapper = tmp / f"measure-{width}.html"
    wrapper.write_text(f'<!DOCTYPE html><html><body>{frames}<pre id="out"></pre>{MEASURE}</body></html>')
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--allow-file-access-from-files",
         "--window-size=1400,1000", "--virtual-time-budget=10000", "--dump-dom", wrapper.as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    found = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found and found.group(1), done.stdout[-2000:]
    result: dict[str, dict[str, Any]] = json.loads(found.group(1).replace("&quot;", '"'))
    return result


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "r"
    result = CliRunner().invoke(cli, ["run", str(ROOT / "sample_logs"), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return {"report": out / "report.html", "email": out / "email" / "body.html"}


@pytest.mark.parametrize("width", [390, 1280])
def test_no_horizontal_scroll(pages, width, tmp_path):
    found = measure(pages, width, tmp_path)
    for name in pages:
        page = found[name]
        assert page["scroll"] <= page["viewport"], f"{name} at {width} px scrolls sideways: {page}"
    # The email's tables (at most five columns) fit as they are; report.html's widest tables may
    # scroll inside their own box at 390 px, never the page, and fit at 1280 px.
    assert found["email"]["wide_tables"] == 0, found["email"]
    if width == 1280:
        assert found["report"]["wide_tables"] == 0, found["report"]


def test_a_page_wider_than_the_phone_is_caught(tmp_path):
    """The measurement itself: a 700 px table in a 390 px frame is reported as scrolling."""
    wide = tmp_path / "wide.html"
    wide.write_text(
        '<!DOCTYPE html><html><body><table style="width:700px"><tr><td>x</td></tr></table></body></html>'
    )
    found = measure({"wide": wide}, 390, tmp_path)
    assert found["wide"]["scroll"] > found["wide"]["viewport"]
