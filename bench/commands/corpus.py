"""`ttsbench corpus`: generate a synthetic multi-speaker training corpus offline (eSpeak NG voices).

    ttsbench corpus --out data/espeak-corpus --speakers 24 --per-speaker 100
    ttsbench train ditar configs/train_ditar_espeak.toml   # [data] manifest = "<out>/train.jsonl"

Every speaker is an eSpeak NG voice variant (accent + variant, pitch, rate): formant speech, not
human speech, meant for timing and checking the training pipelines on any machine. Texts come from
a seeded grammar (`--texts FILE`: one sentence per line instead). Re-running keeps finished wavs.

For a corpus a small model can show intelligibility on (the offline WER recipe, Whisper tiny.en,
transcribes its references well): clear voices, everyday sentences, held-out voices and sentences:

    ttsbench corpus --out data/clear --voices clear --text-kind everyday --speakers 20 \
        --per-speaker 150 --dev-speakers 4 --dev-sentences 8
    ttsbench run --system ground-truth --prompt-set data/clear/dev.jsonl --metrics wer-whisper-tiny-en

dev.jsonl (a prompt set) pairs each held-out voice with each held-out sentence.

Importing a real corpus instead (manifests for `ttsbench train`, speaker-disjoint dev split,
resumable, units spread over --workers processes and over torchrun ranks):

    ttsbench corpus --import-from libritts-r --source LibriTTS_R/ --out data/libritts-r
    ttsbench corpus --import-from libriheavy --source libriheavy_cuts_small.jsonl.gz --audio-root RECIPE_DIR --out data/lh
    ttsbench corpus --import-from emilia --source Emilia/EN --out data/emilia --workers 8
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ttsbench.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("corpus", help="generate a synthetic multi-speaker training corpus (eSpeak NG voices)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder of wavs/, train.jsonl and speakers.json")
    p.add_argument("--speakers", type=int, default=12, help="number of voices (default 12, at most 225)")
    p.add_argument("--per-speaker", type=int, default=40, help="utterances per voice (default 40)")
    p.add_argument("--texts", type=Path, help="a UTF-8 file, one sentence per line (default: seeded grammar)")
    p.add_argument("--seed", type=int, default=0, help="voices, pitches, rates and texts (default 0)")
    p.add_argument("--sample-rate", type=int, default=24_000, help="Hz of the written wavs (default 24000)")
    p.add_argument("--voices", choices=("variants", "clear"), default="variants",
                   help="variants: every eSpeak NG accent x variant (default); clear: voices a tiny ASR "
                        "transcribes well (hibari heart and piper joe when installed, plain eSpeak NG voices)")
    p.add_argument("--text-kind", choices=("grammar", "everyday"), default="grammar",
                   help="grammar: the seeded nonsense grammar (default); everyday: coherent everyday sentences")
    p.add_argument("--dev-speakers", type=int, default=0, help="voices held out of train.jsonl for dev.jsonl")
    p.add_argument("--dev-sentences", type=int, default=0, help="sentences held out of train.jsonl for dev.jsonl")
    p.add_argument("--import-from", choices=("libritts-r", "libriheavy", "emilia", "manifest"),
                   help="import a corpus on disk (--source) instead of synthesizing one")
    p.add_argument("--source", type=Path, help="with --import-from: the corpus root, cut manifest or shard folder")
    p.add_argument("--audio-root", type=Path, help="libriheavy: the folder holding download/librilight/")
    p.add_argument("--dev-fraction", type=float, default=0.02,
                   help="with --import-from: share of speakers held out for dev.jsonl (default 0.02)")
    p.add_argument("--workers", type=int, default=1, help="with --import-from: processes (default 1)")
    p.add_argument("--max-seconds", type=float, default=0.0,
                   help="with --import-from: drop utterances longer than this when the corpus says (0: keep)")
    p.set_defaults(func=cmd_corpus)
    return p


def cmd_corpus(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.console import progress
    from ttsbench.corpus import build_corpus, read_texts

    if args.import_from:
        return _import(args)
    texts = read_texts(args.texts) if args.texts else None
    train_speakers = args.speakers - args.dev_speakers
    total = train_speakers * args.per_speaker + args.dev_speakers * args.dev_sentences
    with progress(total, "synthesizing") as bar:
        manifest = build_corpus(args.out, speakers=args.speakers, per_speaker=args.per_speaker, texts=texts,
                                seed=args.seed, sample_rate=args.sample_rate, voices=args.voices,
                                text_kind=args.text_kind, dev_speakers=args.dev_speakers,
                                dev_sentences=args.dev_sentences,
                                progress=lambda done, total: bar.update(done - bar.n))
    print(f"{manifest}: {train_speakers * args.per_speaker} utterances, {train_speakers} speakers")
    if args.dev_speakers:
        print(f"{manifest.parent / 'dev.jsonl'}: {args.dev_speakers * args.dev_sentences} prompts "
              f"({args.dev_speakers} held-out voices x {args.dev_sentences} held-out sentences)")
    return 0


def _import(args: argparse.Namespace) -> int:
    """`--import-from`: read a corpus into train.jsonl / dev.jsonl / dev_prompts.jsonl (rank 0 merges)."""
    # lazy: the parser imports every command at CLI start; the readers and torchrun helpers only here
    from ttsbench.systems.speech.training import distributed as D

    # lazy: the parser imports every command at CLI start; the readers and torchrun helpers only here
    from ttsbench.systems.speech.training.corpora import import_corpus

    if args.source is None:
        raise InputError("--import-from needs --source (the corpus on disk)")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rt = D.setup("cpu") if world > 1 else None
    try:
        counts = import_corpus(args.import_from, args.source, args.out, audio_root=args.audio_root,
                               dev_fraction=args.dev_fraction, seed=args.seed, workers=args.workers,
                               max_seconds=args.max_seconds, rank=rt.rank if rt else 0,
                               world_size=rt.world_size if rt else 1,
                               barrier=(lambda: D.barrier(rt)) if rt else (lambda: None))
    finally:
        if rt is not None:
            D.teardown(rt)
    if counts:
        print(f"{args.out / 'train.jsonl'}: {counts['train']} utterances, {counts['train_speakers']} speakers; "
              f"dev.jsonl: {counts['dev']} utterances, {counts['dev_speakers']} speakers (none in train); "
              f"dev_prompts.jsonl: {counts['dev_prompts']} prompts; {counts['units']} units")
    return 0
