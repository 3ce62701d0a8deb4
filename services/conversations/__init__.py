"""Customers, their conversations, and what operators read of them."""
