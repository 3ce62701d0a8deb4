"""Logs and metrics: how operations people see the service."""
