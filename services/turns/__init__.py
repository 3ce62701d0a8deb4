"""A turn: one graph run over one burst, and what the customer sees meanwhile."""
