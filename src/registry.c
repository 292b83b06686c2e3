/*
 * src/registry.c - the backend registry: the built-in backends of
 * src/backends.h, then any registered at run time (plugins), and the
 * dispatched default.
 */
#include "config.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "src/backends.h"

#define MAX_EXTRA_BACKENDS 64

#define INFINI_BACKEND_ADDRESS(name) &infini_backend_##name,
static const infini_backend *const builtin[] = {
    INFINI_BUILTIN_BACKENDS(INFINI_BACKEND_ADDRESS)};
#undef INFINI_BACKEND_ADDRESS
#define N_BUILTIN (sizeof builtin / sizeof builtin[0])

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const infini_backend *extra[MAX_EXTRA_BACKENDS];
static size_t n_extra;

size_t infini_backend_count(void) {
  pthread_mutex_lock(&lock);
  size_t n = N_BUILTIN + n_extra;
  pthread_mutex_unlock(&lock);
  return n;
}

const infini_backend *infini_backend_at(size_t i) {
  if (i < N_BUILTIN)
    return builtin[i];
  const infini_backend *be = NULL;
  pthread_mutex_lock(&lock);
  if (i - N_BUILTIN < n_extra)
    be = extra[i - N_BUILTIN];
  pthread_mutex_unlock(&lock);
  return be;
}

static const infini_backend *find_by_name(const char *name) {
  for (size_t i = 0;; i++) {
    const infini_backend *be = infini_backend_at(i);
    if (!be)
      return NULL;
    if (strcmp(be->name, name) == 0)
      return be;
  }
}

/* The best built-in backend that runs natively: the last native one in the
 * preference order of src/backends.h. ref is always native. */
static const infini_backend *best_native(void) {
  const infini_backend *best = builtin[0];
  for (size_t i = 0; i < N_BUILTIN; i++)
    if (builtin[i]->availability() == INFINI_NATIVE)
      best = builtin[i];
  return best;
}

infini_status infini_backend_find(const char *name, const infini_backend **out) {
  if (!out)
    return INFINI_ERR_NULL;
  if (!name || strcmp(name, "default") == 0) {
    const char *env = getenv("INFINI_BACKEND");
    if (env && *env && strcmp(env, "default") != 0)
      name = env;
    else {
      *out = best_native();
      return INFINI_OK;
    }
  }
  const infini_backend *be = find_by_name(name);
  if (!be)
    return INFINI_ERR_NOT_FOUND;
  *out = be;
  return INFINI_OK;
}

/* A name is selected on command lines and printed in one-line reports:
 * 1 to INFINI_BACKEND_NAME_MAX printable ASCII characters, no space. */
static int name_ok(const char *name) {
  size_t n = 0;
  for (; name[n] && n <= INFINI_BACKEND_NAME_MAX; n++)
    if (name[n] <= ' ' || name[n] > '~')
      return 0;
  return n >= 1 && n <= INFINI_BACKEND_NAME_MAX;
}

infini_status infini_backend_check(const infini_backend *be) {
  if (!be)
    return INFINI_ERR_NULL;
  if (be->abi_version != INFINI_ABI_VERSION ||
      (be->struct_size != sizeof(infini_backend) &&
       be->struct_size != INFINI_BACKEND_SIZE_V1 &&
       be->struct_size != INFINI_BACKEND_SIZE_V2))
    return INFINI_ERR_ABI;
  /* The dense layers' three entries work together: all or none. */
  const int dense = !!INFINI_BACKEND_ENTRY(be, linear_packed_bytes) +
                    !!INFINI_BACKEND_ENTRY(be, linear_pack) +
                    !!INFINI_BACKEND_ENTRY(be, linear);
  if (dense != 0 && dense != 3)
    return INFINI_ERR_ABI;
  if (!be->name || !name_ok(be->name) || !be->availability || !be->feature_map ||
      !be->retrieve || !be->update_linear || !be->update_delta || !be->mix ||
      !be->local_attention)
    return INFINI_ERR_ABI;
  return INFINI_OK;
}

infini_status infini_backend_register(const infini_backend *be) {
  infini_status st = infini_backend_check(be);
  if (st != INFINI_OK)
    return st;
  if (strcmp(be->name, "default") == 0)
    return INFINI_ERR_PARAM; /* infini_backend_find would never return it */
  pthread_mutex_lock(&lock);
  st = INFINI_OK;
  for (size_t i = 0; i < N_BUILTIN && st == INFINI_OK; i++)
    if (strcmp(builtin[i]->name, be->name) == 0)
      st = INFINI_ERR_PARAM;
  for (size_t i = 0; i < n_extra && st == INFINI_OK; i++)
    if (strcmp(extra[i]->name, be->name) == 0)
      st = INFINI_ERR_PARAM;
  if (st == INFINI_OK && n_extra == MAX_EXTRA_BACKENDS)
    st = INFINI_ERR_FULL;
  if (st == INFINI_OK)
    extra[n_extra++] = be;
  pthread_mutex_unlock(&lock);
  return st;
}

infini_status infini_plugin_load(const char *path, const infini_backend **out) {
  if (!path || !out)
    return INFINI_ERR_NULL;
  /* RTLD_LOCAL: two plugins may define the same helper names. The handle is
   * kept for the life of the process, as the registry points into it. */
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return INFINI_ERR_PLUGIN;
  infini_plugin_entry entry;
  void *sym = dlsym(handle, INFINI_PLUGIN_SYMBOL);
  memcpy(&entry, &sym, sizeof entry); /* object to function pointer, POSIX */
  if (!sym) {
    dlclose(handle);
    return INFINI_ERR_PLUGIN;
  }
  const infini_backend *be = entry();
  infini_status st = be ? infini_backend_register(be) : INFINI_ERR_PLUGIN;
  if (st != INFINI_OK) {
    dlclose(handle);
    return st;
  }
  *out = be;
  return INFINI_OK;
}
