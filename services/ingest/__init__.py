"""Inbound webhook content stored once, then scheduled."""
