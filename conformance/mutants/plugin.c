/*
 * conformance/mutants/plugin.c - the plugin entry point of
 * infini_mutant.so: one shared object for every configuration of the one
 * configurable implementation (impl.c, float), chosen by environment
 * variables when the plugin is loaded:
 *
 *   INFINI_MUTANT=SPEC     bugs (and optionally a variant) of the catalogue,
 *                          NAME[=VALUE][+NAME[=VALUE]...]: backend "mutant-SPEC"
 *   INFINI_VARIANT=NAME    a correct variant: backend "variant-NAME"
 *   both                   backend "mutant-SPEC+NAME"
 *   neither                backend "variant-plain"
 *
 * A bad specification makes the entry point print one line and return NULL
 * (the loader then reports INFINI_ERR_PLUGIN). Names: docs/mutants.md and
 * `conformance/mutants/mutant-report --list`.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "conformance/mutants/impl.h"

const infini_backend *infini_plugin_backend(void);

static cat_config cfg; /* process-wide: one plugin, one configuration */
static char name[160];
static char description[512];

static infini_availability availability(void) { return INFINI_NATIVE; }

/* The backend table's kernels: impl.c's float functions with cfg. */
static infini_status feature_map(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                 ptrdiff_t ldx, float *y, ptrdiff_t ldy) {
  return dev_feature_map_f32(&cfg, rows, cols, x, ldx, y, ldy);
}
static infini_status retrieve(const infini_head_shape *shape, const float *q, ptrdiff_t ldq,
                              const float *m, ptrdiff_t ldm, const float *z, float eps,
                              float *a, ptrdiff_t lda) {
  return dev_retrieve_f32(&cfg, shape, q, ldq, m, ldm, z, eps, a, lda);
}
static infini_status update_linear(const infini_head_shape *shape, const float *k,
                                   ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
                                   ptrdiff_t ldm, float *z) {
  return dev_update_linear_f32(&cfg, shape, k, ldk, v, ldv, m, ldm, z);
}
static infini_status update_delta(const infini_head_shape *shape, const float *k,
                                  ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float *m,
                                  ptrdiff_t ldm, float *z, float eps, void *work) {
  return dev_update_delta_f32(&cfg, shape, k, ldk, v, ldv, m, ldm, z, eps, work);
}
static infini_status mix(ptrdiff_t rows, ptrdiff_t cols, float beta, const float *a_mem,
                         ptrdiff_t ldm, const float *a_dot, ptrdiff_t ldd, float *out,
                         ptrdiff_t ldo) {
  return dev_mix_f32(&cfg, rows, cols, beta, a_mem, ldm, a_dot, ldd, out, ldo);
}
static infini_status local_attention(const infini_head_shape *shape, const float *q,
                                     ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
                                     const float *v, ptrdiff_t ldv, float scale, float *out,
                                     ptrdiff_t ldo, void *work) {
  return dev_local_attention_f32(&cfg, shape, q, ldq, k, ldk, v, ldv, scale, out, ldo, work);
}
static infini_status segment_step(const infini_head_shape *shape,
                                  const infini_step_params *params, const float *q,
                                  ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
                                  const float *v, ptrdiff_t ldv, float *m, ptrdiff_t ldm,
                                  float *z, float *out, ptrdiff_t ldo, void *work) {
  return dev_segment_step_f32(&cfg, shape, params, q, ldq, k, ldk, v, ldv, m, ldm, z, out,
                              ldo, work);
}
static infini_status layer_step(const infini_layer_config *config, ptrdiff_t n,
                                const float *q, ptrdiff_t ldq, const float *k, ptrdiff_t ldk,
                                const float *v, ptrdiff_t ldv, const float *beta, float *m,
                                float *z, float *out, ptrdiff_t ldo, void *work) {
  return dev_layer_step_f32(&cfg, config, n, q, ldq, k, ldk, v, ldv, beta, m, z, out, ldo,
                            work);
}

static const infini_backend table = {
    .abi_version = INFINI_ABI_VERSION,
    .struct_size = sizeof(infini_backend),
    .name = name,
    .description = description,
    .availability = availability,
    .workspace_bytes = dev_workspace_bytes_f32,
    .feature_map = feature_map,
    .retrieve = retrieve,
    .update_linear = update_linear,
    .update_delta = update_delta,
    .mix = mix,
    .local_attention = local_attention,
    .segment_step = segment_step,
    .layer_step = layer_step,
};

static const char *env(const char *var) {
  const char *s = getenv(var);
  return s && *s ? s : NULL;
}

/* The configuration from the environment: INFINI_MUTANT's specification,
 * then INFINI_VARIANT's variant appended. */
static bool configure(void) {
  const char *ms = env("INFINI_MUTANT"), *vs = env("INFINI_VARIANT");
  char spec[256], err[256];
  cat_id v;
  cat_config_init(&cfg);
  if (vs && !(cat_find(vs, &v) && cat_get(v)->kind == CAT_VARIANT)) {
    fprintf(stderr, "infini_mutant: INFINI_VARIANT=%.64s is not a variant of the catalogue\n", vs);
    return false;
  }
  snprintf(spec, sizeof spec, "%s%s%s", ms ? ms : "", ms && vs ? "+" : "", vs ? vs : "");
  if (*spec && !cat_config_parse(spec, &cfg, err, sizeof err)) {
    fprintf(stderr, "infini_mutant: %s\n", err);
    return false;
  }
  return true;
}

const infini_backend *infini_plugin_backend(void) {
  if (!configure())
    return NULL;
  bool any_bug = false;
  for (int i = 0; i < CAT_COUNT; i++)
    any_bug |= cfg.on[i];
  char spec[128], what[256];
  cat_config_name(&cfg, spec, sizeof spec);
  if (any_bug) {
    snprintf(name, sizeof name, "mutant-%s", spec);
    snprintf(description, sizeof description, "MUTANT (wrong on purpose): %s", spec);
  } else {
    cat_message(cfg.variant, 0, what, sizeof what);
    snprintf(name, sizeof name, "variant-%s", spec);
    snprintf(description, sizeof description, "correct variant: %s", what);
  }
  return &table;
}
