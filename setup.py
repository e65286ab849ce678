"""Only what pyproject.toml cannot say: which packages there are.

Every ``rnnviz*`` folder, plus the top-level ``resources/`` folder installed as ``rnnviz.resources``
with its subfolders (minus the README screenshots). pyproject.toml maps the folder and lists the data
files that ship; a folder of data must be a package of its own for setuptools to install it cleanly.
"""
from setuptools import find_namespace_packages, find_packages, setup

RESOURCE_FOLDERS = find_namespace_packages(where="resources", exclude=["screenshots", "screenshots.*", "__pycache__"])

setup(packages=[
    *find_packages(include=["rnnviz", "rnnviz.*"]),
    "rnnviz.resources",
    *(f"rnnviz.resources.{folder}" for folder in RESOURCE_FOLDERS),
])
