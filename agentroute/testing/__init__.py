"""What users' own tests import: a scripted Chat Completions server on loopback, pytest fixtures, and a
throw-away PostgreSQL server (``postgres_server``)."""
