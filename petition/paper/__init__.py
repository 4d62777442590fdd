"""Signatures collected on paper (at events, at the #LePartage exhibition) and imported by staff:
typed-in sheets become signatures marked as paper, sheets that were not typed in are counted by
their number alone. An import is one transaction, recorded, and can be undone as a whole."""
