"""Merchants, their numbers, staff and operators."""
