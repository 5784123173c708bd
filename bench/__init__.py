"""Benchmarks and reliability drills run against the emulated desk (`make bench`)."""
