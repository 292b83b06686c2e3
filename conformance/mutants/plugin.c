/*
 * conformance/mutants/plugin.c - the plugin entry point of
 * infini_mutant.so: one shared object for every mutant and variant of
 * impl.c, chosen by environment variables when the plugin is loaded:
 *
 *   INFINI_MUTANT=<mutation>  backend "mutant-<mutation>"
 *   INFINI_VARIANT=<variant>  backend "variant-<variant>"
 *   both                      backend "mutant-<mutation>+<variant>"
 *   neither                   backend "variant-plain"
 *
 * An unknown name makes the entry point return NULL (the loader then
 * reports INFINI_ERR_PLUGIN). Names are listed in docs/mutants.md and by
 * `conformance/mutants/mutant-report --list`.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "conformance/mutants/impl.h"

const infini_backend *infini_plugin_backend(void);

static char name[96];
static char description[256];

static infini_availability mutant_availability(void) { return INFINI_NATIVE; }

static const infini_backend table = {
    .abi_version = INFINI_ABI_VERSION,
    .struct_size = sizeof(infini_backend),
    .name = name,
    .description = description,
    .availability = mutant_availability,
    .workspace_bytes = mut_workspace_bytes,
    .feature_map = mut_feature_map,
    .retrieve = mut_retrieve,
    .update_linear = mut_update_linear,
    .update_delta = mut_update_delta,
    .mix = mut_mix,
    .local_attention = mut_local_attention,
    .segment_step = mut_segment_step,
    .layer_step = mut_layer_step,
};

static const char *env(const char *var) {
  const char *s = getenv(var);
  return s && *s ? s : NULL;
}

const infini_backend *infini_plugin_backend(void) {
  const char *ms = env("INFINI_MUTANT"), *vs = env("INFINI_VARIANT");
  mut_config c = {MV_PLAIN, MM_NONE};
  if (ms && !mut_mutation_from_name(ms, &c.mutation))
    return NULL;
  if (vs && !mut_variant_from_name(vs, &c.variant))
    return NULL;
  mut_configure(c);

  const char *mn = mut_mutation_name(c.mutation), *vn = mut_variant_name(c.variant);
  if (c.mutation != MM_NONE && c.variant != MV_PLAIN) {
    snprintf(name, sizeof name, "mutant-%s+%s", mn, vn);
    snprintf(description, sizeof description, "MUTANT (wrong on purpose): %s; variant: %s",
             mut_mutation_what(c.mutation), mut_variant_what(c.variant));
  } else if (c.mutation != MM_NONE) {
    snprintf(name, sizeof name, "mutant-%s", mn);
    snprintf(description, sizeof description, "MUTANT (wrong on purpose): %s",
             mut_mutation_what(c.mutation));
  } else {
    snprintf(name, sizeof name, "variant-%s", vn);
    snprintf(description, sizeof description, "correct variant: %s",
             mut_variant_what(c.variant));
  }
  return &table;
}
