"""``python -m rnnviz``: the same program as the ``rnnviz`` command."""
from rnnviz.app import main

main()
