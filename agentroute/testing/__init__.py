"""What users' own tests import: a scripted Chat Completions server on loopback, pytest fixtures, a
throw-away PostgreSQL server (``postgres_server``), a synthetic routing log (``routing_log``) and the
``GraphStore`` conformance suite a new store backend runs against itself (``store_conformance``)."""
