"""Training FLOPs counting and the MFU peak table (systems/speech/training/throughput.py)."""

from __future__ import annotations

import pytest
import torch

from ttsbench.systems.speech.training.throughput import StepCounter, peak_tflops


def test_a_counted_step_is_forward_plus_backward():
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.GELU(), torch.nn.Linear(64, 8))
    x = torch.randn(10, 16)
    with FlopCounterMode(display=False) as forward_only:
        net(x)
    counter = StepCounter(every=3)
    for step in range(4):
        with counter.counting(step):
            net(x).square().sum().backward()
        counter.record(frames=10)
    fwd = forward_only.get_total_flops()
    assert fwd == 2 * 10 * (16 * 64 + 64 * 8)
    # backward: grads of both weights (2 fwd) and of the hidden input (first layer's input needs none)
    assert counter.flops == fwd + 2 * 10 * (16 * 64 + 64 * 8) + 2 * 10 * 64 * 8
    assert counter.flops_per_frame == counter.flops / 10


def test_only_the_first_step_of_a_window_is_counted():
    counter = StepCounter(every=4)
    kinds = []
    for step in (5, 6, 8, 9):  # a resumed run counts its first step even mid-window
        kinds.append(type(counter.counting(step)).__name__)
        counter.record(frames=1)
    assert kinds == ["FlopCounterMode", "nullcontext", "FlopCounterMode", "nullcontext"]


@pytest.mark.parametrize(("name", "peak"), [("NVIDIA H100 80GB HBM3", 989.4), ("NVIDIA H100 PCIe", 756.0),
                                            ("NVIDIA H200", 989.4), ("NVIDIA A100-SXM4-80GB", 312.0)])
def test_peak_of_known_gpus(monkeypatch, name, peak):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)
    assert peak_tflops(torch.device("cuda", 0))[0] == peak


def test_peak_unknown_on_cpu_unless_configured():
    value, why = peak_tflops(torch.device("cpu"))
    assert value is None and "peak_tflops" in why
    assert peak_tflops(torch.device("cpu"), 1.5) == (1.5, "config peak_tflops")
