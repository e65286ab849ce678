"""Loaders refuse bad files with a TaskError that says what and where; fuzzed with hypothesis."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.tasks import make_task
from rnnviz.tasks.base import TaskError
from rnnviz.tasks.loaders import MAX_FILE_BYTES, DataFileError, load_csv, load_text


def write(tmp_path, content: bytes | str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- files and encodings ------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        load_text(tmp_path / "nothing.txt")


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(DataFileError, match="not a regular file"):
        load_csv(tmp_path)


def test_too_big_file_says_size_and_limit(tmp_path):
    path = tmp_path / "big.txt"
    with open(path, "wb") as handle:  # sparse: no 50 MB written to disk
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(DataFileError, match=r"52,428,801 bytes \(50\.0 MB\), more than the 50 MB limit") as error:
        load_text(path)
    assert "smaller" in str(error.value)


def test_binary_file_is_refused(tmp_path):
    with pytest.raises(DataFileError, match="binary"):
        load_text(write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))


def test_undecodable_file_names_the_byte(tmp_path):
    with pytest.raises(DataFileError, match=r"not UTF-8.*0xe9 at offset 3.*save it as UTF-8"):
        load_text(write(tmp_path, "caf\u00e9 au lait".encode("latin-1")))


def test_text_keeps_content_and_normalises_line_endings(tmp_path):
    assert load_text(write(tmp_path, "\ufeffna\u00efve\r\nline\rend\n".encode("utf-8"))) == "na\u00efve\nline\nend\n"


def test_empty_text_is_refused(tmp_path):
    with pytest.raises(DataFileError, match="no text"):
        load_text(write(tmp_path, " \n\n"))


def test_text_too_short_for_one_sequence_says_counts(tmp_path):
    path = write(tmp_path, "hello", "short.txt")
    with pytest.raises(TaskError, match=r"has 5 characters.*needs at least 11"):
        make_task("text", path=str(path), seq_len=10)
    assert make_task("text", path=str(path), seq_len=4).batch(2, np.random.default_rng(0)).seq_len == 4


# --- CSV shape and values -------------------------------------------------------------------------

def test_csv_reads_numeric_columns_and_skips_text_columns(tmp_path):
    names, values = load_csv(write(tmp_path, "date;level;note;flow\n2024-01-01;1.5;dry;2\n2024-01-02;-3e2;wet;4\n"))
    assert names == ["level", "flow"]
    np.testing.assert_array_equal(values, [[1.5, 2.0], [-300.0, 4.0]])


def test_csv_mostly_text_column_is_skipped_mostly_numeric_column_is_checked(tmp_path):
    content = "when,v\n" + "".join(f"day {i},{i}\n" for i in range(10)) + "2024,N/A\n"
    with pytest.raises(DataFileError, match="line 12, column 'v': 'N/A' is not a number"):
        load_csv(write(tmp_path, content))
    names, values = load_csv(write(tmp_path, content.replace("N/A", "10")))
    assert names == ["v"] and values[-1, 0] == 10.0


def test_csv_tab_separated_with_blank_lines(tmp_path):
    names, values = load_csv(write(tmp_path, "a\tb\n\n1\t2\n3\t4\n\n"))
    assert names == ["a", "b"] and values.shape == (2, 2)


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "is empty"),
        ("1,2,3\n4,5,6\n", "first row holds numbers.*add a header"),
        ("a,b\n", "no data rows"),
        ("a,,c\n1,2,3\n", "column 2 has no name"),
        ("x,y,x\n1,2,3\n", "'x' appears twice"),
        ("a,b\n1,2\n3\n", "line 3: 1 value but the header has 2 columns"),
        ("a,b\n1,2\n3,4,5\n", "line 3: 3 values"),
        ("a,b\n1,2\n3,oops\n", "line 3, column 'b': 'oops' is not a number"),
        ("a,b\n1,\n3,4\n", "line 2, column 'b': empty cell"),
        ("a,b\n1,2\nnan,4\n", "line 3, column 'a': 'nan' is not a finite number"),
        ("a,b\n1,inf\n", "column 'b': 'inf' is not a finite"),
        ("a,b\n1,1e999\n", "column 'b': '1e999' is not a finite"),
        ("name,colour\nx,red\n", "no numeric column"),
        ('a,b\n1,"2\n', r"line 2: not valid CSV \(unexpected end of data\)"),
        ('a,b\n1,"2"x\n', "line 2: not valid CSV"),
    ],
)
def test_csv_refusals_say_what_and_where(tmp_path, content, message):
    with pytest.raises(DataFileError, match=message):
        load_csv(write(tmp_path, content))


def test_series_too_short_says_rows_found_and_needed(tmp_path):
    path = write(tmp_path, "v\n" + "\n".join(str(i) for i in range(30)))
    with pytest.raises(TaskError, match=r"has 30 rows.*needs at least 49.*lower seq_len"):
        make_task("series", path=str(path), seq_len=48)


def test_series_huge_values_are_refused_not_turned_into_nan(tmp_path):
    path = write(tmp_path, "v\n1e300\n-1e300\n1e300\n")
    with pytest.raises(DataFileError, match="cannot be normalised"):
        make_task("series", path=str(path), seq_len=2)


def test_series_constant_column_normalises_to_zero(tmp_path):
    path = write(tmp_path, "flat,wave\n" + "\n".join(f"7,{np.sin(i)}" for i in range(20)))
    batch = make_task("series", path=str(path), seq_len=5).batch(3, np.random.default_rng(0))
    assert np.all(batch.inputs[..., 0] == 0.0)


# --- fuzzing: any file is either a clean TaskError or a usable task ----------------------------------

def check_any_outcome(path, name: str, **params) -> None:
    try:
        task = make_task(name, path=str(path), **params)
    except TaskError as error:
        assert str(error)
        return
    batch = task.batch(3, np.random.default_rng(0))
    for array in (batch.inputs, batch.targets, batch.mask):
        assert np.all(np.isfinite(array))


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(content=st.binary(max_size=400))
def test_fuzz_any_bytes_as_text(tmp_path, content):
    check_any_outcome(write(tmp_path, content, "fuzz.txt"), "text", seq_len=3, max_vocab=5)


@FUZZ
@given(content=st.binary(max_size=400))
def test_fuzz_any_bytes_as_csv(tmp_path, content):
    check_any_outcome(write(tmp_path, content), "series", seq_len=2)


FINITE = st.floats(allow_nan=False, allow_infinity=False).map(repr)
CELLS = st.one_of(
    FINITE,
    FINITE,
    FINITE,
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["", " ", "x", "1e400", "-0", "1_0", '"3"', "nan", "\u00e9", "1,5", '"', "5e-324"]),
)


@st.composite
def csv_like_tables(draw) -> str:
    """A well-formed numeric table (unique header, one finite number per cell) in which, usually,
    one header name, one cell or one row's length is then spoiled."""
    names = st.sampled_from(["a", "b", "c", "t", "u", "v", "w"])
    header = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    rows = draw(st.lists(st.lists(FINITE, min_size=len(header), max_size=len(header)), min_size=3, max_size=6))
    spoil = draw(st.sampled_from(["nothing", "header", "cell", "cell", "row"]))
    row = draw(st.integers(0, len(rows) - 1))
    if spoil == "header":
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(["", "1", "a", " "]))
    elif spoil == "cell":
        rows[row][draw(st.integers(0, len(header) - 1))] = draw(CELLS)
    elif spoil == "row":
        rows[row] = draw(st.lists(CELLS, min_size=1, max_size=5))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    return "\n".join(delimiter.join(cells) for cells in [header] + rows)


@FUZZ
@given(text=csv_like_tables(), target=st.sampled_from(["", "0", "-1", "a", "b,c"]))
def test_fuzz_csv_like_tables(tmp_path, text, target):
    check_any_outcome(write(tmp_path, text), "series", seq_len=2, target=target)


def test_fuzz_finds_valid_tables_too(tmp_path):
    """The CSV fuzz above is meaningful: well-formed tables of the same shapes do load."""
    check_any_outcome(write(tmp_path, "a;b\n1;2\n3;4\n5;6.5\n"), "series", seq_len=2)
    task = make_task("series", path=str(tmp_path / "data.csv"), seq_len=2, target="a")
    assert task.info().output_names == ("next a",)
