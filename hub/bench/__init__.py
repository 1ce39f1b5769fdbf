"""Benchmarks that run the hub as a whole (`hub bench stream`): results go to bench/results/."""
