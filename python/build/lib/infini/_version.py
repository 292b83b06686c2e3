# The version of the infini source tree this package belongs to
# (configure.ac's AC_INIT; tests/python checks they agree).
__version__ = "0.1.0"
