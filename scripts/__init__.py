"""The repository's Python: site/ is what the build runs, bench/ the benchmarks run by hand, gpu/
the GPU recorder and its recipes, notebook_helpers/ what notebooks import, commands/ the helpers
the Makefile calls. Importing this package needs only the standard library."""

from pathlib import Path

# The repository root, named once for every module that reads or writes a file in it.
ROOT = Path(__file__).resolve().parent.parent
