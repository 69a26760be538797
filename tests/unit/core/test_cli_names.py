"""One name per concept: "prompt set" and "normalizer"; the old spellings still work for one release."""

from __future__ import annotations

from ttsbench.cli import main
from ttsbench.spec import load_toml


def test_list_prompt_sets_and_normalizers(capsys):
    assert main(["list", "prompt-sets"]) == 0
    assert "demo" in capsys.readouterr().out
    assert main(["list", "normalizers"]) == 0
    assert "seedtts-en" in capsys.readouterr().out


def test_old_list_names_still_work_with_a_note(capsys):
    assert main(["list", "testsets"]) == 0
    out, err = capsys.readouterr()
    assert "demo" in out and "use `list prompt-sets`" in err
    assert main(["list", "recipes"]) == 0
    out, err = capsys.readouterr()
    assert "f5-en" in out and "use `list normalizers`" in err


def test_testset_flag_is_a_deprecated_alias(tiny_manifest, tmp_path, capsys):
    argv = ["run", "--system", "tone", "--metrics", "duration", "--out", str(tmp_path / "runs"), "--quiet"]
    assert main([*argv, "--testset", str(tiny_manifest)]) == 0
    assert "--testset is deprecated; use --prompt-set" in capsys.readouterr().err
    assert main([*argv, "--prompt-set", str(tiny_manifest)]) == 0  # the same run: resumes, nothing redone
    assert "deprecated" not in capsys.readouterr().err
    assert len(list((tmp_path / "runs").rglob("run.json"))) == 1


def test_toml_testset_key_is_a_deprecated_alias(tmp_path, capsys):
    path = tmp_path / "spec.toml"
    path.write_text('[run]\ntestset = "demo"\n[system]\nname = "tone"\n')
    assert load_toml(path).prompt_set == "demo"
    assert "[run] testset is deprecated" in capsys.readouterr().err
    path.write_text('[run]\ntestset = "demo"\nprompt_set = "demo"\n[system]\nname = "tone"\n')
    try:
        load_toml(path)
    except Exception as err:  # noqa: BLE001 - the message is what matters
        assert "both prompt_set and its deprecated alias testset" in str(err)
    else:
        raise AssertionError("both keys must be refused")
