"""Small helpers that build labelled, tooltipped input widgets with the limits of a setting."""
from __future__ import annotations

import math
import re

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

from rnnviz.session.config import LIMITS

LADDER = (1.0, 2.0, 5.0)  # a log spin box steps through 1, 2, 5 x 10^k
_PARTIAL_NUMBER = re.compile(r"^\s*[+]?(\d*[.,]?\d*)([eE][+-]?\d*)?\s*$")  # what typing a number passes through


def spin(name: str, value: int, tooltip: str, special_zero: str | None = None) -> QSpinBox:
    box = QSpinBox()
    low, high = LIMITS[name]
    box.setRange(int(low), int(high))
    box.setValue(int(value))
    box.setToolTip(tooltip)
    box.setKeyboardTracking(False)  # emit when the person has finished typing
    box.setObjectName(name)
    if special_zero:
        box.setSpecialValueText(special_zero)
    return box


def real_spin(name: str, value: float, tooltip: str, decimals: int = 4, step: float = 0.1,
              special_zero: str | None = None) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    low, high = LIMITS[name]
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    box.setToolTip(tooltip)
    box.setKeyboardTracking(False)
    box.setObjectName(name)
    if special_zero:
        box.setSpecialValueText(special_zero)
    return box


class LogSpinBox(QDoubleSpinBox):
    """A spin box for a positive value that spans decades (a learning rate): it keeps every digit down to
    the setting's minimum (a QDoubleSpinBox with 5 decimals rounds 1e-6 to 0), shows the value in
    4 significant digits ("0.0005", "1e-06"), accepts typed scientific notation and steps through
    1, 2, 5 x 10^k."""

    DECIMALS = 12  # the internal rounding: far below any minimum it is given (lr >= 1e-7)

    def __init__(self) -> None:
        super().__init__()
        self.setDecimals(self.DECIMALS)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        try:
            return float(text.strip().replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D401 (Qt override)
        try:
            value = float(text.strip().replace(",", "."))
        except ValueError:
            state = QValidator.State.Intermediate if _PARTIAL_NUMBER.match(text) else QValidator.State.Invalid
            return state, text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt override)
        value = self.value()
        for _ in range(abs(steps)):
            value = ladder_step(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))


def ladder_step(value: float, up: bool) -> float:
    """The next 1-2-5 value above (``up``) or below ``value``: 1e-4 -> 2e-4 -> 5e-4 -> 1e-3."""
    if not value > 0:
        return 10.0 ** -6
    power = math.floor(math.log10(value))
    candidates = [m * 10.0 ** e for e in (power - 1, power, power + 1) for m in LADDER]
    if up:
        return min(c for c in candidates if c > value * (1 + 1e-9))
    return max(c for c in candidates if c < value * (1 - 1e-9))


def log_spin(name: str, value: float, tooltip: str) -> LogSpinBox:
    """A LogSpinBox with the limits of setting ``name``."""
    box = LogSpinBox()
    low, high = LIMITS[name]
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tooltip)
    box.setKeyboardTracking(False)
    box.setObjectName(name)
    return box


def combo(name: str, items: dict[str, str], current: str, tooltip: str) -> QComboBox:
    """A combo box whose item data are the values and whose texts are ``items``' titles."""
    box = QComboBox()
    for value, title in items.items():
        box.addItem(title, value)
    box.setCurrentIndex(max(0, box.findData(current)))
    box.setToolTip(tooltip)
    box.setObjectName(name)
    # long titles must not make the dock wider than the screen allows: elide instead
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(10)
    return box


def select(box: QComboBox, value: str) -> None:
    box.blockSignals(True)
    box.setCurrentIndex(max(0, box.findData(value)))
    box.blockSignals(False)


def set_quietly(box: QSpinBox | QDoubleSpinBox, value: float) -> None:
    box.blockSignals(True)
    box.setValue(value)
    box.blockSignals(False)
