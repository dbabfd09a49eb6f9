#!/usr/bin/env python3
"""The cohort page of a real run, in a real browser (headless Chromium).

Two small phantom cases and one broken file are segmented; OUT/index.html must then load without
a console error, its sort script must run (it marks the table data-ready="1") and sort the rows
when a header is clicked, every case must have its row (the broken one with its error), and a
screenshot of the page must be written and not blank. Skipped (exit 77) where Chromium is absent.
Usage: test_cohort_report_browser.py BIN_DIR SOURCE_DIR
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

BIN, SOURCE = sys.argv[1], sys.argv[2]
SKIP = 77


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def run(args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout)


def chromium(browser, profile, *args):
    """Headless Chromium on a page; runs as root too (no sandbox), with a throwaway profile."""
    return run([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args])


def console_problems(stderr):
    """The page's console messages and uncaught errors: the page itself logs nothing."""
    return [l for l in stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]


def png_pixels(path):
    """Width, height and RGB(A) rows of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour in (2, 6), f"unexpected PNG kind {depth} {colour}"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, channels, rows


# Loads index.html in a frame (same origin with --allow-file-access-from-files), clicks headers and
# writes the row order after each click into its own DOM, which --dump-dom prints.
HARNESS = """<!DOCTYPE html><html><body><pre id="result">not run</pre>
<iframe id="page" src="index.html" width="1200" height="800"></iframe>
<script>
document.getElementById('page').addEventListener('load', function () {
  var out = {};
  try {
    var d = this.contentDocument, table = d.getElementById('cases');
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    function order() { return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.id; }); }
    function click(name) {
      heads.filter(function (h) { return h.textContent.replace(/[^a-z() ]/gi, '').trim() === name; })[0].click();
      return order();
    }
    out.ready = table.getAttribute('data-ready');
    out.initial = order();
    out.case_ascending = click('case');
    out.case_descending = click('case');
    out.seconds_ascending = click('seconds');
    out.seconds = Array.prototype.map.call(table.tBodies[0].rows, function (r) {
      var i = heads.findIndex(function (h) { return h.textContent.indexOf('seconds') === 0; });
      return r.cells[i].getAttribute('data-value');
    });
  } catch (e) { out.error = String(e); }
  document.getElementById('result').textContent = JSON.stringify(out);
});
</script></body></html>
"""


def main():
    browser = find_chromium()
    if not browser:
        print("SKIP: no Chromium here (Debian: apt-get install chromium; scripts/install-deps.sh installs it)")
        return SKIP
    failures = []

    def check(ok, what):
        print(("ok:   " if ok else "FAIL: ") + what)
        if not ok:
            failures.append(what)

    work = tempfile.mkdtemp(prefix="c2f-cohort-report-")
    try:
        cohort, out, profile = (os.path.join(work, d) for d in ("cohort", "out", "profile"))
        r = run([os.path.join(BIN, "c2f-phantom"), "-q", "--out", cohort, "--cases", "2", "--seed", "4242",
                 "--size", "64x64x32"])
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            return 1
        with open(os.path.join(cohort, "broken.nii.gz"), "wb") as f:  # a case that fails: its error gets a row
            f.write(b"<not a NIfTI> & \"no\" header")
        r = run([os.path.join(BIN, "c2f-segment"), "-q", "-i", cohort, "-o", out, "--iterations", "2"], timeout=300)
        print(r.stdout + r.stderr)
        page = os.path.join(out, "index.html")
        check(r.returncode == 1, f"c2f-segment exits 1 for the broken case (got {r.returncode})")
        check(f"report: {page}" in r.stdout, "c2f-segment prints the page's path")
        if not os.path.exists(page):
            check(False, f"{page} exists")
            return 1
        html = open(page, encoding="utf-8").read()
        check(not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html, re.I), "the page refers to nothing outside it")

        # 1. The page loads without a console error, its script runs, every case has its row.
        r = chromium(browser, profile, "--dump-dom", "file://" + page)
        check(r.returncode == 0, f"chromium --dump-dom exits 0 (got {r.returncode})")
        problems = console_problems(r.stderr)
        check(not problems, "no console message or uncaught error: " + "; ".join(problems))
        dom = r.stdout
        check('id="cases"' in dom and 'data-ready="1"' in dom, "the sort script ran (table data-ready=\"1\")")
        for case in ("phantom_000", "phantom_001", "broken"):
            check(f'<tr id="case-{case}"' in dom, f"the table has a row for {case}")
        m = re.search(r'<tr id="case-broken" class="failed">.*?<td class="error">([^<]+)</td>', dom, re.S)
        check(m is not None and "broken.nii.gz" in m.group(1), "the broken case's row names its file in the error")
        check(dom.count('src="data:image/png;base64,') == 2, "two inline thumbnails")
        check(dom.count("<svg") == 2, "two charts")

        # 2. Clicking headers sorts the rows.
        with open(os.path.join(out, "sort-harness.html"), "w") as f:
            f.write(HARNESS)
        r = chromium(browser, profile, "--allow-file-access-from-files", "--dump-dom",
                     "file://" + os.path.join(out, "sort-harness.html"))
        m = re.search(r'<pre id="result">(.*?)</pre>', r.stdout, re.S)
        result = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&")) if m else {"error": "no result"}
        print("sorting:", result)
        check("error" not in result, f"the harness ran: {result.get('error')}")
        ids = ["case-broken", "case-phantom_000", "case-phantom_001"]
        check(result.get("ready") == "1", "the framed page is ready")
        check(result.get("case_ascending") == ids, "a click on 'case' sorts by name")
        check(result.get("case_descending") == ids[::-1], "a second click reverses the order")
        secs = [float(s) for s in result.get("seconds", []) if s]
        check(len(secs) == 3 and secs == sorted(secs), f"a click on 'seconds' sorts by number: {secs}")
        check(not console_problems(r.stderr), "no console error while sorting")
        os.remove(os.path.join(out, "sort-harness.html"))

        # 3. A screenshot is written and shows something: not one colour, not mostly blank.
        shot = os.path.join(work, "page.png")
        r = chromium(browser, profile, f"--screenshot={shot}", "--window-size=1280,900", "--hide-scrollbars",
                     "file://" + page)
        check(os.path.exists(shot) and os.path.getsize(shot) > 20_000, f"a screenshot of over 20 KB in {shot}")
        if os.path.exists(shot):
            width, height, channels, rows = png_pixels(shot)
            check((width, height) == (1280, 900), f"the screenshot is 1280 x 900 (got {width} x {height})")
            colours, inked = set(), 0
            for row in rows[::4]:
                for x in range(0, width * channels, channels * 4):
                    px = tuple(row[x:x + 3])
                    colours.add(px)
                    inked += min(px) < 200
            sampled = len(rows[::4]) * len(range(0, width * channels, channels * 4))
            check(len(colours) > 100, f"the screenshot has many colours ({len(colours)})")
            check(inked > sampled * 0.02, f"the screenshot is not blank ({inked} of {sampled} sampled pixels inked)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
