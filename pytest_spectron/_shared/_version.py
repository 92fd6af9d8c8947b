"""The package's version, in one place: the build reads it, and so does Python."""

__version__ = "0.1.0"
