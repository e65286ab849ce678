"""What pip installs: the wheel and sdist hold the code and every bundled file, and an installed
layout (the wheel unpacked, away from this checkout) finds its corpora, examples, stylesheets and
icons through importlib.resources. ``.ci/run`` goes further: it installs the wheel into a fresh
virtual environment and runs the commands."""
from __future__ import annotations

import configparser
import os
import subprocess
import sys
import tarfile
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from rnnviz.app import main

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "rnnviz", "resources")
BUNDLED = {  # what the program reads, by the folder it is in under resources/
    "corpora": "*.txt", "examples": "*.csv", "style": "*.qss", "icons": "*.png",
}


def bundled_files() -> list[str]:
    """Every file under resources/ that ships, as a path inside resources/."""
    files = [f.relative_to(REPO / "resources").as_posix()
             for folder, pattern in BUNDLED.items() for f in sorted((REPO / "resources" / folder).glob(pattern))]
    return [*files, "icons/rnnviz.svg", "rnnviz.desktop"]


def python_files() -> list[str]:
    return sorted(f.relative_to(REPO).as_posix() for f in (REPO / "rnnviz").rglob("*.py"))


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    """The files a build reads, copied away from this checkout (no build/ or egg-info left here)."""
    import shutil

    target = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(source_copy, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                           "--wheel-dir", str(out), str(source_copy)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("rnnviz-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel unpacked as pip lays it out in site-packages."""
    site = tmp_path_factory.mktemp("site-packages")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def test_the_wheel_holds_the_code_and_every_bundled_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing_code = [f for f in python_files() if f not in names]
    missing_data = [f for f in bundled_files() if f"rnnviz/resources/{f}" not in names]
    assert not missing_code and not missing_data, (missing_code, missing_data)
    assert not [n for n in names if "screenshots" in n or n.startswith("resources/")]  # only what runs ships


def test_the_wheel_declares_a_console_and_a_windowed_command(wheel):
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        parser = configparser.ConfigParser()
        parser.read_string(archive.read(entry_points).decode())
    assert parser["console_scripts"]["rnnviz"].strip() == "rnnviz.app:main"
    assert parser["gui_scripts"]["rnnviz-gui"].strip() == "rnnviz.app:gui_main"


def test_the_sdist_holds_the_code_and_every_bundled_file(source_copy, tmp_path):
    code = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=source_copy, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    sdist = tmp_path / done.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = [*python_files(), *(f"resources/{f}" for f in bundled_files()), "setup.py", "pyproject.toml"]
    assert not [f for f in expected if f not in names]


def test_an_installed_layout_reads_every_bundled_file(installed, tmp_path):
    """Away from the checkout, with only the unpacked wheel on the path: every task builds (the text
    and series tasks read bundled data), both stylesheets, the icon and the .desktop file are there."""
    code = """
import rnnviz, rnnviz.bundled as bundled
from rnnviz.tasks import TASKS, make_task
from rnnviz.ui import theme
from rnnviz.ui.desktop import app_icon, ICON_SIZES
from PySide6.QtWidgets import QApplication
assert rnnviz.__file__.startswith(SITE), rnnviz.__file__
assert str(bundled.bundled_path("style", "light.qss")).startswith(SITE)
for name in TASKS:
    make_task(name)
assert all(bundled.bundled_text("style", f"{t}.qss") and isinstance(theme.stylesheet(v), str) for t, v in theme.THEMES.items())
app = QApplication([])
assert {s.width() for s in app_icon().availableSizes()} == set(ICON_SIZES)
assert "Exec=rnnviz-gui" in bundled.bundled_text("rnnviz.desktop")
print("version", rnnviz.__version__)
""".replace("SITE", repr(str(installed)))
    env = {**os.environ, "PYTHONPATH": str(installed), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"version {version('rnnviz')}"


def test_version_is_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnnviz {version('rnnviz')}"


def test_the_desktop_file_starts_the_windowed_command_with_the_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(REPO / "resources" / "rnnviz.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Terminal"] == "false"
    assert desktop["Exec"].split()[0] == "rnnviz-gui" and desktop["Icon"] == "rnnviz"
