"""Modules the notebooks import (each notebook declares the ones it uses)."""
