"""Evaluation: gold datasets, quality metrics and performance benchmarks."""
