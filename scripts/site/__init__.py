"""What MkDocs runs to build the site; hooks.py adapts MkDocs' events to these modules."""
