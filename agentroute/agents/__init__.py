"""agentroute."""
