"""Console pages (server-rendered HTML), one module per area."""
