"""`ttsbench report --out`: the index, the listening pages, significance marks, the portable folder,
and every name and text escaped. Pages are parsed with the standard library's HTML parser."""

from __future__ import annotations

import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest
import soundfile as sf

from ttsbench.cli import main

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None) -> None:
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], ""

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)


class Tree(HTMLParser):
    """A minimal DOM: nodes with tag, attrs, children and text (template contents included)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_endtag(self, tag):
        node = self.cur
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.text += data


def parse(path: Path) -> Node:
    return Tree(path.read_text(encoding="utf-8")).root


def score_rows(run: Path, metric: str = "wer-whisper-tiny-en") -> dict[str, dict]:
    rows = [json.loads(line) for line in (run / "scores.jsonl").read_text().splitlines()]
    return {r["utt_id"]: r for r in rows if r["metric"] == metric}


def report(runs: Path, out: Path, *extra: str) -> None:
    assert main(["report", str(runs), "--out", str(out), *extra]) == 0


def test_a_listening_page_row_per_utterance_with_players_and_diffs_that_add_up(listening_runs, tmp_path, capsys):
    runs, _ = listening_runs
    out = tmp_path / "report"
    report(runs, out)
    page = parse(out / "listen-set.html")
    (template,) = page.find("template")
    blocks = template.find("tbody", "u")
    assert len(blocks) == 4
    labels = [n.all_text() for n in blocks[0].find("td", "sys")]
    assert sorted(labels) == ["flaky", "ground-truth", "noisy"]
    stored = {p.parent.parent.name: score_rows(p.parent) for p in runs.rglob("run.json")}
    seen = {"w-sub": 0, "w-del": 0, "w-ins": 0}
    for block in blocks:
        utt = block.find("span", "id")[0].all_text()
        prompt_players = block.find("tr", "utt")[0].find("audio")
        assert len(prompt_players) == 2  # prompt and ground truth
        for line in block.find("tr", "line"):
            system = line.find("td", "sys")[0].all_text()
            if system == "flaky" and utt == "u0003":
                assert line.find("span", "failed") and not line.find("audio")
                assert line.find("span", "failed")[0].attrs["title"] == "NaN in output"
                continue
            assert len(line.find("audio")) == 1
            row = stored[system][utt]
            for cls, key in (("w-sub", "S"), ("w-del", "D"), ("w-ins", "I")):
                assert len(line.find("span", cls)) == row[key], (system, utt, cls)
                seen[cls] += row[key]
        for audio in block.find("audio"):
            assert (out / unquote(audio.attrs["src"])).resolve().is_file()
            assert audio.attrs["preload"] == "none"
    assert all(seen.values()), seen  # the fixture has substitutions, deletions and insertions
    data = json.loads(page.find("script")[0].all_text())
    assert len(data["rows"]) == 4 and data["default_sort"] == "wer-whisper-tiny-en"
    assert [c["key"] for c in data["columns"]] == ["wer-whisper-tiny-en", "sim-resemblyzer", "duration_s",
                                                   "duration_ratio"]
    assert page.find("script")[1].attrs["src"] == "assets/listen.js"
    assert (out / "assets" / "listen.js").is_file() and (out / "assets" / "report.css").is_file()
    index = parse(out / "index.html")
    assert [a.attrs["href"] for a in index.find("nav")[0].find("a")] == ["listen-set.html"]
    assert {Path(i.attrs["src"]).name for i in index.find("img")} >= {"quality_vs_rtf.svg", "set-wer-ecdf.svg",
                                                                       "set-sim-vs-wer.svg", "set-duration-ratio.svg"}
    for name in ("quality_vs_rtf", "set-wer-ecdf", "set-sim-vs-wer", "set-duration-ratio"):
        assert (out / "plots" / f"{name}.png").stat().st_size > 1000 and (out / "plots" / f"{name}.svg").is_file()


HOSTILE_NAME = '<img src=x onerror=alert(1)>"sys $\\frac{$'  # the $...$: mathtext a plot would fail to draw
HOSTILE_TEXT = '</script><script>alert("t")</script> & "quoted" <b>bold</b>'


def test_every_name_and_text_is_escaped(tmp_path, writers, capsys):
    manifest = writers.prompt_set(tmp_path / "set", [HOSTILE_TEXT, "plain words here"])
    runs = tmp_path / "runs"
    evil = writers.run(runs, manifest, HOSTILE_NAME, {"u0000": '"><svg onload=alert(1)>', "u0001": "plain"},
                       spec_name="evil", synth_failed={"u0001": "<script>alert('err')</script>"})
    writers.run(runs, manifest, "ground-truth", {"u0000": HOSTILE_TEXT, "u0001": "plain words here"})
    run = json.loads((evil / "run.json").read_text())
    run["metrics"]["wer-whisper-tiny-en"]["label"] = "WER <i onmouseover=x>"
    (evil / "run.json").write_text(json.dumps(run))
    out = tmp_path / "report"
    report(runs, out, "--reference", "ground-truth")
    for page in ("index.html", "listen-set.html", "report.html"):
        text = (out / page).read_text()
        tree = parse(out / page)
        assert not [(n.tag, a) for n in tree.walk() for a in n.attrs if a.lower().startswith("on")], page
        assert {n.tag for n in tree.walk()} <= {"#root", "html", "head", "meta", "title", "link", "body", "header",
                                                "h1", "h2", "p", "nav", "a", "ul", "li", "section", "table",
                                                "thead", "tbody", "tr", "th", "td", "span", "b", "u", "sup",
                                                "small", "code", "br", "caption", "style", "div", "figure",
                                                "img", "figcaption", "footer", "fieldset", "legend", "label",
                                                "input", "select", "option", "button", "template", "audio",
                                                "s", "script", "noscript"}, page
        scripts = tree.find("script")
        assert all(s.attrs.get("type") == "application/json" or s.attrs.get("src") == "assets/listen.js"
                   for s in scripts), page
        islands = "".join(s.all_text() for s in scripts if "src" not in s.attrs)
        assert "alert(" not in islands and "<" not in islands, page  # numbers and keys, never the texts
        assert not any(n.tag == "img" and not n.attrs["src"].startswith(("plots/", "quality_vs_cost"))
                       for n in tree.walk()), page
        assert "<svg" not in text and "<img src=x" not in text, page
    listen = (out / "listen-set.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;sys $\\frac{$" in listen
    assert (out / "plots" / "set-wer-ecdf.svg").is_file() and (out / "plots" / "quality_vs_rtf.png").is_file()
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; &quot;quoted&quot;" in listen
    assert 'title="&lt;script&gt;alert(&#x27;err&#x27;)&lt;/script&gt;"' in listen


def test_a_diff_that_does_not_add_up_to_the_stored_counts_is_shown(listening_runs, tmp_path, capsys):
    runs, _ = listening_runs
    noisy = next(runs.rglob("noisy/*/scores.jsonl"))
    rows = [json.loads(line) for line in noisy.read_text().splitlines()]
    for r in rows:
        if r["utt_id"] == "u0000" and r["metric"] == "wer-whisper-tiny-en":
            r["S"] += 1  # as if another jiwer had aligned it
    noisy.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "report"
    report(runs, out)
    page = parse(out / "listen-set.html")
    (badge,) = page.find("span", "mismatch")
    assert "stored S=2 D=2 I=1" in badge.attrs["title"] and "diff shows S=1 D=2 I=1" in badge.attrs["title"]
    assert "1 transcript diff(s) do not add up to the stored S/D/I counts" in page.find("ul", "notes")[0].all_text()


@pytest.mark.parametrize("mode, suffix", [("wav", ".wav"), ("flac", ".flac")])
def test_copy_audio_makes_a_folder_that_travels(listening_runs, tmp_path, capsys, mode, suffix):
    runs, _ = listening_runs
    out = tmp_path / "report"
    report(runs, out, "--copy-audio", mode)
    moved = tmp_path / "elsewhere" / "shared-report"
    shutil.move(str(out), str(moved))
    shutil.rmtree(runs)  # nothing may point back into the run directories
    srcs = [a.attrs["src"] for a in parse(moved / "listen-set.html").find("audio")]
    assert len(srcs) == 4 * 2 + 11  # prompt + ground truth per utterance, 12 outputs but one failed
    for src in srcs:
        assert src.startswith("audio/") and src.endswith(suffix)
        info = sf.info(str(moved / unquote(src)))
        assert info.subtype == "PCM_16" and info.format == mode.upper()
    assert len({s for s in srcs if "/prompts/" in s}) == 4


def test_reference_marks_significant_cells_with_the_difference_on_hover(tmp_path, writers, capsys):
    texts = [f"the quick brown fox number {i} jumps over the lazy dog" for i in range(30)]
    ids = [f"u{i:04d}" for i in range(30)]
    manifest = writers.prompt_set(tmp_path / "set", texts)
    runs = tmp_path / "runs"
    writers.run(runs, manifest, "ref", dict(zip(ids, texts)), sims={u: 0.8 for u in ids})
    writers.run(runs, manifest, "worse", {u: t.replace("fox", "box") for u, t in zip(ids, texts)},
                sims={u: 0.8 for u in ids}, synth_failed={"u0000": "crashed"})
    out = tmp_path / "report"
    report(runs, out, "--reference", "ref")
    md = capsys.readouterr().out
    assert "▼" in md and "significantly better / worse than ref" in md
    index = parse(out / "index.html")
    measured = index.find("section", "measured")[0]
    hints = measured.find("span", "hint")
    marked = [s for s in hints if "▼" in s.all_text()]
    # WER: one substitution in every utterance and u0000 imputed as 100 %; SIM differs only by u0000
    # imputed as 0, which one utterance in 30 cannot make significant: compared (hover), not marked
    assert len(hints) == 2 and len(marked) == 1 and "fox" not in marked[0].attrs["title"]
    assert marked[0].attrs["title"].startswith("vs ref: +") and "failed utterances as worst: 1 here" in \
        marked[0].attrs["title"]
    sig = pd.read_csv(out / "significance.csv")
    wer = sig[sig["metric"] == "wer-whisper-tiny-en"].iloc[0]
    assert wer["verdict"] == "worse" and wer["imputed_b"] == 1 and wer["n"] == 30 and wer["p_value"] < 0.01
    diffs = index.find("section", "differences")[0]
    assert "▼ worse" in diffs.all_text() and "1 / 0 as worst" in diffs.all_text()
    assert main(["report", str(runs), "--reference", "ref", "--failed", "drop", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table.loc[table["system"] == "worse", "wer-whisper-tiny-en_sig"].item() == "worse"
    assert table.loc[table["system"] == "worse", "sim-resemblyzer_sig"].item() == "same"  # equal once u0000 is dropped


def test_quoted_paper_rows_stay_apart_from_measured_rows(listening_runs, tmp_path, capsys):
    runs, _ = listening_runs
    out = tmp_path / "report"
    report(runs, out, "--paper", "ditar-table1-b")
    index = parse(out / "index.html")
    measured = index.find("section", "measured")[0].all_text()
    quoted = index.find("section", "quoted")[0].all_text()
    assert "DiTAR (NFE=10)" not in measured and "noisy" in measured
    assert "DiTAR (NFE=10)" in quoted and "noisy" not in quoted


def test_seeds_of_one_system_make_one_row(tmp_path, writers, capsys):
    texts = ["one two three four", "five six seven eight"]
    manifest = writers.prompt_set(tmp_path / "set", texts)
    runs = tmp_path / "runs"
    writers.run(runs, manifest, "sys", {"u0000": "one two three four", "u0001": "five six seven"}, seed=0)
    writers.run(runs, manifest, "sys", {"u0000": "one two three", "u0001": "five six seven"}, seed=1)
    assert main(["report", str(runs), "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(df) == 1 and df["seeds"].item() == "0,1"
    # seed 0: (0 + 25) / 2 = 12.5; seed 1: (25 + 25) / 2 = 25
    assert df["wer-whisper-tiny-en"].item() == pytest.approx(18.75)
    assert df["wer-whisper-tiny-en_ci_low"].item() <= 18.75 <= df["wer-whisper-tiny-en_ci_high"].item()
    assert main(["report", str(runs)]) == 0
    assert "sys (2 seeds)" in capsys.readouterr().out
    assert main(["report", str(runs), "--per-seed", "--format", "csv"]) == 0
    assert len(pd.read_csv(io.StringIO(capsys.readouterr().out))) == 2


def test_a_prompt_set_that_is_gone_leaves_the_page_without_prompt_players(listening_runs, tmp_path, capsys):
    runs, manifest = listening_runs
    shutil.rmtree(manifest.parent)
    out = tmp_path / "report"
    report(runs, out)
    page = parse(out / "listen-set.html")
    assert "could not be loaded here" in page.find("ul", "notes")[0].all_text()
    blocks = page.find("template")[0].find("tbody", "u")
    assert not blocks[0].find("tr", "utt")[0].find("audio")
    texts = {b.find("span", "id")[0].all_text(): b.find("span", "text")[0].all_text() for b in blocks}
    assert texts["u0000"] == "The cat sat on the mat."  # from the WER rows' ref_raw


def test_copy_audio_needs_out(listening_runs, capsys):
    runs, _ = listening_runs
    assert main(["report", str(runs), "--copy-audio"]) == 2
    assert "give --out DIR" in capsys.readouterr().err
