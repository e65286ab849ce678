"""Small helpers that build labelled, tooltipped input widgets with the limits of a setting."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

from rnnviz.session.config import LIMITS


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
