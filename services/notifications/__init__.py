"""Escalations to the merchant's staff: open, dispatch, answer, deliver."""
