"""Baseline routers: random, best-single, all, knn, mlp, oracle."""
