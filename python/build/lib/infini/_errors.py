class InfiniError(Exception):
    """Bad usage or unreadable vectors: the one-line message infini-conform
    would print (a failed case is a Verdict, not an exception)."""
