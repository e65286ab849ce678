import pytest
from PySide6.QtGui import QImage

from rnnviz.app import main


def run(argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code


def test_screenshot_renders_the_trained_window(qapp, tmp_path, capsys):
    path = tmp_path / "shots" / "window.png"
    assert run(["--screenshot", str(path), "--task", "sine", "--cell", "gru", "--train-steps", "5"]) == 0
    image = QImage(str(path))
    assert image.width() >= 1280 and image.height() >= 800
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 37)}
    assert len(colours) > 50  # panels, text and heatmaps (hundreds of colours): not a blank window
    assert f"screenshot: {path}" in capsys.readouterr().out


def test_screenshot_of_a_missing_session_is_a_one_line_error(qapp, tmp_path, capsys):
    assert run(["--screenshot", str(tmp_path / "x.png"), "--session", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()
