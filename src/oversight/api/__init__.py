"""The REST API (``/api/v1``) and the web console, one FastAPI app over ``services/``."""
