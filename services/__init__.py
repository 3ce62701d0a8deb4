"""Domain services: plain functions over a session, shared by routes, tasks and tools."""
