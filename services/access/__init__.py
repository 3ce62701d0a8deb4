"""Credentials and request budgets for the operator and admin APIs."""
