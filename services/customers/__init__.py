"""Customers as operators look them up: by name, number, user id or username."""
