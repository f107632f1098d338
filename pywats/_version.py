"""The package version (its own module so that internals can import it early)."""

__version__ = "0.1.0"
