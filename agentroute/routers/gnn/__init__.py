"""GNN router (AgentRouter-style)."""
