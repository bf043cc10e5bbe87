"""A statement's HTML page printed to PDF by a headless Chromium (A4, as the page's CSS says).

Uses Debian's ``chromium-headless-shell`` (or ``chromium``) when it is installed
(``apt-get install chromium-headless-shell``); no Python package is needed. The page is a
local file with no scripts and no external resources, printed with networking off.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

_PAGE = re.compile(rb"/Type\s*/Page[^s]")


class PdfUnavailable(RuntimeError):
    """No headless Chromium is installed, or it failed to print."""


def find_chromium() -> str | None:
    """The headless Chromium to print with, if any is installed."""
    return shutil.which("chromium-headless-shell") or shutil.which("chromium")


def html_to_pdf(page: str, *, browser: str | None = None, timeout_s: float = 60) -> bytes:
    """``page`` printed to PDF; raises :class:`PdfUnavailable` without a browser."""
    executable = browser or find_chromium()
    if executable is None:
        raise PdfUnavailable(
            "PDF needs a headless Chromium: apt-get install chromium-headless-shell"
        )
    with tempfile.TemporaryDirectory(prefix="hygie-pdf-") as folder:
        source = Path(folder) / "statement.html"
        target = Path(folder) / "statement.pdf"
        source.write_text(page, encoding="utf-8")
        command = [
            executable,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--proxy-server=127.0.0.1:9",  # nothing may be fetched: the page is standalone
            f"--user-data-dir={Path(folder) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        if os.geteuid() == 0:
            # Chromium's sandbox refuses to run as root (containers); the page is our own.
            command.insert(1, "--no-sandbox")
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=timeout_s)
        except (OSError, subprocess.SubprocessError) as exc:
            raise PdfUnavailable(f"printing to PDF failed: {exc}") from exc
        if not target.exists():
            raise PdfUnavailable("the browser wrote no PDF")
        return target.read_bytes()


def page_count(pdf: bytes) -> int:
    """How many pages a PDF has (counts its page objects)."""
    return len(_PAGE.findall(pdf))
