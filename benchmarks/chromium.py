"""Debian's Chromium as Playwright drives it on these machines: the browser and its flags.

Playwright never downloads a browser here (`playwright install` is not used); the flags keep the
headless browser off the network and out of first-run work. The report screenshot of
`make evidence` and the browser tests share them.
"""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright drives it, never downloads one
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
