"""Screenshots of `make report`'s output for the README, with headless Chromium.

    make report && .venv/bin/python docs/screenshots.py

Writes docs/report-390.png, docs/report-1280.png, docs/email-390.png and docs/email-1280.png: the top
of report.html and of email/body.html (its cid: charts pointed at the PNGs beside it, as a mail client
shows them) at a phone's width (390 px, in an iframe: headless Chromium's window is never narrower
than 500 px) and a desktop's (1280 px). Each is reduced to 64 colours to stay small.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    "--allow-file-access-from-files",
]  # fmt: skip
HEIGHT = {390: 2000, 1280: 1500}


def shoot(chromium: str, page: Path, width: int, out: Path, tmp: Path) -> None:
    wrapper = tmp / f"wrap-{width}.html"
    frame = (
        f'<iframe src="{page.as_uri()}" style="width:{width}px;height:{HEIGHT[width]}px;border:0"></iframe>'
    )
    wrapper.write_text(f'<!DOCTYPE html><html><body style="margin:0">{frame}</body></html>')
    shot = tmp / "shot.png"
    subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={tmp / 'profile'}",
         f"--window-size={max(width, 500)},{HEIGHT[width]}", f"--screenshot={shot}",
         "--virtual-time-budget=5000", wrapper.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    image = Image.open(shot).convert("RGB").crop((0, 0, width, HEIGHT[width]))
    image.quantize(colors=64).save(out, optimize=True)
    print(f"{out.relative_to(ROOT)}: {out.stat().st_size:,} bytes")


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    run = ROOT / "reports" / "sample"
    if chromium is None or not (run / "report.html").exists():
        print("needs chromium and `make report`'s reports/sample/", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        email = run / "email" / "body.html"
        shown = email.with_name("screenshot.html")  # beside its PNGs, so cid:NAME -> NAME.png
        shown.write_text(email.read_text(encoding="utf-8").replace('src="cid:', 'src="').replace(
            'alt="', 'data-alt="'), encoding="utf-8")  # fmt: skip
        html = shown.read_text(encoding="utf-8")
        for png in (run / "email").glob("*.png"):
            html = html.replace(f'src="{png.stem}"', f'src="{png.name}"')
        shown.write_text(html, encoding="utf-8")
        try:
            for width in (390, 1280):
                shoot(chromium, run / "report.html", width, ROOT / "docs" / f"report-{width}.png", tmp)
                shoot(chromium, shown, width, ROOT / "docs" / f"email-{width}.png", tmp)
        finally:
            shown.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
