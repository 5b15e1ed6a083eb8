"""engine: deep-learning experiments declared as data files (YAML, JSON, EDN)."""

__version__ = "0.1.0"
