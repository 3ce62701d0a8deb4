"""FastAPI app and routers: parse, authorize, call a service, shape the response."""
