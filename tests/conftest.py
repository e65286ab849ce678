import os

# Headless Qt: must be set before any QApplication exists.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from rnnviz.engine.threads import pin_blas_threads  # noqa: E402

# As in the app: at these sizes a second BLAS thread only adds synchronisation.
pin_blas_threads()
