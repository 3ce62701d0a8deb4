"""Park-and-release: messages held while the customer's 24-hour window is closed."""
