"""Declared options: typed parsing, ranges and choices, "did you mean", defaults, `list --options`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from ttsbench.cli import main
from ttsbench.errors import InputError
from ttsbench.options import (
    NoOptions,
    OptionError,
    check_declaration,
    describe_options,
    option,
    parse_options,
)
from ttsbench.plugins import METRICS, SYSTEMS
from ttsbench.spec import RunSpec, load_toml
from ttsbench.types import SystemSpec


@dataclass(frozen=True)
class Example:
    suggest: ClassVar[dict[str, str]] = {"tau": "temperature"}

    nfe: int = option(10, "network calls", min=1)
    temperature: float = option(1.0, "tau", min=0, max=1)
    length: float = option(30.0, "seconds", above=0)
    greedy: bool = option(False, "no sampling")
    voice: str = option("", "a voice name")
    dtype: str = option("fp32", "compute dtype", choices=("fp32", "bf16"))
    model: Path | None = option(None, "a model path")
    end: float | None = option(None, "anneal to this", above=0)


def parse(**raw):
    return parse_options(Example, raw, owner="system 'x'")


def test_defaults_when_nothing_is_given():
    assert parse() == Example()
    assert parse_options(NoOptions, {}, owner="metric 'm'") == NoOptions()


def test_values_are_typed():
    o = parse(nfe=4, temperature=1, length="12.5", greedy="yes", voice=7, model="/m/x", end="0.1")
    assert (o.nfe, o.temperature, o.length, o.greedy, o.voice, o.model, o.end) == \
        (4, 1.0, 12.5, True, "7", Path("/m/x"), 0.1)
    assert isinstance(o.temperature, float) and isinstance(o.nfe, int)
    assert parse(nfe=4.0).nfe == 4 and parse(nfe="007").nfe == 7  # integral values are integers
    assert parse(voice="007").voice == "007"  # text stays text, leading zeros and all
    assert parse(voice=True).voice == "true" and parse(voice=0.5).voice == "0.5"
    assert parse(greedy=1).greedy is True and parse(greedy="off").greedy is False
    assert parse(model="none").model is None and parse(end="").end is None and parse(end=None).end is None


@pytest.mark.parametrize("raw,message", [
    ({"nfe": "abc"}, "system 'x': option nfe=abc is not an integer"),
    ({"nfe": 2.5}, "option nfe=2.5 is not an integer"),
    ({"nfe": True}, "option nfe=true is not an integer"),
    ({"temperature": "hot"}, "option temperature=hot is not a number"),
    ({"temperature": "nan"}, "is not a number"),
    ({"greedy": "maybe"}, "option greedy=maybe is not true or false"),
    ({"greedy": 2}, "is not true or false"),
    ({"nfe": 0}, "option nfe=0 is out of range (allowed: >= 1)"),
    ({"temperature": 2}, "option temperature=2 is out of range (allowed: 0 .. 1)"),
    ({"length": 0}, "option length=0 is out of range (allowed: > 0)"),
    ({"end": -1}, "(allowed: > 0)"),
    ({"dtype": "fp8"}, "option dtype=fp8 is not one of fp32, bf16"),
])
def test_wrong_type_or_range_is_one_line(raw, message):
    with pytest.raises(OptionError) as err:
        parse(**raw)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, InputError)  # the CLI prints it as one line, exit 2


def test_unknown_option_names_the_closest_and_every_known_one():
    with pytest.raises(OptionError) as err:
        parse(nfee=4)
    assert str(err.value) == ("system 'x': unknown option 'nfee'. Did you mean 'nfe'? known options: dtype, end, "
                              "greedy, length, model, nfe, temperature, voice")
    with pytest.raises(OptionError, match="unknown option 'tau'. Did you mean 'temperature'"):
        parse(tau=0.5)  # a suggested name, too far for difflib
    with pytest.raises(OptionError, match="unknown option 'zzz'. known options: dtype,"):
        parse(zzz=1)
    with pytest.raises(OptionError, match=r"unknown options 'nfee' \(did you mean 'nfe'\?\), 'zzz'\. known"):
        parse(nfee=1, zzz=2, nfe="abc")  # unknown keys are reported before bad values
    with pytest.raises(OptionError, match="metric 'm': unknown option 'foo'. It takes no options."):
        parse_options(NoOptions, {"foo": 1}, owner="metric 'm'")


def test_checks_over_several_fields_name_the_owner():
    @dataclass(frozen=True)
    class Lengths:
        low: int = option(0, "at least", min=0)
        high: int = option(0, "at most (0: none)", min=0)

        def __post_init__(self) -> None:
            if self.high and self.high < self.low:
                raise OptionError(f"high={self.high} < low={self.low}")

    assert parse_options(Lengths, {"low": 2, "high": 3}, owner="system 'x'") == Lengths(2, 3)
    with pytest.raises(OptionError, match="^system 'x': high=1 < low=2$"):
        parse_options(Lengths, {"low": 2, "high": 1}, owner="system 'x'")


def test_a_bad_declaration_is_caught():
    @dataclass(frozen=True)
    class NoHelp:
        n: int = 3

    @dataclass(frozen=True)
    class BadDefault:
        n: int = option(0, "count", min=1)

    @dataclass(frozen=True)
    class ListType:
        n: list = option((), "values")  # type: ignore[type-arg]

    @dataclass
    class NotFrozen:
        n: int = option(1, "count")

    @dataclass(frozen=True)
    class NoneForInt:
        n: int = option(None, "count")

    for cls in (NoHelp, BadDefault, ListType, NotFrozen, NoneForInt):
        with pytest.raises(TypeError):
            check_declaration(cls)
    check_declaration(Example)


def test_describe_options_rows():
    rows = {r.name: r for r in describe_options(Example)}
    assert list(rows) == ["nfe", "temperature", "length", "greedy", "voice", "dtype", "model", "end"]
    assert (rows["nfe"].type, rows["nfe"].default, rows["nfe"].allowed, rows["nfe"].help) == \
        ("integer", "10", ">= 1", "network calls")
    assert rows["temperature"].allowed == "0 .. 1" and rows["length"].allowed == "> 0"
    assert rows["dtype"].allowed == "fp32 | bf16" and rows["greedy"].default == "false"
    assert (rows["model"].type, rows["model"].default) == ("path or none", "none")
    assert rows["voice"].default == "''"


# ---- the registered systems and metrics -------------------------------------------------------

def system_options(text: str):
    spec = SystemSpec.parse(text)
    return SYSTEMS.get(spec.name).parse_options(spec)


def test_one_name_per_option_across_the_model_families():
    for name in ("ditar-tiny", "distar-tiny", "nar-dit-tiny"):
        o = system_options(f"{name}:cfg=2,temperature=0.5,random_weights=true")
        assert (o.cfg, o.temperature, o.random_weights) == (2.0, 0.5, True)
        for alias, meant in (("guidance", "cfg"), ("tau", "temperature"), ("weights", "random_weights")):
            with pytest.raises(OptionError, match=f"unknown option '{alias}'. Did you mean '{meant}'"):
                system_options(f"{name}:{alias}=1")
    with pytest.raises(OptionError, match="unknown option 'nfe'. Did you mean 'steps'"):
        system_options("distar-tiny:nfe=8")  # DiSTAR counts network calls in steps


def test_system_defaults_are_kept():
    ditar = system_options("ditar-tiny")
    assert (ditar.nfe, ditar.cfg, ditar.temperature, ditar.max_seconds, ditar.min_patches, ditar.max_patches,
            ditar.stop_threshold, ditar.tokenizer, ditar.dtype, ditar.random_weights, ditar.weight_seed,
            ditar.patch, ditar.history) == (10, 1.0, 1.0, 30.0, 0, 0, 0.5, "", "fp32", False, 0, 0, -1)
    distar = system_options("distar-base")
    assert (distar.cfg, distar.steps, distar.mode, distar.temperature_end, distar.top_k) == \
        (1.25, 24, "greedy", None, 50)
    assert system_options("espeak-ng").rate == 175 and system_options("ground-truth").sample_rate == 16_000
    assert system_options("piper-joe").noise_scale is None  # the voice's own config decides


def test_wer_recipes_share_a_base_and_keep_their_published_decode_parameters():
    params = {name: METRICS.get(name)({}).params for name in
              ("seedtts-en", "seedtts-zh", "f5-en", "hubert-en", "wer-whisper-tiny-en")}
    assert params == {
        "seedtts-en": {"language": "english", "task": "transcribe"}, "seedtts-zh": {"batch_size_s": 300},
        "f5-en": {"beam_size": 5, "language": "en", "compute_type": "auto", "cpu_threads": 0},
        "hubert-en": {},
        "wer-whisper-tiny-en": {"beam_size": 5, "language": "en", "compute_type": "int8", "cpu_threads": 2}}
    f5 = METRICS.get("f5-en")({"beam_size": 3, "model": "/m", "sha256": 1234})
    assert f5.params["beam_size"] == 3 and f5.options.model == Path("/m") and f5.weights_sha256 == "1234"
    with pytest.raises(OptionError, match="metric 'seedtts-en': unknown option 'beam_size'"):
        METRICS.get("seedtts-en")({"beam_size": 3})  # a decode key of another backend


def test_run_ids_still_hash_the_raw_options():
    """Existing run directories resume: the id is computed from the spec as given, not the typed options."""
    spec = RunSpec(system=SystemSpec.parse("ditar-tiny:nfe=4,cfg=2,tau=0.5"), prompt_set="demo")
    assert spec.run_id("sha256:x") == "db210552da08"  # the id this spec had before options were typed
    assert RunSpec(system=SystemSpec.parse("faulty:nan=007,crash=7"), prompt_set="demo").run_id("sha256:x") \
        == "8066007386a3"


def test_a_toml_spec_is_checked_the_same_way(tmp_path, capsys):
    path = tmp_path / "spec.toml"
    path.write_text(f'[run]\nprompt_set = "demo"\nout = "{tmp_path / "runs"}"\n'
                    '[system]\nname = "tone"\nnosie = 0.1\n[[metric]]\nname = "duration"\n')
    assert load_toml(path).system.options == {"nosie": 0.1}
    assert main(["run", str(path), "--quiet"]) == 2
    assert "unknown option 'nosie'. Did you mean 'noise'?" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


# ---- ttsbench list ... --options ----------------------------------------------------------------

def test_list_options_prints_a_table_of_the_declared_options(capsys):
    assert main(["list", "systems", "--options", "ditar-tiny"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["option", "type", "default", "allowed", "help"]
    nfe = next(line for line in lines if line.startswith("nfe "))
    assert nfe.split()[:4] == ["nfe", "integer", "10", ">="] and "LocDiT network calls" in nfe
    assert any(line.split()[:4] == ["dtype", "text", "fp32", "fp32"] for line in lines)

    assert main(["list", "metrics", "--options", "f5-en", "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| option") and "| beam_size " in out and "| path or none " in out
    assert main(["list", "metrics", "--options", "duration"]) == 0
    assert capsys.readouterr().out == "metric 'duration' takes no options\n"


def test_list_options_errors_are_one_line(capsys):
    assert main(["list", "asr", "--options", "hf-whisper"]) == 2
    assert "--options lists the options of systems or metrics" in capsys.readouterr().err
    assert main(["list", "systems", "--options", "ditr-tiny"]) == 2
    assert "Did you mean 'ditar-tiny'" in capsys.readouterr().err
