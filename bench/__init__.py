"""Benchmarks: speed and quality targets, printed as tables and saved as JSON under bench/results/."""
