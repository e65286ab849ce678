"""The explorer's main window."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("rnnviz")
        self.resize(1280, 800)
        label = QLabel("rnnviz: recurrent networks, made visible")
        label.setMargin(24)
        self.setCentralWidget(label)
