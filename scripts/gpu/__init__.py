"""The GPU recorder (record.py) and its recipes (recipes/<notebook>.py)."""
