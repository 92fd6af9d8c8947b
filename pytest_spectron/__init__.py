"""pytest-spectron: test how your app behaves when Spectron fails, with no server and no waiting."""

__version__ = "0.1.0"
