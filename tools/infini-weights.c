/*
 * tools/infini-weights.c - write deterministic random model weights as a
 * safetensors file, or describe an existing one (docs/model.md, "Weights
 * file").
 *
 *   infini-weights [--preset tiny|small] [--vocab V] [--d-model D]
 *                  [--layers L] [--heads H] [--kv-heads Hkv] [--d-head dh]
 *                  [--d-ff F] [--segment N] [--rule linear|delta]
 *                  [--position rope|none] [--seed S] [--force] -o FILE
 *   infini-weights --info FILE
 *
 * Exit status: 0 success, 1 a file could not be read or written, 2 a usage
 * error (unknown option, bad number, missing -o).
 */
#include "config.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "infini_model.h"
#include "src/fileio.h"
/* For the digest of --info: the tool is built with the library, so it
 * reads the model's internal structure rather than widening the API. */
#include "src/model.h"
#include "tools/cli.h"

#define PROG "infini-weights"

/* The sizes, in infini_model_config_init's argument order. */
enum { S_VOCAB, S_D_MODEL, S_LAYERS, S_HEADS, S_KV_HEADS, S_D_HEAD, S_D_FF,
       S_SEGMENT, N_SIZES };

static const char *const size_options[N_SIZES] = {
    "vocab", "d-model", "layers", "heads", "kv-heads", "d-head", "d-ff",
    "segment"};

static const struct preset {
  const char *name;
  ptrdiff_t sizes[N_SIZES];
} presets[] = {
    {"tiny", {256, 64, 2, 2, 2, 32, 128, 16}},
    {"small", {256, 256, 4, 4, 4, 64, 512, 32}},
};
#define N_PRESETS (sizeof presets / sizeof presets[0])

typedef struct options {
  ptrdiff_t sizes[N_SIZES];
  bool size_given[N_SIZES];
  const struct preset *preset;
  infini_update_rule rule;
  infini_position position;
  uint64_t seed;
  const char *output, *info;
  bool force;
} options;

static void usage(FILE *f) {
  fprintf(f,
          "Usage: " PROG " [OPTION]... -o FILE\n"
          "       " PROG " --info FILE\n"
          "Write deterministic random weights of an Infini-Transformer as a\n"
          "safetensors file (docs/model.md, \"Weights file\"), or print the\n"
          "config and digest of an existing weights file.\n\n"
          "  --preset NAME     tiny (V=256 D=64 L=2 H=2 Hkv=2 dh=32 F=128 N=16,\n"
          "                    the default) or small (V=256 D=256 L=4 H=4 Hkv=4\n"
          "                    dh=64 F=512 N=32); the options below override it\n"
          "  --vocab V         vocabulary size\n"
          "  --d-model D       residual width\n"
          "  --layers L        blocks\n"
          "  --heads H         query heads per layer\n"
          "  --kv-heads Hkv    key/value heads (divides H)\n"
          "  --d-head dh       per-head width\n"
          "  --d-ff F          feed-forward hidden width\n"
          "  --segment N       tokens per segment\n"
          "  --rule R          memory update: linear (default) or delta\n"
          "  --position P      rope (default) or none\n"
          "  --seed S          splitmix64 seed, 0 to 2^64-1 (default 0)\n"
          "  -o, --output FILE the file to write (atomically)\n"
          "  -f, --force       replace FILE if it exists\n"
          "  --info FILE       print FILE's config and model digest\n"
          "  -h, --help        this help\n"
          "  --version         the version\n");
}

static int set_size(options *o, int which, const char *arg) {
  uint64_t v;
  if (!cli_parse_u64(arg, 1, PTRDIFF_MAX, &v))
    return cli_usage_error("--%s needs a whole number >= 1, not '%s'",
                           size_options[which], arg);
  o->sizes[which] = (ptrdiff_t)v;
  o->size_given[which] = true;
  return 0;
}

static int set_preset(options *o, const char *arg) {
  for (size_t i = 0; i < N_PRESETS; i++)
    if (strcmp(arg, presets[i].name) == 0) {
      o->preset = &presets[i];
      return 0;
    }
  return cli_usage_error("unknown --preset '%s' (tiny or small)", arg);
}

static int set_choice(const char *option, const char *arg, const char *zero,
                      const char *one, int *out) {
  if (strcmp(arg, zero) != 0 && strcmp(arg, one) != 0)
    return cli_usage_error("--%s is %s or %s, not '%s'", option, zero, one, arg);
  *out = strcmp(arg, one) == 0;
  return 0;
}

enum { OPT_PRESET = 256, OPT_RULE, OPT_POSITION, OPT_SEED, OPT_INFO,
       OPT_VERSION, OPT_SIZE0 };

static const struct option long_options[] = {
    {"vocab", required_argument, NULL, OPT_SIZE0 + S_VOCAB},
    {"d-model", required_argument, NULL, OPT_SIZE0 + S_D_MODEL},
    {"layers", required_argument, NULL, OPT_SIZE0 + S_LAYERS},
    {"heads", required_argument, NULL, OPT_SIZE0 + S_HEADS},
    {"kv-heads", required_argument, NULL, OPT_SIZE0 + S_KV_HEADS},
    {"d-head", required_argument, NULL, OPT_SIZE0 + S_D_HEAD},
    {"d-ff", required_argument, NULL, OPT_SIZE0 + S_D_FF},
    {"segment", required_argument, NULL, OPT_SIZE0 + S_SEGMENT},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"rule", required_argument, NULL, OPT_RULE},
    {"position", required_argument, NULL, OPT_POSITION},
    {"seed", required_argument, NULL, OPT_SEED},
    {"output", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, 'f'},
    {"info", required_argument, NULL, OPT_INFO},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}};

/* One option; returns 0 to go on, -1 to exit 0 (help, version), else the
 * exit status of a usage error. */
static int take_option(void *ctx, int ch, const char *arg) {
  options *o = ctx;
  int choice;
  switch (ch) {
  case OPT_PRESET: return set_preset(o, arg);
  case OPT_RULE:
    if (set_choice("rule", arg, "linear", "delta", &choice))
      return CLI_EXIT_USAGE;
    o->rule = choice ? INFINI_UPDATE_DELTA : INFINI_UPDATE_LINEAR;
    return 0;
  case OPT_POSITION:
    if (set_choice("position", arg, "none", "rope", &choice))
      return CLI_EXIT_USAGE;
    o->position = choice ? INFINI_POSITION_ROPE : INFINI_POSITION_NONE;
    return 0;
  case OPT_SEED:
    return cli_parse_u64(arg, 0, UINT64_MAX, &o->seed)
               ? 0
               : cli_usage_error("--seed needs a whole number from 0 to "
                                 "18446744073709551615, not '%s'", arg);
  case 'o': o->output = arg; return 0;
  case 'f': o->force = true; return 0;
  case OPT_INFO: o->info = arg; return 0;
  case 'h': usage(stdout); return -1;
  case OPT_VERSION:
    printf(PROG " (infini) %s, weights format %d\n", infini_version(),
           INFINI_MODEL_FORMAT_VERSION);
    return -1;
  }
  if (ch >= OPT_SIZE0 && ch < OPT_SIZE0 + N_SIZES)
    return set_size(o, ch - OPT_SIZE0, arg);
  return cli_usage_error("unknown option");
}

static int parse_options(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  o->preset = &presets[0];
  o->position = INFINI_POSITION_ROPE;
  const int r = cli_parse_options(argc, argv, ":o:fh", long_options, take_option, o);
  if (r)
    return r;
  if (o->info && o->output)
    return cli_usage_error("--info and -o do not go together");
  if (!o->info && !o->output)
    return cli_usage_error("no output file (-o FILE) and no --info FILE");
  return 0;
}

static void print_config(const infini_model_config *c) {
  printf("vocab_size   %td\nd_model      %td\nn_layers     %td\n"
         "n_heads      %td\nn_kv_heads   %td\nd_head       %td\n"
         "d_ff         %td\nsegment_len  %td\n",
         c->vocab_size, c->d_model, c->n_layers, c->n_heads, c->n_kv_heads,
         c->d_head, c->d_ff, c->segment_len);
  printf("rule         %s\nposition     %s\n",
         c->rule == INFINI_UPDATE_DELTA ? "delta" : "linear",
         c->position == INFINI_POSITION_ROPE ? "rope" : "none");
  const struct {
    const char *name;
    float value;
  } floats[] = {{"rope_theta", c->rope_theta}, {"norm_eps", c->norm_eps},
                {"attn_eps", c->attn_eps}, {"attn_scale", c->attn_scale}};
  /* decimal to read, hex (as in the file's metadata) to compare exactly */
  for (int i = 0; i < 4; i++)
    printf("%-12s %.9g (%a)\n", floats[i].name, (double)floats[i].value,
           (double)floats[i].value);
}

static int info(const char *path) {
  infini_model *m = NULL;
  char err[512];
  if (infini_model_load(path, NULL, &m, err, sizeof err) != INFINI_OK) {
    cli_error("%s", err);
    return EXIT_FAILURE;
  }
  print_config(infini_model_get_config(m));
  printf("digest       ");
  for (int i = 0; i < 32; i++)
    printf("%02x", m->digest[i]);
  printf("\n");
  infini_model_free(m);
  return EXIT_SUCCESS;
}

static int write_weights(const options *o) {
  ptrdiff_t s[N_SIZES];
  for (int i = 0; i < N_SIZES; i++)
    s[i] = o->size_given[i] ? o->sizes[i] : o->preset->sizes[i];
  infini_model_config c;
  infini_status st = infini_model_config_init(
      &c, s[S_VOCAB], s[S_D_MODEL], s[S_LAYERS], s[S_HEADS], s[S_KV_HEADS],
      s[S_D_HEAD], s[S_D_FF], s[S_SEGMENT]);
  c.rule = o->rule;
  c.position = o->position;
  if (!st)
    st = infini_model_config_check(&c);
  if (st)
    return cli_usage_error("invalid model: %s", infini_strerror(st));
  /* The writer's own checks, before the (possibly long) generation: a
   * link or a link folder is refused, an existing file kept without
   * --force. */
  char err[512];
  if (fileio_check_destination(o->output, o->force ? FILEIO_REPLACE : 0, err,
                               sizeof err) != INFINI_OK) {
    cli_error("%s", err);
    return EXIT_FAILURE;
  }
  if (infini_model_write_random(&c, o->seed, o->output, err, sizeof err)) {
    cli_error("%s", err);
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
  cli_set_program(PROG, "try '" PROG " --help'");
  options o;
  const int r = parse_options(argc, argv, &o);
  if (r)
    return r < 0 ? EXIT_SUCCESS : r;
  return o.info ? info(o.info) : write_weights(&o);
}
