"""Graph nodes: load the turn's input, route, run the agent, finish."""
