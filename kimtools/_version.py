"""The version of kimtools, in a module of its own so that every stage can name it without importing the package
root (which imports the stages). The same number stands in ``pyproject.toml``; a test checks that they agree."""

__version__ = "0.1.0"
