"""Benchmarks: commands that print numbers, with a baseline measured in the same run."""
