"""What users' own tests import: a scripted Chat Completions server on loopback and pytest fixtures."""
