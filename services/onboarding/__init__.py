"""Self-serve onboarding of WhatsApp numbers (Meta Embedded Signup)."""
