"""Benchmarks: they print figures; none of them passes or fails."""
