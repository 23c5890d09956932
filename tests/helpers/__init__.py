"""Plain helpers the tests share: constants, functions, classes; no fixtures (those are in
tests/conftest.py) and no tests."""
