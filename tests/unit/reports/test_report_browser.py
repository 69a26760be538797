"""The report in a real browser: headless Chromium renders the index and a listening page, every
player plays, the diff colours are drawn and add up, sorting and filtering work, and nothing is
logged as an error. Skipped, with the reason, where no Chromium is installed (CI has none):
`apt-get install chromium` (Debian), or point TTSBENCH_CHROMIUM at a binary.

Chromium is driven over the DevTools protocol through a pipe (`--remote-debugging-pipe`: JSON
messages on file descriptors 3 and 4, each ended by a NUL byte), so no websocket client, Playwright
or network is needed. Screenshots go to the test's temporary folder, and also to
$TTSBENCH_SCREENSHOTS when set.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ttsbench.cli import main

pytestmark = pytest.mark.browser

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
         "--remote-debugging-pipe")


PLACE_FDS = ("import fcntl, os, sys; r, w = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3]); "
             "os.dup2(r, 3); os.dup2(w, 4); os.execv(sys.argv[3], sys.argv[3:])")


def find_chromium() -> str | None:
    explicit = os.environ.get("TTSBENCH_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


class Browser:
    """One Chromium process and one page target; `call` sends a command and waits for its answer,
    collecting events (console messages, exceptions, log entries) meanwhile."""

    def __init__(self, exe: str, profile: Path, width: int = 1400, height: int = 1000) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the browser reads commands on fd 3 and writes answers on fd 4: a small Python exec stub moves
        # our pipe ends there (first above 9, so the two can never overwrite each other)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PLACE_FDS, str(to_browser_r), str(from_browser_w), exe, *FLAGS,
             f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"],
            pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.page(f"{domain}.enable")
        self.page("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _read(self, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while b"\0" not in self._buf:
            if time.monotonic() > end:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, session: str | None = None, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        while True:
            answer = self._read(timeout)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, session=self.session, **params)

    def open(self, url: str, ready: str = "document.readyState === 'complete'", timeout: float = 30.0) -> None:
        self.events.clear()
        self.page("Page.navigate", url=url)
        self.wait_for(ready, timeout)

    def eval(self, expression: str, await_promise: bool = False) -> Any:
        res = self.page("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression[:80]}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if self.eval(f"Boolean({expression})"):
                    return
            except RuntimeError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"waited {timeout} s for {expression}")

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.page("Page.getLayoutMetrics")["cssContentSize"]
            params |= {"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}}
        path.write_bytes(base64.b64decode(self.page("Page.captureScreenshot", **params)["data"]))
        return path

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (failed loads) since `open`."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(json.dumps(params.get("args"))[:500])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(params["entry"].get("text", "") + " " + params["entry"].get("url", ""))
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)



@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = find_chromium()
    if exe is None:
        pytest.skip("no Chromium installed (apt-get install chromium, or set TTSBENCH_CHROMIUM to a binary)")
    b = Browser(exe, tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def keep(shot: Path) -> Path:
    """A copy in $TTSBENCH_SCREENSHOTS, when set (for the docs)."""
    folder = os.environ.get("TTSBENCH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(folder) / shot.name)
    return shot


READY = "document.documentElement.dataset.ready === '1'"
PLAY_ALL = """Promise.all(Array.from(document.querySelectorAll('audio')).map(a => new Promise(res => {
  const done = (ok, why) => res({src: a.getAttribute('src'), ok: ok, why: why});
  a.muted = true;
  a.addEventListener('timeupdate', () => { if (a.currentTime > 0) { a.pause(); done(true, 'played'); } });
  a.addEventListener('error', () => done(false, 'error ' + (a.error && a.error.code)), {once: true});
  setTimeout(() => done(false, 'no playback within 15 s, readyState ' + a.readyState), 15000);
  a.play().catch(e => done(false, 'play(): ' + e.name));
})))"""
COUNTS = """Array.from(document.querySelectorAll('#utts tbody tr.line')).map(tr => ({
  utt: tr.parentElement.querySelector('.id').textContent, sys: tr.querySelector('.sys').textContent,
  hidden: tr.hidden, S: tr.querySelectorAll('.w-sub').length, D: tr.querySelectorAll('.w-del').length,
  I: tr.querySelectorAll('.w-ins').length}))"""
COLOURS = """['w-sub', 'w-del', 'w-ins'].map(c => { const e = document.querySelector('#utts .' + c);
  return e ? getComputedStyle(e).backgroundColor : null; })"""


def stored_counts(runs: Path) -> dict[tuple[str, str], tuple[int, int, int]]:
    out = {}
    for scores in runs.rglob("scores.jsonl"):
        system = scores.parent.parent.name
        for line in scores.read_text().splitlines():
            row = json.loads(line)
            if row["metric"] == "wer-whisper-tiny-en" and row["status"] == "ok":
                out[(row["utt_id"], system)] = (row["S"], row["D"], row["I"])
    return out


def first_ids(b: Browser) -> list[str]:
    return b.eval("Array.from(document.querySelectorAll('#utts tbody .id')).map(e => e.textContent)")


def test_index_and_listening_page_render_play_and_sort(browser, listening_runs, tmp_path, capsys):
    runs, _ = listening_runs
    out = tmp_path / "report"
    assert main(["report", str(runs), "--out", str(out), "--reference", "ground-truth"]) == 0
    browser.open((out / "index.html").as_uri())
    assert browser.eval("document.querySelectorAll('section.measured table.ttsbench-report tbody tr').length") == 3
    assert browser.eval("document.querySelectorAll('section.measured .hint[title^=\"vs ground-truth\"]').length") >= 4
    assert browser.eval("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert browser.errors() == []
    keep(browser.screenshot(tmp_path / "report-index.png"))

    browser.open((out / "listen-set.html").as_uri(), READY)
    assert browser.errors() == []
    assert first_ids(browser)[:2] == ["u0003", "u0000"]  # worst first: flaky failed on u0003, then 'the bat sat mat on'
    played = browser.eval(PLAY_ALL, await_promise=True)
    assert len(played) == 4 * 2 + 11 and all(p["ok"] for p in played), [p for p in played if not p["ok"]]
    colours = browser.eval(COLOURS)
    assert None not in colours and len(set(colours)) == 3 and "rgba(0, 0, 0, 0)" not in colours
    stored = stored_counts(runs)
    lines = browser.eval(COUNTS)
    assert len(lines) == 12
    for line in lines:
        key = (line["utt"], line["sys"])
        assert (line["S"], line["D"], line["I"]) == stored.get(key, (0, 0, 0)), key
    time.sleep(1)  # let the players lay out their controls before the picture
    keep(browser.screenshot(tmp_path / "report-listening.png"))

    browser.eval("document.querySelector('th[data-sort=\"wer-whisper-tiny-en\"]').click()")
    assert browser.eval("document.getElementById('sort-dir').textContent") == "best first"
    browser.eval("document.querySelector('input.sys-toggle[data-s=\"2\"]').click()")  # hide one system
    hidden = {line["sys"] for line in browser.eval(COUNTS) if line["hidden"]}
    assert len(hidden) == 1
    browser.eval("(() => { const e = document.getElementById('text-filter'); e.value = 'AMIABLE';"
                 " e.dispatchEvent(new Event('input')); })()")
    assert first_ids(browser) == ["u0002"]
    assert browser.eval("document.getElementById('page-info').textContent").startswith("utterances 1–1 of 1 ")
    assert browser.errors() == []


@pytest.mark.slow
def test_a_listening_page_of_1127_utterances_and_6_systems_stays_responsive(browser, tmp_path, writers, capsys):
    rng = random.Random(0)
    vocab = ["the", "a", "cat", "dog", "sat", "on", "mat", "of", "clubs", "queen", "seven", "four", "he", "might",
             "even", "have", "been", "made", "amiable"]
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(5, 25))) for _ in range(1127)]
    ids = [f"u{i:04d}" for i in range(1127)]
    manifest = writers.prompt_set(tmp_path / "set", texts, shared=True)
    runs = tmp_path / "runs"
    for s in range(6):
        hyps = {u: " ".join(w if rng.random() > 0.05 * s else rng.choice(vocab) for w in t.split())
                for u, t in zip(ids, texts)}
        writers.run(runs, manifest, f"system-{s}", hyps, shared_audio=True)
    out = tmp_path / "report"
    assert main(["report", str(runs), "--out", str(out)]) == 0
    start = time.monotonic()
    browser.open((out / "listen-set.html").as_uri(), READY, timeout=60)
    loaded = time.monotonic() - start
    assert browser.eval("document.querySelectorAll('#utts tbody').length") == 25
    timings = {}
    search = ("(() => { const e = document.getElementById('text-filter'); e.value = 'queen';"
              " e.dispatchEvent(new Event('input')); })()")
    for name, js in (("sort", "document.querySelector('th[data-sort=\"sim-resemblyzer\"]').click()"),
                     ("next page", "document.getElementById('next').click()"), ("filter", search),
                     ("hide a system", "document.querySelector('input.sys-toggle').click()")):
        timings[name] = browser.eval(f"(() => {{ const t = performance.now(); {js}; return performance.now() - t; }})()")
    assert browser.errors() == []
    assert loaded < 20 and max(timings.values()) < 1500, (loaded, timings)  # measured: 1.7 s; 70-100 ms each
