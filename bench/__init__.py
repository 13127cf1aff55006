"""Benchmark scripts (see docs/PERFORMANCE.md). Never part of the timed test suite."""
