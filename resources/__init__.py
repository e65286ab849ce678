"""rnnviz's bundled files (corpora, examples, stylesheets, icons), installed as this package.

The folder is the repository's top-level resources/; pyproject.toml maps it to ``rnnviz.resources``.
Read its files with ``rnnviz.bundled``, never through paths relative to the source tree.
"""
