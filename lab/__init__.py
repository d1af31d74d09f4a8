"""lab: a local multi-service lab published on loopback only."""

__version__ = "0.1.0"
