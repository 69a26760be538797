"""The layout the card asks for: every code folder ships in the wheel; datasets/ never shadows HF datasets."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

MAPPING = {"bench": "ttsbench", "systems": "ttsbench/systems", "metrics": "ttsbench/metrics",
           "reports": "ttsbench/reports"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    repo = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(repo)], check=True, capture_output=True)
    return zipfile.ZipFile(next(out.glob("ttsbench-*.whl")))


def test_every_code_folder_is_in_the_wheel(wheel, repo_root):
    names = set(wheel.namelist())
    missing = []
    for folder, target in MAPPING.items():
        for py in (repo_root / folder).rglob("*.py"):
            if "__pycache__" in py.parts:
                continue
            rel = py.relative_to(repo_root / folder).as_posix()
            if f"{target}/{rel}" not in names:
                missing.append(f"{folder}/{rel}")
    assert not missing, f"not in the wheel (add the package to pyproject's packages list): {missing}"


def test_prompt_set_data_ships_in_the_wheel(wheel, repo_root):
    names = set(wheel.namelist())
    for path in (repo_root / "datasets").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(repo_root / "datasets").as_posix()
            assert f"ttsbench/_data/{rel}" in names, rel
    assert not any(n.startswith("datasets/") for n in names)


def test_datasets_folder_is_not_a_package(repo_root):
    assert not list((repo_root / "datasets").rglob("*.py"))


def test_import_datasets_from_repo_root_does_not_resolve_to_our_folder(repo_root, tmp_path):
    """A regular `datasets` package anywhere on the path wins over our data folder.

    Hugging Face `datasets` is not a dependency, so a stand-in regular package placed after the
    repo root on sys.path plays its part: our folder (no __init__.py) must not shadow it.
    """
    code = "import datasets; print(getattr(datasets, '__file__', None)); print(list(datasets.__path__))"
    try:
        import importlib.util

        has_hf = importlib.util.find_spec("datasets") is not None and "site-packages" in str(
            importlib.util.find_spec("datasets").origin)
    except (ImportError, ValueError):
        has_hf = False
    env_path = ""
    if not has_hf:
        fake = tmp_path / "site" / "datasets"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text("HF = True\n")
        env_path = str(tmp_path / "site")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True,
                         env={"PYTHONPATH": env_path, "PATH": ""}, check=True)
    file_line, path_line = out.stdout.splitlines()
    ours = str(repo_root / "datasets")
    assert file_line != "None" and not file_line.startswith(ours)
    assert ours not in path_line


def test_report_assets_ship_in_the_wheel(wheel, repo_root):
    """The listening pages' script and the stylesheet are package data of ttsbench.reports."""
    names = set(wheel.namelist())
    assets = sorted(p.name for p in (repo_root / "reports" / "assets").iterdir() if p.is_file())
    assert assets == ["listen.js", "report.css"]
    assert all(f"ttsbench/reports/assets/{name}" in names for name in assets)
