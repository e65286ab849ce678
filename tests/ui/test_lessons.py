"""The Lessons dock and the first minute, driven like a person would: the welcome card, a lesson followed
to its end with the toolbar's Play, step-through lessons, wrong lesson files (dialog with the line, the
window keeps working; CLI: one error line), every bundled lesson's names, the preset card."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from rnnviz.app import main
from rnnviz.session.config import SessionConfig
from rnnviz.session.lessons import bundled_lesson_names, bundled_lessons
from rnnviz.ui.lessons.highlight import Outline
from rnnviz.ui.lessons.names import lesson_names
from rnnviz.ui.main_window import MainWindow
from rnnviz.ui.open_paths import open_in_window
from rnnviz.ui.panels.loss import LossPanel

SMALL = dict(task="adding", task_params={"seq_len": 8}, cell="gru", hidden_size=4, batch_size=4)
CLICK = Qt.MouseButton.LeftButton


def make_window(qtbot, settings_path):
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    win = MainWindow(SessionConfig(**SMALL), settings)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    qtbot.waitUntil(lambda: win.last_snapshot is not None, timeout=10000)
    return win


@pytest.fixture
def window(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path / "settings.ini")
    yield win
    win.controller.shutdown()


def warning_text(win) -> str | None:
    boxes = [b for b in win.findChildren(QMessageBox) if b.objectName() == "message" and b.isVisible()]
    return boxes[-1].text() if boxes else None


def outlined(win):
    return [o.parentWidget() for o in win.findChildren(Outline) if o.isVisible()]


def test_first_lesson_followed_to_its_end(qtbot, window):
    lessons = window.lessons
    assert window.welcome_if_first_start() and window.notices.welcome.isVisible()  # first start
    qtbot.mouseClick(window.notices.welcome.lesson_button, CLICK)
    assert not window.notices.welcome.isVisible()
    assert lessons.lesson.name == "memory" and lessons.progress_label.text() == "Step 1 of 5"
    qtbot.waitUntil(lambda: window.last_snapshot.cell == "rnn_tanh" and len(window.last_snapshot.hidden) == 20,
                    timeout=10000)
    assert outlined(window) == [window.training_panels["hidden"]]
    assert not lessons.reveal_label.isVisible()
    qtbot.mouseClick(lessons.choice_buttons[1], CLICK)  # a wrong prediction, then the reveal
    assert lessons.reveal_label.isVisible() and "Not quite" in lessons.reveal_label.text()
    qtbot.mouseClick(lessons.choice_buttons[0], CLICK)
    assert lessons.reveal_label.text().startswith("<b>Right.</b>")
    qtbot.mouseClick(lessons.next_button, CLICK)
    assert outlined(window) == [window.training_panels["gates"]]
    qtbot.mouseClick(lessons.next_button, CLICK)
    assert lessons.progress_label.text() == "Step 3 of 5" and lessons.check_label.text().startswith("☐")
    play = window.training_bar.widgetForAction(window.play_action)
    qtbot.mouseClick(play, CLICK)  # the toolbar's Play
    qtbot.waitUntil(lambda: lessons.check_label.text().startswith("✓"), timeout=60000)
    assert window.model.step >= 200
    qtbot.mouseClick(lessons.next_button, CLICK)  # this step pauses training
    qtbot.waitUntil(lambda: not window.controller.running, timeout=10000)
    qtbot.mouseClick(lessons.back_button, CLICK)
    assert lessons.index == 2 and lessons.check_label.text().startswith("✓")  # Back undoes nothing
    qtbot.mouseClick(lessons.next_button, CLICK)
    qtbot.mouseClick(lessons.next_button, CLICK)
    assert lessons.next_button.text().startswith("Finish")
    qtbot.mouseClick(lessons.next_button, CLICK)
    assert lessons.lesson is None and lessons.stack.currentIndex() == 0 and not outlined(window)
    assert "✓" in lessons.list.item(0).text()
    assert window.settings.value("lessons/finished") in (["memory"], "memory")


def test_step_through_lessons_move_the_step_page(qtbot, window):
    lesson = window.lessons.lesson_named("bptt")
    window.start_lesson(lesson)
    seq_len = 12
    qtbot.waitUntil(lambda: window.model.stepping.forward_done == seq_len and not window.lessons.runner.busy,
                    timeout=20000)
    assert window.tabs.currentIndex() == 1 and outlined(window) == [window.step_page.panels["bptt"]]
    assert window.lessons.check_label.text().startswith("☐")
    qtbot.mouseClick(window.step_page.next_button, CLICK)  # the learner takes one step back
    qtbot.waitUntil(lambda: window.lessons.check_label.text().startswith("✓"), timeout=5000)
    window.lessons.next()
    window.lessons.next()  # step 3: its own check and hint, not yet passed
    assert window.lessons.check_label.text().startswith("☐") and "three steps" in window.lessons.check_label.text()
    window.lessons.go_to(3)  # jumps run the actions on the way: BPTT to the end
    qtbot.waitUntil(lambda: window.model.stepping.backward_done == seq_len, timeout=20000)
    assert window.lessons.progress_label.text() == "Step 4 of 4"


def test_truncated_bptt_lesson_cuts_the_gradient(qtbot, window):
    window.start_lesson(window.lessons.lesson_named("tbptt"))
    window.lessons.go_to(1)
    qtbot.waitUntil(lambda: window.controller.config.tbptt == 10 and not window.controller.busy, timeout=20000)
    window.controller.step(1)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 1, timeout=20000)
    norms = window.last_snapshot.grad_norm_per_step
    assert (norms[:40] == 0).all() and (norms[40:] > 0).all()  # what the lesson says the plot shows


def test_a_lesson_file_with_a_mistake_gets_a_dialog_with_its_line(qtbot, window, tmp_path):
    bad = tmp_path / "mine.lesson"
    bad.write_text("title: Mine\nsummary: s\n\nstep: One\nsay: hello\nhighlight: lossy\n", encoding="utf-8")
    assert not window.open_lesson(bad)
    text = warning_text(window)
    assert text is not None and "mine.lesson, line 6" in text and "lossy" in text
    assert window.lessons.lesson is None
    good = tmp_path / "good.lesson"
    good.write_text("title: Good\nsummary: s\nstep: One\nsay: hello\nhighlight: loss\n", encoding="utf-8")
    open_in_window(window, [good])  # as a drop or `rnnviz good.lesson` does
    assert window.lessons.lesson.title == "Good" and outlined(window) == [window.training_panels["loss"]]
    window.controller.step(1)  # the window still works
    qtbot.waitUntil(lambda: window.last_snapshot.step == 1, timeout=10000)


def test_every_bundled_lesson_parses_and_its_names_resolve(window):
    lessons = bundled_lessons(lesson_names())
    assert len(lessons) >= 12 and [l.name for l in lessons][:3] == ["memory", "unrolling", "forward"]
    assert sorted(l.name for l in lessons) == bundled_lesson_names()
    for lesson in lessons:
        assert all(step.say for step in lesson.steps)
        assert any(step.question for step in lesson.steps), f"{lesson.name} asks nothing"
        for step in lesson.steps:
            if step.highlight:
                assert window.lessons.runner.widget_for(step.highlight) is not None, (lesson.name, step.highlight)
            if step.question:
                assert 2 <= len(step.question.choices) <= 4


def test_welcome_card_is_shown_once_and_comes_back_from_help(qtbot, tmp_path):
    first = make_window(qtbot, tmp_path / "s.ini")
    assert not first.notices.welcome.isVisible()  # only the app's start shows it, not every window built
    assert first.welcome_if_first_start() and first.notices.welcome.isVisible()
    card = first.notices.welcome
    assert first.tabs.rect().contains(card.geometry())  # inside the pages, not clipped
    qtbot.mouseClick(card.explore_button, CLICK)
    assert not card.isVisible() and first.lessons.lesson is None
    first.controller.shutdown()
    first.close()
    second = make_window(qtbot, tmp_path / "s.ini")
    assert not second.welcome_if_first_start() and not second.notices.welcome.isVisible()  # dismissed for good
    second.menus.welcome_action.trigger()
    assert second.notices.welcome.isVisible()
    qtbot.mouseClick(second.notices.welcome.close_button, CLICK)
    assert not second.notices.welcome.isVisible()
    second.controller.shutdown()


def test_a_preset_explanation_stays_until_closed(qtbot, window):
    window.apply_preset("vanishing")
    card = window.notices.preset_card
    assert card.isVisible() and "Vanishing gradients" in card.text.text()
    qtbot.wait(300)
    assert card.isVisible()
    qtbot.mouseClick(card.close_button, CLICK)
    assert not card.isVisible()


def test_the_empty_loss_plot_says_what_will_appear_and_what_to_press(qtbot, make_snapshot):
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.set_snapshot(make_snapshot(history_steps=0))
    assert panel.empty_text.isVisible() and "Play" in panel.empty_text.toPlainText()
    panel.set_snapshot(make_snapshot(history_steps=5))
    assert not panel.empty_text.isVisible()


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("case", ["unknown name", "bad file"])
def test_a_bad_lesson_on_the_command_line_is_one_error_line(case, tmp_path, capsys):
    bad = tmp_path / "bad.lesson"
    bad.write_text("title: B\nsummary: s\nstep: x\nsay: y\ndo: preset nope\n", encoding="utf-8")
    argv, fragments = {"unknown name": (["--lesson", "nosuch"], ["no lesson 'nosuch'", "memory"]),
                       "bad file": (["--lesson", str(bad)], ["bad.lesson, line 5", "preset name"])}[case]
    code, err = run_cli(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert all(f in lines[0] for f in fragments), lines[0]
    code, err = run_cli([str(bad)], capsys)  # `rnnviz bad.lesson` checks it too
    assert code == 2 and "bad.lesson, line 5" in err
