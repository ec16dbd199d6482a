"""The tool's version (the package's ``__init__`` is the public API and re-exports it; modules
inside the package import it from here, so none of them imports the API)."""

__version__ = "0.1.0"
