"""lab: a local multi-service lab published on loopback only."""

__version__ = "0.1.0"  # pyproject.toml reads it from here
DISTRIBUTION = "loopback-lab"  # the name on PyPI ("lab" there is someone else's); import package and command: lab
