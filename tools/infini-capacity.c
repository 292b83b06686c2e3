/*
 * tools/infini-capacity.c - capacity and forgetting of the compressive
 * memory, measured through the public API (docs/capacity.md).
 *
 *   infini-capacity capacity   [OPTION]...  n associations, one memory
 *   infini-capacity forgetting [OPTION]...  segment 0 after S more segments
 *   infini-capacity needles    [OPTION]...  K needles in a stream of T
 *
 * CSV to stdout or to -o FILE (the project's atomic writer; an existing
 * FILE is kept without --force). Exit status: 0 success, 1 a file could
 * not be written or a library call failed, 2 a usage error.
 */
#include "config.h"
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infini.h"
#include "src/fileio.h"
#include "tools/capacity.h"
#include "tools/cli.h"

#define PROG "infini-capacity"

/* Sizes are capped so every buffer (n * width floats, n^2 score pairs)
 * stays far from overflow and from hours of work. */
#define MAX_WIDTH 4096
#define MAX_ITEMS 65536
#define MAX_LIST 256

typedef enum { CMD_CAPACITY, CMD_FORGETTING, CMD_NEEDLES } command;
static const char *const command_names[] = {"capacity", "forgetting",
                                            "needles"};
static const char *const key_names[] = {"gauss", "corr", "sparse", "onehot"};

/* A list option: up to MAX_LIST numbers (a whole number list stores them
 * as doubles too; "tokens" in --segments is stored as 0). */
typedef struct list {
  double v[MAX_LIST];
  int count;
} list;

typedef struct options {
  command cmd;
  const char *backend, *output;
  bool force, progress;
  bool rules[2]; /* linear, delta */
  cap_keyspec keys;
  list d_key, n, segments, rho, shift, items, needles, depths, length;
  ptrdiff_t d_value, seg_len, later, trials;
  float eps;
  uint64_t seed;
} options;

static void usage(FILE *f) {
  fprintf(f,
      "Usage: " PROG " capacity|forgetting|needles [OPTION]...\n"
      "Measure how many key-value associations the compressive memory of\n"
      "Infini-attention holds and how fast it forgets (docs/capacity.md).\n\n"
      "  capacity    n associations written into one memory (in S segments),\n"
      "              each retrieved with its key; top-1 among the n values\n"
      "  forgetting  segment 0's associations retrieved after s = 0..S later\n"
      "              segments of distractors; the half-life of the cosine\n"
      "  needles     K needles at a depth of a stream of T segments;\n"
      "              recall@1 among every value of the stream\n\n"
      "Common options (LIST: comma-separated values):\n"
      "  -b, --backend NAME  backend (default: the dispatched default)\n"
      "  --rule LIST         linear, delta (default linear,delta)\n"
      "  --d-key LIST        key widths (default 64)\n"
      "  --d-value N         value width (default d_key)\n"
      "  --keys KIND         gauss (default), corr, sparse, onehot\n"
      "  --rho LIST          corr: correlation of two keys (default 0.5)\n"
      "  --shift LIST        subtracted from keys (default 0; sparse\n"
      "                      0,1,2,4,8; onehot: off level, default 200)\n"
      "  --key-scale X       standard deviation of the keys (default 1)\n"
      "  --eps X             retrieval eps, >= 0 (default 0)\n"
      "  --trials T          seeds per point, >= 2 (default 5)\n"
      "  --seed S            base seed, 0 to 2^64-1 (default 0)\n"
      "  -o, --output FILE   write the CSV to FILE (default stdout)\n"
      "  -f, --force         replace FILE if it exists\n"
      "  --progress          progress line on stderr (default: if a tty)\n"
      "capacity:\n"
      "  --n LIST            associations (default 1..16, then steps of\n"
      "                      2^(1/4) up to 8 d_key)\n"
      "  --segments LIST     segments to write them in, or 'tokens'\n"
      "                      (default 1)\n"
      "forgetting:\n"
      "  --items LIST        associations in segment 0 (default 1,4,16)\n"
      "  --later S           later segments (default 32)\n"
      "  --segment-len L     distractors per segment (default 16)\n"
      "needles:\n"
      "  --needles LIST      K (default 1,4), at most --segment-len\n"
      "  --depths LIST       positions in [0, 1] (default 0,0.25,0.5,0.75,1)\n"
      "  --length LIST       T, segments in the stream (default 4,16,64)\n"
      "  --segment-len L     tokens per segment (default 16)\n"
      "  -h, --help          this help\n"
      "  --version           the version\n");
}

/* A comma-separated list of whole numbers (whole) or numbers in [lo, hi];
 * `tokens` (when allowed) is stored as 0. */
static int parse_list(const char *option, const char *arg, double lo,
                      double hi, bool whole, bool tokens, list *out) {
  char buf[4096];
  if (strlen(arg) >= sizeof buf)
    return cli_usage_error("--%s: list too long", option);
  strcpy(buf, arg);
  out->count = 0;
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (out->count == MAX_LIST)
      return cli_usage_error("--%s: more than %d values", option, MAX_LIST);
    double v;
    uint64_t u;
    if (tokens && strcmp(t, "tokens") == 0)
      v = 0;
    else if (whole ? cli_parse_u64(t, (uint64_t)lo, (uint64_t)hi, &u)
                   : cli_parse_double(t, lo, hi, &v))
      v = whole ? (double)u : v;
    else
      return cli_usage_error("--%s needs %s from %g to %g%s, not '%s'", option,
                             whole ? "whole numbers" : "numbers", lo, hi,
                             tokens ? " or 'tokens'" : "", t);
    out->v[out->count++] = v;
  }
  if (out->count == 0 || arg[strlen(arg) - 1] == ',' || arg[0] == ',' ||
      strstr(arg, ",,"))
    return cli_usage_error("--%s needs a comma-separated list, not '%s'", option,
                           arg);
  return 0;
}

static int parse_size(const char *option, const char *arg, uint64_t lo,
                      uint64_t hi, ptrdiff_t *out) {
  uint64_t v;
  if (!cli_parse_u64(arg, lo, hi, &v))
    return cli_usage_error("--%s needs a whole number from %llu to %llu, not '%s'",
                           option, (unsigned long long)lo, (unsigned long long)hi,
                           arg);
  *out = (ptrdiff_t)v;
  return 0;
}

static int parse_rules(const char *arg, options *o) {
  char buf[64];
  if (strlen(arg) >= sizeof buf)
    return cli_usage_error("--rule is a list of linear and delta, not '%s'", arg);
  strcpy(buf, arg);
  o->rules[0] = o->rules[1] = false;
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (strcmp(t, "linear") == 0)
      o->rules[0] = true;
    else if (strcmp(t, "delta") == 0)
      o->rules[1] = true;
    else
      return cli_usage_error("--rule is a list of linear and delta, not '%s'",
                             arg);
  if (!o->rules[0] && !o->rules[1])
    return cli_usage_error("--rule is a list of linear and delta, not '%s'", arg);
  return 0;
}

static int parse_keys(const char *arg, options *o) {
  for (int i = 0; i < 4; i++)
    if (strcmp(arg, key_names[i]) == 0) {
      o->keys.kind = (cap_keys)i;
      return 0;
    }
  return cli_usage_error("--keys is gauss, corr, sparse or onehot, not '%s'", arg);
}

enum { OPT_RULE = 256, OPT_D_KEY, OPT_D_VALUE, OPT_KEYS, OPT_RHO, OPT_SHIFT,
       OPT_KEY_SCALE, OPT_EPS, OPT_TRIALS, OPT_SEED, OPT_PROGRESS, OPT_N,
       OPT_SEGMENTS, OPT_ITEMS, OPT_LATER, OPT_SEG_LEN, OPT_NEEDLES,
       OPT_DEPTHS, OPT_LENGTH, OPT_VERSION };

static const struct option long_options[] = {
    {"backend", required_argument, NULL, 'b'},
    {"rule", required_argument, NULL, OPT_RULE},
    {"d-key", required_argument, NULL, OPT_D_KEY},
    {"d-value", required_argument, NULL, OPT_D_VALUE},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"rho", required_argument, NULL, OPT_RHO},
    {"shift", required_argument, NULL, OPT_SHIFT},
    {"key-scale", required_argument, NULL, OPT_KEY_SCALE},
    {"eps", required_argument, NULL, OPT_EPS},
    {"trials", required_argument, NULL, OPT_TRIALS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"output", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, 'f'},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"n", required_argument, NULL, OPT_N},
    {"segments", required_argument, NULL, OPT_SEGMENTS},
    {"items", required_argument, NULL, OPT_ITEMS},
    {"later", required_argument, NULL, OPT_LATER},
    {"segment-len", required_argument, NULL, OPT_SEG_LEN},
    {"needles", required_argument, NULL, OPT_NEEDLES},
    {"depths", required_argument, NULL, OPT_DEPTHS},
    {"length", required_argument, NULL, OPT_LENGTH},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}};

/* One option; 0 to go on, -1 to exit 0 (help, version), else a usage
 * error's exit status. */
static int take_option(void *ctx, int ch, const char *arg) {
  options *o = ctx;
  double x;
  switch (ch) {
  case 'b': o->backend = arg; return 0;
  case OPT_RULE: return parse_rules(arg, o);
  case OPT_D_KEY: return parse_list("d-key", arg, 1, MAX_WIDTH, true, false, &o->d_key);
  case OPT_D_VALUE: return parse_size("d-value", arg, 1, MAX_WIDTH, &o->d_value);
  case OPT_KEYS: return parse_keys(arg, o);
  case OPT_RHO: return parse_list("rho", arg, 0, 1, false, false, &o->rho);
  case OPT_SHIFT: return parse_list("shift", arg, -1e4, 1e4, false, false, &o->shift);
  case OPT_KEY_SCALE:
    if (!cli_parse_double(arg, 1e-6, 1e4, &x))
      return cli_usage_error("--key-scale needs a number from 1e-06 to 10000, not '%s'", arg);
    o->keys.scale = x;
    return 0;
  case OPT_EPS:
    if (!cli_parse_double(arg, 0, 1e30, &x))
      return cli_usage_error("--eps needs a finite number >= 0, not '%s'", arg);
    o->eps = (float)x;
    return 0;
  case OPT_TRIALS: return parse_size("trials", arg, 2, 1000000, &o->trials);
  case OPT_SEED:
    return cli_parse_u64(arg, 0, UINT64_MAX, &o->seed)
               ? 0
               : cli_usage_error("--seed needs a whole number from 0 to "
                                 "18446744073709551615, not '%s'", arg);
  case 'o': o->output = arg; return 0;
  case 'f': o->force = true; return 0;
  case OPT_PROGRESS: o->progress = true; return 0;
  case OPT_N: return parse_list("n", arg, 1, MAX_ITEMS, true, false, &o->n);
  case OPT_SEGMENTS:
    return parse_list("segments", arg, 1, MAX_ITEMS, true, true, &o->segments);
  case OPT_ITEMS: return parse_list("items", arg, 1, MAX_ITEMS, true, false, &o->items);
  case OPT_LATER: return parse_size("later", arg, 1, MAX_ITEMS, &o->later);
  case OPT_SEG_LEN: return parse_size("segment-len", arg, 1, MAX_ITEMS, &o->seg_len);
  case OPT_NEEDLES: return parse_list("needles", arg, 1, MAX_ITEMS, true, false, &o->needles);
  case OPT_DEPTHS: return parse_list("depths", arg, 0, 1, false, false, &o->depths);
  case OPT_LENGTH: return parse_list("length", arg, 1, MAX_ITEMS, true, false, &o->length);
  case 'h': usage(stdout); return -1;
  case OPT_VERSION: printf(PROG " (infini) %s\n", infini_version()); return -1;
  }
  return cli_usage_error("unknown option");
}

static void set_list(list *l, const double *v, int count) {
  if (l->count == 0) {
    memcpy(l->v, v, (size_t)count * sizeof *v);
    l->count = count;
  }
}

static void set_defaults(options *o) {
  static const double d_key[] = {64}, seg[] = {1}, rho[] = {0.5},
                      zero[] = {0}, sparse[] = {0, 1, 2, 4, 8},
                      onehot[] = {200}, items[] = {1, 4, 16},
                      needles[] = {1, 4}, depths[] = {0, 0.25, 0.5, 0.75, 1},
                      length[] = {4, 16, 64};
  set_list(&o->d_key, d_key, 1);
  set_list(&o->segments, seg, 1);
  set_list(&o->rho, o->keys.kind == CAP_KEYS_CORR ? rho : zero, 1);
  if (o->keys.kind == CAP_KEYS_SPARSE)
    set_list(&o->shift, sparse, 5);
  else
    set_list(&o->shift, o->keys.kind == CAP_KEYS_ONEHOT ? onehot : zero, 1);
  set_list(&o->items, items, 3);
  set_list(&o->needles, needles, 2);
  set_list(&o->depths, depths, 5);
  set_list(&o->length, length, 3);
}

/* What the options ask must fit the caps: n * width floats per buffer. */
static int check_sizes(const options *o) {
  for (int i = 0; i < o->d_key.count; i++) {
    const double width = fmax(o->d_key.v[i], (double)o->d_value);
    double most = o->n.count ? 0 : 8 * o->d_key.v[i]; /* default grid */
    for (int j = 0; j < o->n.count; j++)
      most = fmax(most, o->n.v[j]);
    if (o->cmd == CMD_FORGETTING)
      for (int j = 0; j < o->items.count; j++)
        most = fmax(most, o->items.v[j] + (double)o->seg_len * (double)o->later);
    if (o->cmd == CMD_NEEDLES)
      for (int j = 0; j < o->length.count; j++)
        most = fmax(most, o->length.v[j] * (double)o->seg_len);
    if (most * width > (double)MAX_ITEMS * 256)
      return cli_usage_error("%.0f associations of width %.0f are too many "
                             "(at most %d x 256 floats a buffer)",
                             most, width, MAX_ITEMS);
  }
  for (int j = 0; o->cmd == CMD_NEEDLES && j < o->needles.count; j++)
    if (o->needles.v[j] > (double)o->seg_len)
      return cli_usage_error("--needles %.0f exceeds --segment-len %td",
                             o->needles.v[j], o->seg_len);
  return 0;
}

static int parse_options(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  o->rules[0] = o->rules[1] = true;
  o->keys.scale = 1;
  o->trials = 5;
  o->seg_len = 16;
  o->later = 32;
  if (argc < 2)
    return cli_usage_error("no command (capacity, forgetting or needles)");
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
    return usage(stdout), -1;
  if (strcmp(argv[1], "--version") == 0)
    return take_option(o, OPT_VERSION, NULL);
  int c = 0;
  while (c < 3 && strcmp(argv[1], command_names[c]) != 0)
    c++;
  if (c == 3)
    return cli_usage_error("unknown command '%s' (capacity, forgetting or "
                           "needles)", argv[1]);
  o->cmd = (command)c;
  optind = 2;
  const int r = cli_parse_options(argc, argv, ":b:o:fh", long_options, take_option, o);
  if (r)
    return r;
  set_defaults(o);
  return check_sizes(o);
}

/* ---- statistics and output ------------------------------------------- */

/* Running sums of one metric over the trials of a point. */
typedef struct tally {
  double sum, sum2;
  ptrdiff_t count;
} tally;

static void tally_add(tally *s, double x) {
  s->sum += x;
  s->sum2 += x * x;
  s->count++;
}

/* "mean,standard error" of the trials. */
static void tally_print(FILE *f, const tally *s) {
  const double n = (double)s->count, mean = s->sum / n;
  const double var = fmax(s->sum2 - n * mean * mean, 0.0) / (n - 1);
  fprintf(f, ",%.6g,%.3g", mean, sqrt(var / n));
}

typedef struct stats {
  tally err, cos, top1;
} stats;

static void stats_add(stats *s, const cap_metrics *m) {
  tally_add(&s->err, m->err);
  tally_add(&s->cos, m->cos);
  tally_add(&s->top1, m->top1);
}

static void stats_print(FILE *f, const stats *s) {
  tally_print(f, &s->err);
  tally_print(f, &s->cos);
  tally_print(f, &s->top1);
}

#define METRIC_COLUMNS "err,err_se,cos,cos_se,top1,top1_se"

typedef struct run {
  const options *o;
  infini_context *ctx;
  FILE *out;
  bool show;
  long done, total;
} run;

static void progress(run *r) {
  r->done++;
  if (r->show) {
    fprintf(stderr, "\r" PROG ": %s %ld/%ld points", command_names[r->o->cmd],
            r->done, r->total);
    if (r->done == r->total)
      fprintf(stderr, "\n");
  }
}

/* The point's key columns and the seed tag shared by every rule and
 * segmentation (so the rules see the same keys and values). */
static uint64_t point_tag(const cap_keyspec *k, ptrdiff_t d_key, uint64_t a,
                          uint64_t b) {
  uint64_t t = cap_trial_seed((uint64_t)d_key, (uint64_t)k->kind, a);
  t = cap_trial_seed(t, b, (uint64_t)llround(k->rho * 1e6));
  return cap_trial_seed(t, (uint64_t)llround((k->shift + 1e4) * 1e6),
                        (uint64_t)llround(k->scale * 1e6));
}

static void print_point(run *r, const char *rule, const cap_keyspec *k,
                        ptrdiff_t d_key, ptrdiff_t d_value) {
  fprintf(r->out, "%s,%s,%s,%g,%g,%g,%td,%td",
          infini_context_backend(r->ctx)->name, rule, key_names[k->kind],
          k->rho, k->shift, k->scale, d_key, d_value);
}

#define POINT_COLUMNS "backend,rule,keys,rho,shift,key_scale,d_key,d_value"

/* The default grid: every n up to 16, then steps of 2^(1/4), to 8 d_key. */
static int default_grid(ptrdiff_t d_key, double *n) {
  int count = 0;
  double x = 1;
  while (x <= 8.0 * (double)d_key && count < MAX_LIST - 1) {
    n[count++] = x;
    x = x < 16 ? x + 1 : ceil(x * 1.189207115002721);
  }
  if (n[count - 1] < 8.0 * (double)d_key)
    n[count++] = 8.0 * (double)d_key;
  return count;
}

static const char *rule_name(int rule) { return rule ? "delta" : "linear"; }

static infini_status capacity_point(run *r, cap_memory *mem,
                                    const cap_keyspec *k, ptrdiff_t n,
                                    ptrdiff_t segments) {
  stats memory = {0}, lsq = {0};
  tally overlap = {0}, overlap_rms = {0};
  const uint64_t tag = point_tag(k, mem->d_key, (uint64_t)n, 0);
  for (ptrdiff_t t = 0; t < r->o->trials; t++) {
    cap_capacity_result res;
    const infini_status st = cap_capacity_trial(
        mem, k, n, segments, cap_trial_seed(r->o->seed, (uint64_t)t, tag),
        &res);
    if (st)
      return st;
    stats_add(&memory, &res.memory);
    stats_add(&lsq, &res.lsq);
    tally_add(&overlap, res.overlap);
    tally_add(&overlap_rms, res.overlap_rms);
  }
  print_point(r, rule_name(mem->rule), k, mem->d_key, mem->d_value);
  fprintf(r->out, ",%td,%td,%td", segments, n, r->o->trials);
  stats_print(r->out, &memory);
  stats_print(r->out, &lsq);
  const double ov = overlap.sum / (double)overlap.count;
  const double ov_rms = overlap_rms.sum / (double)overlap_rms.count;
  fprintf(r->out, ",%.6g,%.6g,%.6g,%.6g\n", ov, ov_rms,
          cap_theory_cos(n, ov_rms),
          cap_theory_top1(n, mem->d_value, ov, ov_rms));
  progress(r);
  return INFINI_OK;
}

/* Calls point(r, mem, keys, index) for every rule, d_key, rho and shift. */
typedef infini_status (*point_fn)(run *r, cap_memory *mem,
                                  const cap_keyspec *k);

static infini_status for_each_memory(run *r, point_fn point) {
  const options *o = r->o;
  for (int d = 0; d < o->d_key.count; d++)
    for (int a = 0; a < o->rho.count; a++)
      for (int b = 0; b < o->shift.count; b++)
        for (int rule = 0; rule < 2; rule++) {
          if (!o->rules[rule])
            continue;
          const ptrdiff_t d_key = (ptrdiff_t)o->d_key.v[d];
          cap_memory mem = {r->ctx, d_key, o->d_value ? o->d_value : d_key,
                            rule ? INFINI_UPDATE_DELTA : INFINI_UPDATE_LINEAR,
                            o->eps};
          cap_keyspec k = o->keys;
          k.rho = o->rho.v[a];
          k.shift = o->shift.v[b];
          const infini_status st = point(r, &mem, &k);
          if (st)
            return st;
        }
  return INFINI_OK;
}

static infini_status capacity_points(run *r, cap_memory *mem,
                                     const cap_keyspec *k) {
  double grid[MAX_LIST];
  const list *n = &r->o->n;
  const int count = n->count ? n->count : default_grid(mem->d_key, grid);
  for (int s = 0; s < r->o->segments.count; s++)
    for (int i = 0; i < count; i++) {
      const ptrdiff_t items = (ptrdiff_t)(n->count ? n->v[i] : grid[i]);
      const ptrdiff_t want = (ptrdiff_t)r->o->segments.v[s];
      const ptrdiff_t segments = want == 0 || want > items ? items : want;
      const infini_status st = capacity_point(r, mem, k, items, segments);
      if (st)
        return st;
    }
  return INFINI_OK;
}

static infini_status forgetting_points(run *r, cap_memory *mem,
                                       const cap_keyspec *k) {
  const options *o = r->o;
  const ptrdiff_t later = o->later;
  cap_metrics *curve = malloc((size_t)(later + 1) * sizeof *curve);
  stats *acc = calloc((size_t)(later + 1), sizeof *acc);
  double *cos = malloc((size_t)(later + 1) * sizeof *cos);
  infini_status st = curve && acc && cos ? INFINI_OK : INFINI_ERR_NOMEM;
  for (int i = 0; !st && i < o->items.count; i++) {
    const ptrdiff_t items = (ptrdiff_t)o->items.v[i];
    const uint64_t tag = point_tag(k, mem->d_key, (uint64_t)items,
                                   (uint64_t)o->seg_len + 1000000);
    memset(acc, 0, (size_t)(later + 1) * sizeof *acc);
    for (ptrdiff_t t = 0; !st && t < o->trials; t++) {
      st = cap_forgetting_trial(mem, k, items, o->seg_len, later,
                                cap_trial_seed(o->seed, (uint64_t)t, tag),
                                curve);
      for (ptrdiff_t s = 0; !st && s <= later; s++)
        stats_add(&acc[s], &curve[s]);
    }
    for (ptrdiff_t s = 0; !st && s <= later; s++)
      cos[s] = acc[s].cos.sum / (double)o->trials;
    const double half = st ? 0 : cap_half_life(cos, later + 1);
    for (ptrdiff_t s = 0; !st && s <= later; s++) {
      print_point(r, rule_name(mem->rule), k, mem->d_key, mem->d_value);
      fprintf(r->out, ",%td,%td,%td,%td", items, o->seg_len, s, o->trials);
      stats_print(r->out, &acc[s]);
      fprintf(r->out, ",%.4g\n", half);
    }
    if (!st)
      progress(r);
  }
  free(curve);
  free(acc);
  free(cos);
  return st;
}

static infini_status needles_points(run *r, cap_memory *mem,
                                    const cap_keyspec *k) {
  const options *o = r->o;
  for (int a = 0; a < o->length.count; a++)
    for (int b = 0; b < o->needles.count; b++)
      for (int c = 0; c < o->depths.count; c++) {
        const ptrdiff_t length = (ptrdiff_t)o->length.v[a];
        const ptrdiff_t needles = (ptrdiff_t)o->needles.v[b];
        const uint64_t tag =
            point_tag(k, mem->d_key, (uint64_t)length, (uint64_t)o->seg_len);
        stats acc = {0};
        for (ptrdiff_t t = 0; t < o->trials; t++) {
          cap_metrics m;
          const infini_status st = cap_needles_trial(
              mem, k, needles, o->depths.v[c], length, o->seg_len,
              cap_trial_seed(o->seed, (uint64_t)t, tag), &m);
          if (st)
            return st;
          stats_add(&acc, &m);
        }
        print_point(r, rule_name(mem->rule), k, mem->d_key, mem->d_value);
        fprintf(r->out, ",%td,%g,%td,%td,%td", needles, o->depths.v[c], length,
                o->seg_len, o->trials);
        stats_print(r->out, &acc);
        fprintf(r->out, "\n");
        progress(r);
      }
  return INFINI_OK;
}

static long count_points(const options *o) {
  long per_memory;
  if (o->cmd == CMD_CAPACITY) {
    per_memory = 0;
    for (int d = 0; d < o->d_key.count; d++) {
      double grid[MAX_LIST];
      per_memory += o->n.count ? o->n.count
                               : default_grid((ptrdiff_t)o->d_key.v[d], grid);
    }
    per_memory *= o->segments.count;
  } else if (o->cmd == CMD_FORGETTING) {
    per_memory = (long)o->items.count * o->d_key.count;
  } else {
    per_memory = (long)o->length.count * o->needles.count * o->depths.count *
                 o->d_key.count;
  }
  return per_memory * o->rho.count * o->shift.count *
         (o->rules[0] + o->rules[1]);
}

static void print_header(const options *o, FILE *f) {
  static const char *const columns[] = {
      "segments,n,trials," METRIC_COLUMNS
      ",lsq_err,lsq_err_se,lsq_cos,lsq_cos_se,lsq_top1,lsq_top1_se,overlap,"
      "overlap_rms,cos_theory,top1_theory",
      "items,segment_len,later,trials," METRIC_COLUMNS ",half_life",
      "needles,depth,length,segment_len,trials," METRIC_COLUMNS};
  fprintf(f, POINT_COLUMNS ",%s\n", columns[o->cmd]);
}

static const point_fn point_fns[] = {capacity_points, forgetting_points,
                                     needles_points};

/* Run the sweep into a memory buffer (the writer then puts it in place
 * atomically, or it goes to stdout). */
static int sweep(const options *o, infini_context *ctx, char **csv,
                 size_t *len) {
  FILE *f = open_memstream(csv, len);
  if (!f) {
    cli_error("out of memory");
    return EXIT_FAILURE;
  }
  run r = {o, ctx, f, o->progress || isatty(STDERR_FILENO), 0, count_points(o)};
  print_header(o, f);
  const infini_status st = for_each_memory(&r, point_fns[o->cmd]);
  if (fclose(f) != 0 || st) {
    cli_error("%s", st ? infini_strerror(st) : "out of memory");
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

static int emit(const options *o, const char *csv, size_t len) {
  char err[512];
  if (!o->output) {
    if (fwrite(csv, 1, len, stdout) != len || fflush(stdout) != 0) {
      cli_error("cannot write to standard output");
      return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
  }
  if (fileio_write_atomic_flags(o->output, csv, len,
                                o->force ? FILEIO_REPLACE : 0, err,
                                sizeof err)) {
    cli_error("%s", err);
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

static int open_backend(const options *o, infini_context **ctx) {
  const infini_backend *b = NULL;
  infini_status st = infini_backend_find(o->backend, &b);
  if (st == INFINI_ERR_NOT_FOUND)
    return cli_usage_error("unknown backend '%s'", o->backend);
  if (!st && b->availability() == INFINI_UNAVAILABLE)
    st = INFINI_ERR_UNAVAILABLE;
  if (!st)
    st = infini_context_create(b, ctx);
  if (st) {
    cli_error("backend '%s': %s",
            o->backend ? o->backend : "default", infini_strerror(st));
    return EXIT_FAILURE;
  }
  return 0;
}

int main(int argc, char **argv) {
  cli_set_program(PROG, "try '" PROG " --help'");
  options o;
  int r = parse_options(argc, argv, &o);
  if (r)
    return r < 0 ? EXIT_SUCCESS : r;
  char err[512];
  /* The writer's own checks before the (possibly long) sweep: a link or
   * a link folder is refused, an existing file kept without --force. */
  if (o.output && fileio_check_destination(o.output,
                                           o.force ? FILEIO_REPLACE : 0, err,
                                           sizeof err)) {
    cli_error("%s", err);
    return EXIT_FAILURE;
  }
  infini_context *ctx = NULL;
  if ((r = open_backend(&o, &ctx)) != 0)
    return r;
  char *csv = NULL;
  size_t len = 0;
  r = sweep(&o, ctx, &csv, &len);
  if (r == EXIT_SUCCESS)
    r = emit(&o, csv, len);
  free(csv);
  infini_context_free(ctx);
  return r;
}
