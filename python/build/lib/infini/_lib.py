"""Finding and binding libinfini-conform (include/infini_conform.h) through
ctypes: no compiler is needed, and the judge is the C one every language
shares."""
import ctypes
import ctypes.util
import os
import shutil
import subprocess

from ._errors import InfiniError

ERRLEN = 1024
DIAGNOSE = 1


class Verdict_t(ctypes.Structure):
    """struct infini_conform_verdict."""
    _fields_ = [
        ("passed", ctypes.c_int),
        ("ratio", ctypes.c_double),
        ("tensor", ctypes.c_char * 24),
        ("index", ctypes.c_char * 64),
        ("got", ctypes.c_double),
        ("expected", ctypes.c_double),
        ("allowed", ctypes.c_double),
        ("message", ctypes.c_char * 2048),
        ("diagnosis", ctypes.c_char * 512),
        ("bugs", ctypes.c_char * 128),
    ]


def _pkg_config(variable):
    """A variable of infini-conform.pc (PKG_CONFIG_PATH=BUILD selects the
    build tree's infini-conform-uninstalled.pc), or None."""
    if not shutil.which("pkg-config"):
        return None
    try:
        out = subprocess.run(["pkg-config", "--variable=" + variable, "infini-conform"],
                             capture_output=True, text=True, check=False)
    except OSError:
        return None
    value = out.stdout.strip()
    return value if out.returncode == 0 and value else None


def library_path():
    """Where libinfini-conform is: $INFINI_CONFORM_LIBRARY, else pkg-config's
    libdir, else the system's library search."""
    path = os.environ.get("INFINI_CONFORM_LIBRARY")
    if path:
        return path
    libdir = _pkg_config("libdir")
    if libdir:
        candidate = os.path.join(libdir, "libinfini-conform.so.1")
        if os.path.exists(candidate):
            return candidate
    return ctypes.util.find_library("infini-conform")


def vectors_tool():
    """The infini-vectors generator: $INFINI_VECTORS_TOOL, pkg-config's
    vectors_tool, else PATH."""
    tool = os.environ.get("INFINI_VECTORS_TOOL") or _pkg_config("vectors_tool")
    if tool and os.path.exists(tool):
        return tool
    tool = shutil.which("infini-vectors")
    if not tool:
        raise InfiniError("cannot find infini-vectors: set INFINI_VECTORS_TOOL, or "
                          "PKG_CONFIG_PATH to the build tree, or install infini")
    return tool


_LIB = None


def lib():
    """The bound library, loaded on first use."""
    global _LIB
    if _LIB is not None:
        return _LIB
    path = library_path()
    if not path:
        raise InfiniError("cannot find libinfini-conform: set INFINI_CONFORM_LIBRARY to "
                          "its path, or PKG_CONFIG_PATH to the build tree "
                          "(PKG_CONFIG_PATH=build), or make install")
    try:
        L = ctypes.CDLL(path)
    except OSError as err:
        raise InfiniError("cannot load %s: %s" % (path, err)) from None
    c_set = ctypes.c_void_p
    err_args = [ctypes.c_char_p, ctypes.c_size_t]
    L.infini_conform_open.argtypes = [ctypes.c_char_p] + err_args
    L.infini_conform_open.restype = c_set
    L.infini_conform_close.argtypes = [c_set]
    L.infini_conform_close.restype = None
    L.infini_conform_vectors.argtypes = [c_set]
    L.infini_conform_vectors.restype = ctypes.c_char_p
    L.infini_conform_select.argtypes = [c_set, ctypes.c_char_p, ctypes.c_char_p] + err_args
    L.infini_conform_select.restype = ctypes.c_int
    L.infini_conform_declare.argtypes = [c_set, ctypes.c_char_p] + err_args
    L.infini_conform_declare.restype = ctypes.c_int
    L.infini_conform_load.argtypes = [c_set, ctypes.c_char_p] + err_args
    L.infini_conform_load.restype = ctypes.c_ssize_t
    L.infini_conform_case_json.argtypes = [c_set, ctypes.c_ssize_t]
    L.infini_conform_case_json.restype = ctypes.c_char_p
    L.infini_conform_case_input.argtypes = [c_set, ctypes.c_ssize_t, ctypes.c_char_p]
    L.infini_conform_case_input.restype = ctypes.c_void_p
    L.infini_conform_judge.argtypes = [
        c_set, ctypes.c_ssize_t, ctypes.c_char_p, ctypes.c_int,
        ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.POINTER(ctypes.c_size_t)),
        ctypes.c_int, ctypes.POINTER(Verdict_t)]
    L.infini_conform_judge.restype = ctypes.c_int
    _LIB = L
    return L


def errbuf():
    return ctypes.create_string_buffer(ERRLEN)
