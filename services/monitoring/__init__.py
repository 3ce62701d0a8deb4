"""Health, figures and scrape-time state for /health, /stats and /metrics."""
