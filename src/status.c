/* src/status.c - status codes as sentences, and the library version. */
#include "config.h"
#include "infini.h"

static const char *const messages[INFINI_STATUS_COUNT] = {
    [INFINI_OK] = "success",
    [INFINI_ERR_NULL] = "a required pointer argument is NULL",
    [INFINI_ERR_SIZE] = "a size is zero or negative",
    [INFINI_ERR_OVERFLOW] = "a tensor's byte count does not fit in size_t",
    [INFINI_ERR_STRIDE] = "a row stride is smaller than the row width",
    [INFINI_ERR_PARAM] = "a parameter is NaN, infinite or out of range "
                         "(eps must be finite and >= 0, scale finite, beta not NaN)",
    [INFINI_ERR_ALIAS] = "an output buffer overlaps an input it may not alias",
    [INFINI_ERR_SHAPE] = "shapes disagree (e.g. n_kv_heads does not divide n_heads, "
                         "or the memory state has another shape)",
    [INFINI_ERR_NOMEM] = "out of memory",
    [INFINI_ERR_NOT_FOUND] = "no backend with that name is registered",
    [INFINI_ERR_ABI] = "the backend table has another ABI version or lacks a "
                       "required entry",
    [INFINI_ERR_UNAVAILABLE] = "the backend cannot run on this CPU",
    [INFINI_ERR_PLUGIN] = "the plugin could not be loaded or has no "
                          "infini_plugin_backend entry point",
    [INFINI_ERR_BACKEND] = "a backend kernel reported a failure",
    [INFINI_ERR_FULL] = "the backend registry is full",
    [INFINI_ERR_IO] = "a file could not be opened, read or written",
    [INFINI_ERR_FORMAT] = "a file is malformed, truncated or fails its checksum",
    [INFINI_ERR_VERSION] = "a file has a format version this library cannot read",
    [INFINI_ERR_MISMATCH] = "a file belongs to another model: its config or "
                            "weights differ from the model's",
};

const char *infini_strerror(infini_status status) {
  if ((unsigned)status < INFINI_STATUS_COUNT && messages[status])
    return messages[status];
  return "unknown infini status code";
}

const char *infini_version(void) { return PACKAGE_VERSION; }
