"""Benchmarks run by hand (never by the build): each writes a data file under docs/data/ through harness.py."""
