"""`ttsbench convert grow`: both of GROW's checkpoint layouts, and one-line refusals."""

from __future__ import annotations

import pytest
import torch

from tests.unit.grow.conftest import write_rl_ckpt
from ttsbench.errors import InputError
from ttsbench.systems.grow.convert import convert, interleaved_to_half, load_converted


def test_rl_layout_converts_to_the_same_weights(grow_ckpt, grow_state, grow_meta, tmp_path):
    a, meta_a = load_converted(convert(grow_ckpt, tmp_path / "a"))
    rl = write_rl_ckpt(tmp_path / "03_grow_nfe10", grow_state, grow_meta["config_yaml"])
    b, meta_b = load_converted(convert(rl.parent, tmp_path / "b"))
    assert (meta_a["source"]["kind"], meta_b["source"]["kind"]) == ("pretrain-ema", "model")
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_unknown_key_is_refused_in_one_line(tmp_path, grow_state, grow_meta):
    from tests.unit.grow.conftest import write_pretrain_ckpt

    bad = dict(grow_state, **{"LocDiT.extra_gate.weight": torch.zeros(2)})
    path = write_pretrain_ckpt(tmp_path / "bad", bad, grow_meta["config_yaml"])
    with pytest.raises(InputError, match="LocDiT.extra_gate.weight") as err:
        convert(path, tmp_path / "out")
    assert "\n" not in str(err.value)


def test_truncated_checkpoint_fails_in_one_line(grow_ckpt, tmp_path):
    data = grow_ckpt.read_bytes()
    cut = tmp_path / "cut" / "model_200000.pt"
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="not a readable GROW checkpoint") as err:
        convert(cut, tmp_path / "out")
    assert "\n" not in str(err.value)


def test_dropped_keys_are_only_the_listed_ones(grow_ckpt, grow_state, tmp_path):
    model, _ = load_converted(convert(grow_ckpt, tmp_path / "c"))
    ours = sum(v.numel() for v in model.state_dict().values())
    dropped = sum(v.numel() for k, v in grow_state.items()
                  if k.startswith(("generator.", "vae_projector.", "LocDiT.conv_pos_embed.")) or "inv_freq" in k)
    assert ours == sum(v.numel() for v in grow_state.values()) - dropped


def test_interleaved_rope_permutation():
    """Rotating interleaved pairs equals rotating the permuted rows in the rotate-half layout."""
    heads, dh, S = 2, 8, 5
    w = torch.randn(heads * dh, 3)
    x = torch.randn(S, 3)
    q = (x @ w.T).view(S, heads, dh)
    inv = 1.0 / (10000 ** (torch.arange(0, dh, 2).float() / dh))
    ang = torch.arange(S).float()[:, None] * inv  # (S, dh/2)
    cos, sin = ang.cos()[:, None], ang.sin()[:, None]
    a, b = q[..., 0::2], q[..., 1::2]  # interleaved pairs
    inter = torch.stack([a * cos - b * sin, b * cos + a * sin], dim=-1).flatten(-2)
    qh = (x @ interleaved_to_half(w, heads, dh).T).view(S, heads, dh)
    a2, b2 = qh[..., : dh // 2], qh[..., dh // 2:]
    half = torch.cat([a2 * cos - b2 * sin, b2 * cos + a2 * sin], dim=-1)
    order = torch.cat([torch.arange(0, dh, 2), torch.arange(1, dh, 2)])
    torch.testing.assert_close(half, inter[..., order])


def test_cli_convert(grow_ckpt, tmp_path, capsys):
    from ttsbench.cli import main

    assert main(["convert", "grow", str(grow_ckpt.parent), "--out", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "model.safetensors").is_file() and (tmp_path / "c" / "config.json").is_file()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(grow_ckpt.read_bytes()[:1000])
    capsys.readouterr()
    assert main(["convert", "grow", str(cut), "--out", str(tmp_path / "d")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
