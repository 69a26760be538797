"""Published reference rows, quoted (never measured), with their provenance.

Tables: `ditar-table1-a`, `ditar-table1-b`, `ditar-table1` (LibriSpeech test-clean subsets),
`ditar-table3` (Seed-TTS test-en / test-zh) and `baselines` (the rows of systems ttsbench can run:
F5TTS, E2TTS, MaskGCT, CosyVoice 2 from DiTAR's tables, Spark-TTS and IndexTTS-2 from a secondary
source marked "†"). Each row's provenance names the registered system that regenerates it.

DiTAR (Jia et al., 2025, arXiv:2502.03930), Table 1: objective results on two subsets of
LibriSpeech test-clean. Transcribed from `shared/seeds/DiTAR-paper.txt` (a text extraction of the
paper). Units as printed: WER in %, SIM as a cosine in [-1, 1] (WavLM-large), UTMOS on its 1-5
scale, TFLOPs = 10^12 FLOPs (FLOPs = 2 MACs) for one utterance under Appendix A.4's setup, marked
"~" (approximate) in the paper. Human and vocoder rows are bounds: shown, never ranked.

Marks: the caption defines ◆ (scores reported in NaturalSpeech 3), ♣ (results obtained from the
authors of F5-TTS) and ♠ (results obtained via released checkpoints). The text extraction prints
◆ (♦ once, the same glyph), and "*" on the E2TTS and F5TTS rows; which caption symbol that "*"
stands for, and whether MaskGCT carries ♠ (no mark survived extraction), is unverified, so the
marks are kept as extracted and explained as such.

GROW (Yang et al., 2026, arXiv:2608.03215), Table 1, as its code release states it (README of
yanghaha0908/GROW at commit 1527cdf; the copy photographic-dialogue455/GROW was later hijacked, read
only that commit): WER (%) / SIM of the released checkpoints on LibriSpeech-PC test-clean (F5-TTS's
1,127 pairs, DiTAR's subset B), Seed-TTS test-en (1,088) and test-zh (2,020); NFE 32 Euler, sway -1,
CFG 2.0 "stage", seed 666, 16 kHz Semantic-VAE output; ASR faster-whisper-large-v3 (en) / Paraformer
(zh), SIM WavLM-large speaker verification. UTMOS is computed by GROW's scripts but not printed in the
README, so it is not quoted. Rows: "GROW pretrain" = `grow-0.6b` (01_pretrain), "GROW (RL)" =
`grow-0.6b-rl` (03_grow_nfe10), and "DiTAR-GRPO" (02_ditar_grpo_nfe10, not registered as a system).
"""

from __future__ import annotations

from ttsbench.errors import UnknownNameError
from ttsbench.reports.records import QUOTED, Cell, Row

CITATION = "DiTAR (Jia et al., 2025, arXiv:2502.03930v1) Table 1"
MARKS = {
    "◆": "scores reported in NaturalSpeech 3 (DiTAR Table 1 caption)",
    "*": "'*' as printed in the text extraction of DiTAR Table 1; the caption defines ♣ (results obtained "
         "from the authors of F5-TTS) and ♠ (via released checkpoints); which one is meant is unverified",
}
FLOPS_SCOPE = ("DiTAR Appendix A.4 analytic count: a 3 s prompt synthesizing 10 s of audio, 7 Hz text "
               "(21 + 70 tokens), transformers and convolutions only, KV cache for causal models, "
               "x NFE for diffusion, x2 for CFG; FLOPs = 2 MACs; approximate ('~') in the paper")
SUBSETS = {
    "A": {"testset": "LibriSpeech test-clean A (DiTAR Table 1)", "n": 40,
          "about": "NaturalSpeech 3's subset: 40 three-second prompts, 40 targets",
          "asr": "facebook/hubert-large-ls960-ft"},
    "B": {"testset": "LibriSpeech test-clean B (DiTAR Table 1)", "n": 1127,
          "about": "F5-TTS's LibriSpeech-PC subset: 40 prompts, 1127 targets",
          "asr": "Systran/faster-whisper-large-v3"},
}
# (subset, type, system, params, training data, marks, WER %, SIM, UTMOS, TFLOPs, reference row)
_TABLE1 = [
    ("A", "-", "Human", "-", "-", "", 0.34, 0.68, 4.14, None, True),
    ("A", "-", "Vocoder", "-", "-", "", 0.34, 0.63, 4.03, None, True),
    ("A", "Disc. AR + Disc. NAR", "VALL-E", "0.4B", "Librilight", "◆", 6.11, 0.47, 3.68, 2.99, False),
    ("A", "Disc. AR + Cont. NAR", "MegaTTS 2", "0.5B", "Librilight", "◆", 2.32, 0.53, 4.02, 0.06, False),
    ("A", "Disc. NARs", "NaturalSpeech 3", "0.5B", "Librilight", "◆", 1.81, 0.67, 4.30, 8.92, False),
    ("A", "Cont. NAR", "NaturalSpeech 2", "0.4B", "Librilight", "◆", 1.94, 0.55, 3.88, 12.89, False),
    ("A", "Cont. NAR", "Voicebox (NFE=32)", "0.4B", "Librilight", "◆", 2.14, 0.48, 3.73, 60.89, False),
    ("A", "Cont. AR", "DiTAR (NFE=10)", "0.6B", "Librilight", "", 1.78, 0.64, 4.15, 2.75, False),
    ("B", "-", "Human", "-", "-", "", 2.23, 0.69, 4.10, None, True),
    ("B", "-", "Vocoder resynthesized", "-", "-", "", 2.38, 0.66, 3.97, None, True),
    ("B", "Disc. NARs", "MaskGCT (NFE=50)", "1.1B", "Emilia", "", 2.72, 0.69, 3.90, 116.66, False),
    ("B", "Cont. NAR", "E2TTS (NFE=32)", "0.3B", "Emilia", "*", 2.95, 0.69, 3.56, 56.46, False),
    ("B", "Cont. NAR", "F5TTS (NFE=32)", "0.3B", "Emilia", "*", 2.42, 0.66, 3.88, 37.36, False),
    ("B", "Cont. AR", "DiTAR (NFE=10)", "0.6B", "Emilia", "", 2.39, 0.67, 4.22, 2.75, False),
]
PAPERS = {"ditar-table1-a": ("A",), "ditar-table1-b": ("B",), "ditar-table1": ("A", "B"),
          "ditar-table3": (), "baselines": ()}

# DiTAR Table 3 (Seed-TTS test sets; "all results of other systems are reported in their papers"):
# (system, Seed-EN WER %, Seed-EN SIM, Seed-ZH CER %, Seed-ZH SIM, reference row)
_TABLE3 = [
    ("Human", 2.06, 0.73, 1.254, 0.750, True),
    ("Seed-TTS DiT", 1.733, 0.790, 1.178, 0.809, False),
    ("CosyVoice", 4.29, 0.609, 3.63, 0.723, False),
    ("CosyVoice 2", 2.57, 0.652, 1.45, 0.748, False),
    ("CosyVoice 2-S", 2.38, 0.654, 1.45, 0.753, False),
    ("FireRedTTS", 3.82, 0.46, 1.51, 0.63, False),
    ("MaskGCT", 2.623, 0.717, 2.273, 0.774, False),
    ("E2TTS", 2.19, 0.71, 1.97, 0.73, False),
    ("F5TTS", 1.83, 0.67, 1.56, 0.76, False),
    ("DiTAR", 1.685, 0.735, 1.023, 0.753, False),
]
TABLE3 = "DiTAR (Jia et al., 2025, arXiv:2502.03930v1) Table 3"
# Baselines DiTAR does not list, quoted from a secondary source: the evaluation table of the
# CosyVoice README (GitHub FunAudioLLM/CosyVoice @ ace7c47f41bb), SS (%) given there as SIM x 100.
SECONDARY = "CosyVoice README evaluation table (GitHub FunAudioLLM/CosyVoice @ ace7c47f41bb)"
_SECONDARY_ROWS = [("Spark-TTS 0.5B", 1.98, 0.573, 1.2, 0.660), ("IndexTTS-2", 2.23, 0.706, 1.03, 0.765)]
MARKS["†"] = f"secondary source: {SECONDARY}, not the system's own paper; unverified against the paper"
SEED = {"en": ("Seed-TTS test-en", "WER (%)", "Whisper-large-v3"),
        "zh": ("Seed-TTS test-zh", "CER (%)", "Paraformer-zh")}
# Which registered ttsbench system regenerates which quoted row (F5TTS is v0 Base, the paper's model).
TTSBENCH_NAMES = {"F5TTS": "f5-tts-v0", "F5TTS (NFE=32)": "f5-tts-v0", "E2TTS": "e2-tts",
                  "E2TTS (NFE=32)": "e2-tts", "MaskGCT": "maskgct", "MaskGCT (NFE=50)": "maskgct",
                  "CosyVoice 2": "cosyvoice2-0.5b", "Spark-TTS 0.5B": "spark-tts-0.5b", "IndexTTS-2": "indextts2",
                  "GROW pretrain (NFE=32)": "grow-0.6b", "GROW (RL, NFE=32)": "grow-0.6b-rl"}
GROW_CITATION = "GROW (Yang et al., 2026, arXiv:2608.03215) Table 1, as quoted in its README at commit 1527cdf"
GROW_SETS = {
    "ls": {"testset": SUBSETS["B"]["testset"], "n": 1127, "asr": "Systran/faster-whisper-large-v3",
           "about": "LibriSpeech-PC test-clean cross-sentence, 1127 pairs"},
    "en": {"testset": "Seed-TTS test-en", "n": 1088, "asr": "Systran/faster-whisper-large-v3",
           "about": "Seed-TTS eval test-en, 1088 pairs"},
    "zh": {"testset": "Seed-TTS test-zh", "n": 2020, "asr": "funasr/paraformer-zh",
           "about": "Seed-TTS eval test-zh, 2020 pairs"},
}
# (system, checkpoint, {set: (WER %, SIM)})
_GROW = [
    ("GROW pretrain (NFE=32)", "01_pretrain/model_200000.pt",
     {"ls": (2.373, 0.648), "en": (2.406, 0.663), "zh": (1.269, 0.717)}),
    ("DiTAR-GRPO (NFE=32)", "02_ditar_grpo_nfe10/model_750.pt",
     {"ls": (2.332, 0.683), "en": (1.728, 0.699), "zh": (1.180, 0.738)}),
    ("GROW (RL, NFE=32)", "03_grow_nfe10/model_750.pt",
     {"ls": (1.927, 0.701), "en": (1.763, 0.702), "zh": (0.983, 0.742)}),
]
GROW_PAPERS = {"grow-table1": ("ls", "en", "zh"), "grow-table1-ls": ("ls",), "grow-table1-seedtts": ("en", "zh")}
PAPERS.update(GROW_PAPERS)


def _cells(subset: str, wer: float, sim: float, utmos: float) -> dict[str, Cell]:
    s = SUBSETS[subset]
    where = f"quoted from {CITATION}, subset {subset}"
    return {
        "WER": Cell(wer, "WER (%)", False, f"{where}; ASR {s['asr']}",
                    note=f"WER (%): {where} ({s['about']}), ASR {s['asr']}; not measured by ttsbench"),
        "SIM": Cell(sim, "SIM", True, f"{where}; WavLM-large",
                    note=f"SIM: {where}, WavLM-large speaker-embedding cosine to the prompt; not measured"),
        "UTMOS": Cell(utmos, "UTMOS", True, f"{where}; UTMOS",
                      note=f"UTMOS: {where}, UTMOS (Saeki et al., 2022); not measured"),
    }


def _seed_rows(system: str, en: tuple[float, float], zh: tuple[float, float], ref: bool, citation: str,
               marks: str = "") -> list[Row]:
    rows = []
    for lang, (err, sim) in (("en", en), ("zh", zh)):
        testset, label, asr = SEED[lang]
        where = f"quoted from {citation}, {testset}"
        # keyed by quantity ("WER", "CER"), as Row says, so Table 1's and Table 3's WER share a column
        cells = {label.split()[0]: Cell(err, label, False, f"{where}; ASR {asr}",
                             note=f"{label}: {where}, ASR {asr} (seed-tts-eval); not measured by ttsbench"),
                 "SIM": Cell(sim, "SIM", True, f"{where}; WavLM-large",
                             note=f"SIM: {where}, WavLM-large speaker-embedding cosine; not measured")}
        hint = f"; ttsbench system {TTSBENCH_NAMES[system]}" if system in TTSBENCH_NAMES else ""
        rows.append(Row(system=system, prompt_set=testset, source=QUOTED,
                        metrics=cells, reference=ref, marks=marks, provenance=f"{citation}, {testset}{hint}"))
    return rows


def seed_rows(baselines_only: bool = False) -> list[Row]:
    """DiTAR Table 3's Seed-TTS rows, then the secondary-source rows of baselines it does not list."""
    rows = [r for system, en_w, en_s, zh_w, zh_s, ref in _TABLE3
            if not baselines_only or system in TTSBENCH_NAMES
            for r in _seed_rows(system, (en_w, en_s), (zh_w, zh_s), ref, TABLE3)]
    return rows + [r for system, en_w, en_s, zh_w, zh_s in _SECONDARY_ROWS
                   for r in _seed_rows(system, (en_w, en_s), (zh_w, zh_s), False, SECONDARY, "†")]


def _grow_rows(sets: tuple[str, ...]) -> list[Row]:
    rows = []
    for key in sets:
        s = GROW_SETS[key]
        where = f"quoted from {GROW_CITATION}, {s['testset']}"
        for system, ckpt, scores in _GROW:
            wer, sim = scores[key]
            q = "CER" if key == "zh" else "WER"  # Mandarin is scored by characters (Paraformer), as Table 3
            cells = {q: Cell(wer, f"{q} (%)", False, f"{where}; ASR {s['asr']}",
                             note=f"{q} (%): {where} ({s['about']}), ASR {s['asr']}; not measured by ttsbench"),
                     "SIM": Cell(sim, "SIM", True, f"{where}; WavLM-large",
                                 note=f"SIM: {where}, WavLM-large speaker verification cosine; not measured")}
            hint = f"; ttsbench system {TTSBENCH_NAMES[system]}" if system in TTSBENCH_NAMES else ""
            rows.append(Row(system=system, prompt_set=s["testset"], source=QUOTED, metrics=cells, n_expected=s["n"],
                            provenance=f"{GROW_CITATION}; checkpoint yhaha/GROW {ckpt}; NFE 32 Euler, CFG 2.0 "
                                       f"stage, sway -1, seed 666; 16 kHz output{hint}"))
    return rows


def paper_rows(name: str) -> list[Row]:
    """The quoted rows of a published table, e.g. "ditar-table1-b" (see `PAPERS` for the names)."""
    if name == "ditar-table3":
        return seed_rows()
    if name == "baselines":  # every quoted row of a system ttsbench can run (docs/baselines.md)
        return ([r for r in paper_rows("ditar-table1-b") if r.system in TTSBENCH_NAMES] + seed_rows(True)
                + [r for r in _grow_rows(("ls", "en", "zh")) if r.system in TTSBENCH_NAMES])
    if name not in PAPERS:
        raise UnknownNameError(f"unknown paper table {name!r}; known: {', '.join(sorted(PAPERS))}")
    if name in GROW_PAPERS:
        return _grow_rows(GROW_PAPERS[name])
    rows = []
    for subset, kind, system, params, data, marks, wer, sim, utmos, tflops, ref in _TABLE1:
        if subset not in PAPERS[name]:
            continue
        s = SUBSETS[subset]
        cost = None if tflops is None else Cell(
            tflops, "TFLOPs", False, f"quoted: {FLOPS_SCOPE}", approx=True,
            note=f"TFLOPs: quoted from {CITATION}; scope: {FLOPS_SCOPE}")
        rows.append(Row(system=system, prompt_set=s["testset"], source=QUOTED,
                        metrics=_cells(subset, wer, sim, utmos), tflops=cost, n_expected=s["n"],
                        reference=ref, marks=marks,
                        provenance=f"{CITATION}, {s['testset']}; type {kind}; params {params}; data {data}"
                                   + (f"; ttsbench system {TTSBENCH_NAMES[system]}" if system in TTSBENCH_NAMES else "")))
    return rows


def mark_notes(marks: set[str]) -> list[str]:
    """Footnote lines explaining the paper marks that appear in a table."""
    return [f"{m} {MARKS[m]}" for m in sorted(marks) if m in MARKS]
