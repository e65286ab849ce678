"""Data files that used to be misread or crash: decimal commas, UTF-16, symbolic link loops, ~."""
from __future__ import annotations

import os

import numpy as np
import pytest

from rnnviz.tasks.loaders import DataFileError, load_csv, load_text


def test_semicolons_with_decimal_commas_read_every_column(tmp_path):
    path = tmp_path / "european.csv"
    path.write_text("time;temperature;pressure\n1;20,5;1013,25\n2;-21,75;1012,5\n3;22;1e3\n", encoding="utf-8")
    names, values = load_csv(path)
    assert names == ["time", "temperature", "pressure"]
    np.testing.assert_array_equal(values, [[1, 20.5, 1013.25], [2, -21.75, 1012.5], [3, 22, 1000]])


def test_tabs_with_decimal_commas(tmp_path):
    path = tmp_path / "tabs.csv"
    path.write_text("a\tb\n0,5\t1\n1,5\t2\n", encoding="utf-8")
    assert load_csv(path)[1].tolist() == [[0.5, 1.0], [1.5, 2.0]]


def test_mixed_decimal_separators_are_refused(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("a;b\n1,5;2.5\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="mixes decimal commas"):
        load_csv(path)


def test_grouped_thousands_are_refused(tmp_path):
    path = tmp_path / "grouped.csv"
    path.write_text("a;b\n1.234,5;1\n2.000,0;2\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="groups thousands"):
        load_csv(path)


def test_commas_stay_delimiters_in_comma_files(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1.5,2\n", encoding="utf-8")
    assert load_csv(path)[1].tolist() == [[1.5, 2.0]]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(tmp_path, codec):
    path = tmp_path / "wide.txt"
    text = "the cat sat on the mat\nnaïve café\n"
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[codec]
    path.write_bytes(bom + text.encode(codec))
    assert load_text(path) == text


def test_utf16_without_a_byte_order_mark_is_named(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_bytes("the cat sat on the mat\n".encode("utf-16-le"))
    with pytest.raises(DataFileError, match="UTF-16.*save it as UTF-8") as error:
        load_text(path)
    assert "binary" not in str(error.value)


def test_a_symbolic_link_loop_is_named(tmp_path):
    os.symlink(tmp_path / "b.txt", tmp_path / "a.txt")
    os.symlink(tmp_path / "a.txt", tmp_path / "b.txt")
    with pytest.raises(DataFileError, match="loop of symbolic links"):
        load_text(tmp_path / "a.txt")


def test_a_tilde_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "corpus.txt").write_text("hello there\n", encoding="utf-8")
    assert load_text("~/corpus.txt") == "hello there\n"
