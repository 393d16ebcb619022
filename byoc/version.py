"""byoc's version (also in pyproject.toml; the package metadata records it)."""

__version__ = "0.1.0"
