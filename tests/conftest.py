import os

# Headless Qt: must be set before any QApplication exists.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
