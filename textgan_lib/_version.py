"""The package's version (a tagged release of the repository installs in Colab)."""

__version__ = "0.1.0"
