## Test programs: each prints TAP, one line per case.
