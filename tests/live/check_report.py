#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The HTML of `retisc report` checked in headless Chromium (tests/live/explain.sh).

check_report.py REPORT.html EXPLAIN.jsonl SCREENSHOT.png

- Chromium loads the file (file://) and dumps the DOM after its script ran:
  one row of the flow table per flow of `explain --format json` of the same
  input, the flow names as explain prints them, the SVG charts (fates,
  journey, per-hop latency histograms, drop reasons when there are drops);
- no console message at all (a CSP violation or a script error is one),
  with Chromium's console logging on; a page that logs an error on purpose
  shows the check can see one;
- nothing can leave the file: a CSP meta tag with default-src 'none', no
  http(s) URL but the SVG namespace, no src=, <link>, url( or @import, and
  one <script> (the page's own);
- a screenshot, a PNG of a plausible size.
"""
import html.parser
import json
import os
import re
import subprocess
import sys
import tempfile

CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]


def fail(msg):
    print("check_report: " + msg)
    sys.exit(1)


def run(args, timeout=90):
    with tempfile.TemporaryDirectory() as home:
        p = subprocess.run(CHROMIUM + [f"--user-data-dir={home}"] + args, capture_output=True,
                           text=True, timeout=timeout)
    if p.returncode:
        fail(f"chromium exited {p.returncode}: {p.stderr[-2000:]}")
    return p.stdout, p.stderr


def console_lines(stderr):
    # Chromium writes console messages as ...:CONSOLE(line)] "text", source: ...
    return [l for l in stderr.splitlines() if ":CONSOLE" in l or "Uncaught" in l]


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.flow_rows = 0
        self.svg_ids = []
        self.svg_classes = []
        self.circles = 0
        self.in_flow_td = False
        self.first_cells = []
        self.depth_tr = None
        self.cell = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "flow" in a.get("class", "").split():
            self.flow_rows += 1
            self.cell = 0
            self.depth_tr = True
        elif tag == "td" and self.depth_tr:
            self.cell += 1
            if self.cell == 1:
                self.in_flow_td = True
                self.first_cells.append("")
        elif tag == "svg":
            self.svg_ids.append(a.get("id"))
            self.svg_classes.append(a.get("class"))
        elif tag == "circle" and a.get("class") == "step":
            self.circles += 1

    def handle_endtag(self, tag):
        if tag == "td":
            self.in_flow_td = False
        elif tag == "tr":
            self.depth_tr = None

    def handle_data(self, data):
        if self.in_flow_td:
            self.first_cells[-1] += data


def main():
    path, jsonl, png = sys.argv[1:4]
    url = "file://" + os.path.abspath(path)
    with open(path, encoding="utf-8") as f:
        page = f.read()

    # Static: nothing that could fetch.
    if not re.search(r"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';",
                     page):
        fail("no CSP meta tag with default-src 'none'")
    urls = set(re.findall(r"https?://[^\s\"'<>]*", page))
    if urls - {"http://www.w3.org/2000/svg"}:
        fail(f"external URLs in the page: {sorted(urls)}")
    for bad in (" src=", "<link", "url(", "@import", "<iframe", "<img"):
        if bad in page.lower():
            fail(f"'{bad}' in the page")
    if page.count("<script") != 1:
        fail(f"{page.count('<script')} <script> tags, want the page's own only")

    lines = [json.loads(l) for l in open(jsonl)]
    flows = [l["flow"] for l in lines if "flow" in l]
    summary = [l["summary"] for l in lines if "summary" in l][0]

    # The logging works: a page with an error is caught.
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False) as t:
        t.write("<html><body><script>console.error('retisc-probe')</script></body></html>")
    try:
        _, err = run(["--dump-dom", "file://" + t.name])
    finally:
        os.unlink(t.name)
    if not any("retisc-probe" in l for l in console_lines(err)):
        fail("chromium's console log is not visible: the check could not see errors")

    dom, err = run(["--dump-dom", url])
    msgs = console_lines(err)
    if msgs:
        fail("console messages:\n" + "\n".join(msgs))
    d = Dom()
    d.feed(dom)
    if d.flow_rows != len(flows):
        fail(f"{d.flow_rows} flow row(s) in the DOM, explain has {len(flows)} flow(s)")
    if sorted(c.strip() for c in d.first_cells) != sorted(flows):
        fail(f"flow cells {d.first_cells} are not explain's flows {flows}")
    for want in ("fates-chart", "journey"):
        if want not in d.svg_ids:
            fail(f"no <svg id={want}> in the DOM (svgs: {d.svg_ids})")
    if summary.get("drops") and "drops-chart" not in d.svg_ids:
        fail("drops but no drop-reason chart")
    if "latency" not in d.svg_classes:
        fail("no latency histogram")
    if d.circles < 2:
        fail(f"the journey has {d.circles} step(s)")

    _, err = run([f"--screenshot={png}", "--window-size=1280,2400", url])
    if console_lines(err):
        fail("console messages while taking the screenshot")
    size = os.path.getsize(png) if os.path.exists(png) else 0
    with open(png, "rb") as f:
        magic = f.read(8)
    if magic != b"\x89PNG\r\n\x1a\n" or size < 20000:
        fail(f"screenshot {png}: {size} bytes, magic {magic!r}")
    print(f"check_report: {d.flow_rows} flow rows, svgs {d.svg_ids}, "
          f"{d.circles} journey steps, screenshot {size} bytes")


if __name__ == "__main__":
    main()
