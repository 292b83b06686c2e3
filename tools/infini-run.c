/*
 * tools/infini-run.c - stream tokens through a model with constant memory.
 *
 *   infini-run MODEL.safetensors [--tokens FILE|-] [--synthetic N]
 *              [--seed S] [--backend NAME] [--chunk C] [--threads T]
 *              [--save-checkpoint F] [--load-checkpoint F]
 *              [--logits-out F.npy] [--progress SECONDS] [--quiet]
 *   infini-run --table1
 *
 * Tokens come from a file or stdin (decimal ids separated by white space,
 * read one at a time, so the input can be longer than memory) or from a
 * synthetic splitmix64 stream; they are fed in chunks of C tokens, so the
 * tool's memory is the model, the stream's state and one chunk, whatever
 * the length. The report ends with the state's footprint against the KV
 * cache a plain transformer would need for the same context, the peak
 * resident memory, and SHA-256 digests of the final logits and of the
 * argmax trace, so two runs (backends, checkpoint detours) can be compared.
 * --logits-out writes the last token's logits ([V] float32 .npy, written
 * atomically). --chunk defaults to one segment; calls are cut at segment
 * boundaries (see call_length). --table1 prints the paper's Table 1 memory
 * arithmetic for its language model config and needs no model.
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>

#include "infini_model.h"
#include "src/fileio.h"
#include "tools/cli.h"
#include "vectors/npy.h"
#include "vectors/prng.h"

#define PROG "infini-run"

/* ---- errors ---------------------------------------------------------------- */

/* Every failure, a bad option included, exits 1 with one line (the man
 * page's EXIT STATUS). */
#define die(...) cli_die(EXIT_FAILURE, __VA_ARGS__)

static void usage(FILE *f) {
  fputs("usage: " PROG " MODEL.safetensors [--tokens FILE|-] [--synthetic N]\n"
        "                  [--seed S] [--backend NAME] [--chunk C] [--threads T]\n"
        "                  [--save-checkpoint F] [--load-checkpoint F]\n"
        "                  [--logits-out F.npy] [--force] [--progress SECONDS]\n"
        "                  [--quiet] [--table1]\n"
        "       " PROG " --table1\n", f);
}

/* ---- options ----------------------------------------------------------------- */

typedef struct options {
  const char *model, *tokens, *backend, *save, *load, *logits_out;
  uint64_t synthetic, seed;
  bool has_synthetic, quiet, table1, force;
  ptrdiff_t chunk; /* 0: one segment */
  int threads;     /* infini_model_state_set_threads */
  double progress; /* seconds between progress lines, 0: none */
} options;

/* A decimal integer in [lo, hi], the whole string. */
static uint64_t parse_u64(const char *opt, const char *s, uint64_t lo,
                          uint64_t hi) {
  uint64_t v;
  if (!cli_parse_u64(s, lo, hi, &v))
    die("%s: '%s' is not an integer in %" PRIu64 "..%" PRIu64, opt, s, lo, hi);
  return v;
}

static double parse_seconds(const char *opt, const char *s) {
  double v;
  if (!cli_parse_double(s, 0, 1e6, &v))
    die("%s: '%s' is not a number of seconds in 0..1e6", opt, s);
  return v;
}

/* The value of option argv[*i], which must exist. */
static const char *value(int argc, char **argv, int *i) {
  if (*i + 1 >= argc)
    die("%s needs a value (see --help)", argv[*i]);
  return argv[++*i];
}

static bool value_option(options *o, int argc, char **argv, int *i) {
  const char *a = argv[*i];
  const char **strings[] = {&o->tokens, &o->backend, &o->save, &o->load,
                            &o->logits_out};
  const char *names[] = {"--tokens", "--backend", "--save-checkpoint",
                         "--load-checkpoint", "--logits-out"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    if (strcmp(a, names[k]) == 0) {
      *strings[k] = value(argc, argv, i);
      return true;
    }
  if (strcmp(a, "--synthetic") == 0) {
    o->synthetic = parse_u64(a, value(argc, argv, i), 0, UINT64_MAX);
    o->has_synthetic = true;
  } else if (strcmp(a, "--seed") == 0) {
    o->seed = parse_u64(a, value(argc, argv, i), 0, UINT64_MAX);
  } else if (strcmp(a, "--chunk") == 0) {
    o->chunk = (ptrdiff_t)parse_u64(a, value(argc, argv, i), 1, 1 << 20);
  } else if (strcmp(a, "--threads") == 0) {
    o->threads = (int)parse_u64(a, value(argc, argv, i), 1,
                                INFINI_MODEL_MAX_THREADS);
  } else if (strcmp(a, "--progress") == 0) {
    o->progress = parse_seconds(a, value(argc, argv, i));
  } else {
    return false;
  }
  return true;
}

static options parse_options(int argc, char **argv) {
  options o = {.seed = 1, .progress = 10, .threads = 1};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(a, "--quiet") == 0) {
      o.quiet = true;
    } else if (strcmp(a, "--table1") == 0) {
      o.table1 = true;
    } else if (strcmp(a, "--force") == 0) {
      o.force = true;
    } else if (value_option(&o, argc, argv, &i)) {
      continue;
    } else if (a[0] == '-' && a[1]) {
      die("unknown option '%s' (see --help)", a);
    } else if (o.model) {
      die("one model file only ('%s' and '%s')", o.model, a);
    } else {
      o.model = a;
    }
  }
  if (!o.model && !o.table1)
    die("no model file given (see --help)");
  if (o.model && !o.tokens == !o.has_synthetic)
    die("give exactly one input: --tokens FILE|- or --synthetic N");
  return o;
}

/* ---- Table 1 ------------------------------------------------------------------- */

/* x with thousands separators ("1,585,152"), as the paper prints counts. */
static const char *grouped(uint64_t x, char buf[32]) {
  char digits[24];
  const int n = snprintf(digits, sizeof digits, "%" PRIu64, x);
  int o = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && (n - i) % 3 == 0)
      buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = 0;
  return buf;
}

/* The paper's language-model config (section 4.1): 12 layers, 8 heads of
 * 128, segments of 2048. Its Table 1 counts the memory as
 * d_key * (d_value + 1) floats per head and layer. */
static void print_table1(void) {
  const uint64_t l = 12, h = 8, d = 128, n = 2048;
  const uint64_t mem = l * h * d * (d + 1);
  char a[32], b[32];
  printf("Table 1, the paper's LM config: %" PRIu64 " layers, %" PRIu64
         " heads of d_key = d_value = %" PRIu64 ", segment N = %" PRIu64 "\n",
         l, h, d, n);
  printf("  Infini-attention memory   L*H*d_key*(d_value+1) = %s floats "
         "(%s bytes as float32), whatever the context length\n",
         grouped(mem, a), grouped(4 * mem, b));
  printf("  one segment's KV cache    2*L*H*d*N = %s floats\n",
         grouped(2 * l * h * d * n, a));
  const uint64_t contexts[] = {32768, 524288, 1048576};
  for (size_t i = 0; i < sizeof contexts / sizeof contexts[0]; i++) {
    const uint64_t kv = 2 * l * h * d * contexts[i];
    printf("  plain KV cache, T = %9s: 2*L*H*d*T = %s floats, %.0fx the "
           "memory\n", grouped(contexts[i], a), grouped(kv, b),
           (double)kv / (double)mem);
  }
}

/* ---- token sources ---------------------------------------------------------------- */

typedef struct source {
  FILE *f;           /* NULL: synthetic */
  const char *name;
  uint64_t line;     /* of the file, for messages */
  uint64_t left;     /* synthetic tokens still to come */
  vs_rng rng;
  int32_t vocab;
} source;

/* A synthetic stream resumed from a checkpoint continues where the saved
 * run stopped: splitmix64 draws one number per token and its state moves
 * by a constant per draw, so skipping the first `start` tokens is one
 * multiplication. */
static source open_source(const options *o, int32_t vocab, uint64_t start) {
  source s = {.name = o->tokens, .line = 1, .left = o->synthetic,
              .rng = {o->seed + start * UINT64_C(0x9E3779B97F4A7C15)},
              .vocab = vocab};
  if (!o->tokens)
    return s;
  s.f = strcmp(o->tokens, "-") == 0 ? stdin : fopen(o->tokens, "r");
  if (!s.f)
    die("%s: %s", o->tokens, strerror(errno));
  if (s.f == stdin)
    s.name = "standard input";
  return s;
}

/* Next decimal id of the file into *t; false at the end. One character
 * at a time, so memory does not depend on the input. */
static bool next_from_file(source *s, int32_t *t) {
  int c;
  while ((c = getc(s->f)) != EOF && isspace(c))
    s->line += c == '\n';
  if (c == EOF) {
    if (ferror(s->f))
      die("%s: read error: %s", s->name, strerror(errno));
    return false;
  }
  uint64_t v = 0;
  for (; c != EOF && isdigit(c); c = getc(s->f))
    if ((v = v * 10 + (uint64_t)(c - '0')) >= (uint64_t)s->vocab)
      v = (uint64_t)s->vocab; /* saturate: out of range either way */
  if (c != EOF && !isspace(c))
    die("%s: line %" PRIu64 ": '%c' is not part of a decimal token id",
        s->name, s->line, isprint(c) ? c : '?');
  if (v >= (uint64_t)s->vocab)
    die("%s: line %" PRIu64 ": token id outside 0..%d", s->name, s->line,
        s->vocab - 1);
  if (c == '\n')
    s->line++;
  *t = (int32_t)v;
  return true;
}

static bool next_token(source *s, int32_t *t) {
  if (s->f)
    return next_from_file(s, t);
  if (s->left == 0)
    return false;
  s->left--;
  *t = (int32_t)(vs_next(&s->rng) % (uint64_t)s->vocab);
  return true;
}

/* ---- resident memory -------------------------------------------------------------- */

/* A "Name:   123 kB" line of /proc/self/status, in kB; -1 if not there
 * (not Linux). */
static long proc_status_kb(const char *name) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  const size_t n = strlen(name);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, name, n) == 0 && line[n] == ':')
      kb = strtol(line + n + 1, NULL, 10);
  if (f)
    fclose(f);
  return kb;
}

static double seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the run ------------------------------------------------------------------------ */

typedef struct run {
  const infini_model *model;
  infini_model_state *state;
  ptrdiff_t chunk, vocab, segment_len;
  int threads;
  int32_t *tokens;        /* [chunk] */
  float *logits;          /* [chunk x V] */
  float *last;            /* [V] the last token's logits */
  unsigned char *argmax;  /* [4 chunk] little-endian argmax ids */
  struct sha256_ctx trace;
  uint64_t fed;           /* tokens fed by this run */
  double wall0, cpu0, next_progress, progress;
} run;

static void *alloc_or_die(size_t count, size_t size) {
  void *p = count <= SIZE_MAX / size ? malloc(count * size) : NULL;
  if (!p)
    die("out of memory for %zu x %zu bytes", count, size);
  return p;
}

static const infini_backend *pick_backend(const char *name) {
  const infini_backend *be = NULL;
  if (!name)
    return NULL;
  if (infini_backend_find(name, &be) != INFINI_OK)
    die("no backend named '%s' (infini-conform --list-backends lists them)",
        name);
  if (be->availability() == INFINI_UNAVAILABLE)
    die("backend '%s' cannot run on this CPU", name);
  return be;
}

static infini_model *load_model(const options *o) {
  char err[512] = "";
  infini_model *m = NULL;
  const infini_status st =
      infini_model_load(o->model, pick_backend(o->backend), &m, err, sizeof err);
  if (st != INFINI_OK)
    die("%s", err[0] ? err : infini_strerror(st));
  return m;
}

static void start_run(run *r, const options *o, const infini_model *m) {
  const infini_model_config *c = infini_model_get_config(m);
  *r = (run){.model = m, .vocab = c->vocab_size, .segment_len = c->segment_len,
             .chunk = o->chunk ? o->chunk : c->segment_len,
             .threads = o->threads,
             .progress = o->quiet ? 0 : o->progress};
  if (infini_model_state_create(m, &r->state) != INFINI_OK)
    die("cannot create a stream for this model (out of memory?)");
  if (infini_model_state_set_threads(r->state, o->threads) != INFINI_OK)
    die("--threads %d: cannot start the threads", o->threads);
  r->tokens = alloc_or_die((size_t)r->chunk, sizeof *r->tokens);
  r->logits = alloc_or_die((size_t)r->chunk, (size_t)r->vocab * sizeof(float));
  r->last = alloc_or_die((size_t)r->vocab, sizeof(float));
  r->argmax = alloc_or_die((size_t)r->chunk, 4);
  sha256_init(&r->trace);
  char err[512] = "";
  if (o->load && infini_model_checkpoint_load(m, r->state, o->load, err,
                                              sizeof err) != INFINI_OK)
    die("%s", err);
  r->wall0 = seconds(CLOCK_MONOTONIC);
  r->cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
  r->next_progress = r->progress;
}

static void end_run(run *r) {
  infini_model_state_free(r->state);
  free(r->tokens);
  free(r->logits);
  free(r->last);
  free(r->argmax);
}

/* Index of the largest logit of a row (the first one on ties; NaNs lose). */
static uint32_t argmax_of(const float *x, ptrdiff_t n) {
  ptrdiff_t best = 0;
  for (ptrdiff_t i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return (uint32_t)best;
}

static void trace_chunk(run *r, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) {
    const uint32_t a = argmax_of(r->logits + i * r->vocab, r->vocab);
    for (int b = 0; b < 4; b++)
      r->argmax[4 * i + b] = (unsigned char)(a >> (8 * b));
  }
  sha256_update(&r->trace, 4 * (size_t)n, r->argmax);
  memcpy(r->last, r->logits + (n - 1) * r->vocab, (size_t)r->vocab * sizeof(float));
}

static uint64_t position(const run *r) {
  uint64_t p = 0;
  infini_model_state_position(r->state, &p);
  return p;
}

static void progress_line(run *r) {
  const double t = seconds(CLOCK_MONOTONIC) - r->wall0;
  if (r->progress <= 0 || t < r->next_progress)
    return;
  r->next_progress = t + r->progress;
  const uint64_t p = position(r);
  fprintf(stderr, PROG ": %" PRIu64 " tokens, %" PRIu64 " segments, %.0f "
          "tokens/s, resident %ld kB (peak %ld kB)\n", p,
          p / (uint64_t)r->segment_len, (double)r->fed / t,
          proc_status_kb("VmRSS"), proc_status_kb("VmHWM"));
}

/* Tokens of the next call: the chunk, cut at the last segment boundary it
 * crosses. The outputs may differ in the last bits with how the stream is
 * cut into calls (infini_model.h); cutting at segment boundaries makes a
 * run resumed from a checkpoint taken at a boundary repeat, bit for bit,
 * the calls of the run that was not interrupted. */
static ptrdiff_t call_length(const run *r) {
  const uint64_t n = (uint64_t)r->segment_len, pos = position(r);
  const uint64_t end = pos + (uint64_t)r->chunk;
  return end / n > pos / n ? (ptrdiff_t)(end / n * n - pos) : r->chunk;
}

static void feed_all(run *r, source *s) {
  for (;;) {
    const ptrdiff_t want = call_length(r);
    ptrdiff_t n = 0;
    while (n < want && next_token(s, &r->tokens[n]))
      n++;
    if (n == 0)
      return;
    const infini_status st =
        infini_model_forward(r->model, r->state, r->tokens, n, r->logits, NULL);
    if (st != INFINI_OK)
      die("forward pass failed after %" PRIu64 " tokens: %s", position(r),
          infini_strerror(st));
    trace_chunk(r, n);
    r->fed += (uint64_t)n;
    progress_line(r);
  }
}

/* ---- the report --------------------------------------------------------------------- */

static void hex_digest(struct sha256_ctx *ctx, char hex[65]) {
  unsigned char d[SHA256_DIGEST_SIZE];
  sha256_digest(ctx, sizeof d, d);
  for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
    snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* SHA-256 of the final logits as little-endian float32 bytes. */
static void logits_digest(const run *r, char hex[65]) {
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  for (ptrdiff_t i = 0; i < r->vocab; i++) {
    uint32_t u;
    unsigned char b[4];
    memcpy(&u, &r->last[i], 4);
    for (int k = 0; k < 4; k++)
      b[k] = (unsigned char)(u >> (8 * k));
    sha256_update(&ctx, 4, b);
  }
  hex_digest(&ctx, hex);
}

static void print_footprint(const run *r) {
  const infini_model_config *c = infini_model_get_config(r->model);
  size_t mem = 0, seg = 0;
  infini_model_state_bytes(c, &mem, &seg);
  const uint64_t t = position(r);
  const double kv = 2.0 * (double)c->n_layers * (double)c->n_kv_heads *
                    (double)c->d_head * (double)t;
  printf("state_bytes     %zu (memory %zu = %zu floats, partial segment %zu)\n",
         mem + seg, mem, mem / sizeof(float), seg);
  printf("kv_cache_floats %.0f (2*L*H_kv*d_head*T for T = %" PRIu64 " tokens, "
         "%.0f bytes: %.1fx the state)\n", kv, t, 4 * kv,
         4 * kv / (double)(mem + seg));
}

static void print_report(run *r) {
  const double wall = seconds(CLOCK_MONOTONIC) - r->wall0;
  const double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - r->cpu0;
  const uint64_t p = position(r);
  printf("backend         %s\n", infini_model_backend(r->model)->name);
  printf("tokens          %" PRIu64 " (this run %" PRIu64 ")\n", p, r->fed);
  printf("segments        %" PRIu64 " (+%" PRIu64 " tokens in the partial segment)\n",
         p / (uint64_t)r->segment_len, p % (uint64_t)r->segment_len);
  printf("seconds         %.3f wall, %.3f cpu\n", wall, cpu);
  printf("tokens_per_s    %.1f (cpu time)\n", cpu > 0 ? (double)r->fed / cpu : 0.0);
  printf("tokens_per_s_wall %.1f (wall time, %d thread%s)\n",
         wall > 0 ? (double)r->fed / wall : 0.0, r->threads,
         r->threads > 1 ? "s" : "");
  printf("vm_hwm_kb       %ld\n", proc_status_kb("VmHWM"));
  printf("vm_rss_kb       %ld\n", proc_status_kb("VmRSS"));
  print_footprint(r);
  char hex[65];
  if (r->fed) {
    logits_digest(r, hex);
    printf("logits_sha256   %s\n", hex);
  }
  hex_digest(&r->trace, hex);
  printf("argmax_sha256   %s\n", hex);
}

/* ---- outputs ------------------------------------------------------------------------- */

static void write_outputs(const run *r, const options *o) {
  char err[512] = "";
  if (o->save && infini_model_checkpoint_save(r->model, r->state, o->save, err,
                                              sizeof err) != INFINI_OK)
    die("%s", err);
  if (!o->logits_out)
    return;
  if (!r->fed)
    die("%s: no token was fed, so there are no logits to write", o->logits_out);
  unsigned char *bytes;
  size_t len;
  const size_t dims[1] = {(size_t)r->vocab};
  if (!npy_encode(NPY_F4, 1, dims, r->last, &bytes, &len, err, sizeof err))
    die("%s: %s", o->logits_out, err);
  const infini_status st = fileio_write_atomic_flags(
      o->logits_out, bytes, len, o->force ? FILEIO_REPLACE : 0, err, sizeof err);
  free(bytes);
  if (st != INFINI_OK)
    die("%s", err);
}

/* Refuse an output the writer would refuse (a link, an existing file
 * without --force) before the run, not after a million tokens. The
 * checkpoint is written by the library, which replaces: this check is what
 * keeps an existing file (the model's weights, say) without --force. */
static void check_outputs(const options *o) {
  const char *paths[] = {o->save, o->logits_out};
  char err[512];
  for (size_t i = 0; i < 2; i++)
    if (paths[i] && fileio_check_destination(paths[i],
                                             o->force ? FILEIO_REPLACE : 0,
                                             err, sizeof err) != INFINI_OK)
      die("%s", err);
  if (o->save && o->logits_out && strcmp(o->save, o->logits_out) == 0)
    die("%s: given to both --save-checkpoint and --logits-out", o->save);
}

int main(int argc, char **argv) {
  cli_set_program(PROG, NULL);
  const options o = parse_options(argc, argv);
  check_outputs(&o);
  if (o.table1)
    print_table1();
  if (!o.model)
    return 0;
  infini_model *m = load_model(&o);
  run r;
  start_run(&r, &o, m);
  source s = open_source(&o, (int32_t)r.vocab, position(&r));
  feed_all(&r, &s);
  if (s.f && s.f != stdin)
    fclose(s.f);
  write_outputs(&r, &o);
  print_report(&r);
  end_run(&r);
  infini_model_free(m);
  return 0;
}
