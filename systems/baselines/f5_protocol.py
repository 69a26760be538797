"""F5-TTS's evaluation protocol, as its eval path does it (f5_tts/eval/utils_eval.py
`get_inference_prompt` and eval/eval_infer_batch.py, f5-tts 1.1.22), in plain Python:

- text: prompt text + target text, with one space appended to the prompt text when its last
  character is one byte in UTF-8 (an ASCII letter or mark), so English sentences do not fuse;
- duration: total mel frames = prompt frames + int(prompt frames / prompt bytes x target bytes / speed),
  lengths in UTF-8 bytes of the (spaced) prompt text and the target text;
- loudness: a prompt quieter than RMS 0.1 is scaled up to 0.1 (a louder one is left alone), and
  the generated audio is scaled back by the same factor.

Our `ttsbench.systems.baselines.f5` runs these around the upstream's own `CFM.sample`.
"""

from __future__ import annotations

import numpy as np

TARGET_RMS = 0.1


def join_text(prompt_text: str, target_text: str) -> tuple[str, str]:
    """(the prompt text as the duration rule counts it, the text the model reads)."""
    if prompt_text and len(prompt_text[-1].encode("utf-8")) == 1:
        prompt_text = prompt_text + " "
    return prompt_text, prompt_text + target_text


def total_frames(prompt_frames: int, prompt_text: str, target_text: str, speed: float = 1.0) -> int:
    """Prompt plus generated mel frames. `prompt_text` is the spaced one from `join_text`."""
    prompt_bytes = len(prompt_text.encode("utf-8"))
    if prompt_bytes == 0:
        raise ValueError("F5's duration rule needs a prompt transcript (prompt_text is empty)")
    target_bytes = len(target_text.encode("utf-8"))
    return prompt_frames + int(prompt_frames / prompt_bytes * target_bytes / speed)


def rms(wav: np.ndarray) -> float:
    """Root mean square over every sample (all channels), as `torch.sqrt(torch.mean(x ** 2))`."""
    return float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))


def prompt_gain(prompt_rms: float, target: float = TARGET_RMS) -> float:
    """The factor applied to the prompt (and undone on the output): target/rms below target, else 1."""
    return target / prompt_rms if 0 < prompt_rms < target else 1.0
