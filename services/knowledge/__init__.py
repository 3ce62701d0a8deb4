"""The merchant's knowledge base, and reviewed drafts from staff answers."""
