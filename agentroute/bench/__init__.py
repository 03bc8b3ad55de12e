"""Benchmarks: routing-log reader, training examples, replay runner, metrics and reports.

Import the pieces from their modules (``agentroute.bench.replay`` etc.); this package stays import-light
so reading a log does not pull in torch.
"""
