"""Command-line helpers the Makefile calls: scaffolding, executing notebooks, checking external links."""
