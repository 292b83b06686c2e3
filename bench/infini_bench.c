/*
 * bench/infini_bench.c - infini-bench: throughput of every operator and of
 * the segment step (linear and delta) for ref, every native backend and a
 * baseline composed from OpenBLAS + Sleef + plain loops (bench/baseline.c).
 *
 * Shapes: d_key = d_value = d in {64, 128}, N in {256, 2048}, H = 8 heads
 * (each head its own buffers and memory), 1 and 2 threads. A backend runs
 * its heads on pthreads (head h on thread h mod T, one context each); the
 * baseline is one caller with OpenBLAS's thread count set to T (that is how
 * a user would thread it); ref runs on 1 thread, and at N = 2048 on one
 * head only with a single repetition (it takes seconds), scaled to H heads.
 *
 * Flop counts (only unmasked work; a multiply-add is 2 flops), per head:
 *   feature_map     reported as elements/ns (N*d elements), not flops
 *   retrieve        2 N dk dv + 2 N dk            (sigma(Q) M, sigma(Q) z)
 *   update_linear   2 N dk dv + N dk              (sigma(K)^T V, z)
 *   update_delta    4 N dk dv + 3 N dk            (prediction + update)
 *   mix             3 N dv
 *   local_attention (N (N + 1) / 2) (2 dk + 2 dv) (causal pairs j <= i)
 *   step_linear     retrieve + local_attention + mix + update_linear
 *   step_delta      retrieve + local_attention + mix + update_delta
 * sigma's exp and the softmax's exp are not counted.
 *
 * Time: the machine is shared (2 cores, other users' builds), so a
 * single-threaded measurement uses the thread's own CPU time
 * (CLOCK_THREAD_CPUTIME_ID: time-slices given to other processes are not
 * counted); multi-threaded ones use wall time (they measure the parallel
 * speed-up, and are noisy). Each figure is the best of 3 batches sized to
 * --min-time, after an untimed warm-up batch.
 *
 * Peak: an FMA-chain kernel per ISA measured in the same run (own CPU
 * time, best of 3), 1 thread and T threads at once. "peak" is the fraction of the peak of the ISA the
 * implementation uses (AVX-512 for ref and the baseline, the machine's).
 *
 * OpenBLAS reads OPENBLAS_CORETYPE when the library loads, so the bench
 * sets it (SkylakeX on an AVX-512 CPU; Zen 5 is otherwise mis-detected and
 * runs AVX2 code) and OPENBLAS_NUM_THREADS, then re-executes itself.
 *
 * Usage: infini-bench [--csv FILE] [--threads T] [--min-time S] [--quick]
 *                     [--op NAME] [--impl NAME] [--n N] [--d D]
 *        infini-bench --dense [--min-time S]
 * (--quick: only N = 2048, d = 128; --op, --impl, --n, --d: only those;
 * --dense: the model's dense layers instead, see dense_bench.)
 */
#include "config.h"
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench/baseline.h"
#include "infini.h"
#include "src/cpu.h"
#include "src/fileio.h"
#include "tools/cli.h"

#define H 8

enum { OP_FM, OP_RETRIEVE, OP_UPD_LIN, OP_UPD_DELTA, OP_MIX, OP_ATTN,
       OP_STEP_LIN, OP_STEP_DELTA, N_OPS };
static const char *op_names[N_OPS] = {
    "feature_map", "retrieve", "update_linear", "update_delta", "mix",
    "local_attention", "step_linear", "step_delta"};

static clockid_t clock_id = CLOCK_MONOTONIC;
static double now(void) {
  struct timespec ts;
  clock_gettime(clock_id, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double flops_of(int op, double n, double dk, double dv) {
  const double ret = 2 * n * dk * dv + 2 * n * dk, upl = 2 * n * dk * dv + n * dk;
  const double upd = 4 * n * dk * dv + 3 * n * dk, mix = 3 * n * dv;
  const double att = n * (n + 1) / 2 * (2 * dk + 2 * dv);
  switch (op) {
  case OP_RETRIEVE: return ret;
  case OP_UPD_LIN: return upl;
  case OP_UPD_DELTA: return upd;
  case OP_MIX: return mix;
  case OP_ATTN: return att;
  case OP_STEP_LIN: return ret + att + mix + upl;
  case OP_STEP_DELTA: return ret + att + mix + upd;
  default: return 0;
  }
}

/* One head's buffers. */
typedef struct head {
  float *q, *k, *v, *m, *z, *out, *amem;
  bl_scratch bl;
} head;

static ptrdiff_t g_n, g_d;
static head heads[H];

static float *falloc(size_t n, float lo, float hi) {
  float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < n; i++)
    p[i] = lo + (hi - lo) * (float)((i * 2654435761u) % 1000u) / 1000.0f;
  return p;
}

static void setup(ptrdiff_t n, ptrdiff_t d, int with_bl) {
  g_n = n;
  g_d = d;
  for (int h = 0; h < H; h++) {
    head *x = &heads[h];
    x->q = falloc((size_t)(n * d), -1, 1);
    x->k = falloc((size_t)(n * d), -1, 1);
    x->v = falloc((size_t)(n * d), -1, 1);
    x->m = falloc((size_t)(d * d), 0, 0.01f);
    x->z = falloc((size_t)d, 1, 2);
    x->out = falloc((size_t)(n * d), 0, 0);
    x->amem = falloc((size_t)(n * d), -1, 1);
    if (with_bl && !bl_scratch_init(&x->bl, n, d, d))
      exit(1);
  }
}

static void teardown(int with_bl) {
  for (int h = 0; h < H; h++) {
    head *x = &heads[h];
    free(x->q); free(x->k); free(x->v); free(x->m); free(x->z);
    free(x->out); free(x->amem);
    if (with_bl)
      bl_scratch_free(&x->bl);
  }
}

static void run_backend(infini_context *ctx, int op, head *x) {
  const ptrdiff_t n = g_n, d = g_d;
  const infini_head_shape s = {n, d, d};
  infini_step_params p = {INFINI_UPDATE_LINEAR, 0.5f, 0.0f, infini_default_scale(d)};
  switch (op) {
  case OP_FM: infini_feature_map(ctx, n, d, x->q, d, x->out, d); break;
  case OP_RETRIEVE: infini_retrieve(ctx, &s, x->q, d, x->m, d, x->z, 0.0f, x->out, d); break;
  case OP_UPD_LIN: infini_update_linear(ctx, &s, x->k, d, x->v, d, x->m, d, x->z); break;
  case OP_UPD_DELTA: infini_update_delta(ctx, &s, x->k, d, x->v, d, x->m, d, x->z, 0.0f); break;
  case OP_MIX: infini_mix(ctx, n, d, 0.5f, x->amem, d, x->q, d, x->out, d); break;
  case OP_ATTN:
    infini_local_attention(ctx, &s, x->q, d, x->k, d, x->v, d, p.scale, x->out, d);
    break;
  case OP_STEP_DELTA: p.rule = INFINI_UPDATE_DELTA; /* fall through */
  case OP_STEP_LIN:
    infini_segment_step(ctx, &s, &p, x->q, d, x->k, d, x->v, d, x->m, d, x->z, x->out, d);
    break;
  }
}

static void run_baseline(int op, head *x) {
  const ptrdiff_t n = g_n, d = g_d;
  const infini_head_shape s = {n, d, d};
  infini_step_params p = {INFINI_UPDATE_LINEAR, 0.5f, 0.0f, infini_default_scale(d)};
  switch (op) {
  case OP_FM: bl_feature_map(n, d, x->q, d, x->out, d); break;
  case OP_RETRIEVE: bl_retrieve(&s, x->q, d, x->m, x->z, 0.0f, x->out, d, &x->bl); break;
  case OP_UPD_LIN: bl_update(&s, 0, x->k, d, x->v, d, x->m, x->z, 0.0f, &x->bl); break;
  case OP_UPD_DELTA: bl_update(&s, 1, x->k, d, x->v, d, x->m, x->z, 0.0f, &x->bl); break;
  case OP_MIX: bl_mix(n, d, 0.5f, x->amem, x->q, x->out); break;
  case OP_ATTN: bl_attention(&s, x->q, d, x->k, d, x->v, d, p.scale, x->out, d, &x->bl); break;
  case OP_STEP_DELTA: p.rule = INFINI_UPDATE_DELTA; /* fall through */
  case OP_STEP_LIN:
    bl_segment_step(&s, &p, x->q, d, x->k, d, x->v, d, x->m, x->z, x->out, d, &x->bl);
    break;
  }
}

/* A measurement: `reps` repetitions of op over heads [0, nheads), split
 * over `threads` threads (backends) or one caller (baseline). */
typedef struct task {
  const infini_backend *be; /* NULL: baseline */
  int op, reps, nheads, threads, tid;
} task;

static void *worker(void *arg) {
  task *t = arg;
  infini_context *ctx = NULL;
  if (infini_context_create(t->be, &ctx) != INFINI_OK)
    return NULL;
  for (int r = 0; r < t->reps; r++)
    for (int h = t->tid; h < t->nheads; h += t->threads)
      run_backend(ctx, t->op, &heads[h]);
  infini_context_free(ctx);
  return NULL;
}

static double time_batch(const infini_backend *be, int op, int reps, int nheads,
                         int threads) {
  clock_id = threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
  double t0 = now();
  if (!be) {
    bl_set_threads(threads);
    for (int r = 0; r < reps; r++)
      for (int h = 0; h < nheads; h++)
        run_baseline(op, &heads[h]);
  } else if (threads == 1) {
    task t = {be, op, reps, nheads, 1, 0};
    worker(&t);
  } else {
    pthread_t th[16];
    task ts[16];
    for (int i = 0; i < threads; i++) {
      ts[i] = (task){be, op, reps, nheads, threads, i};
      pthread_create(&th[i], NULL, worker, &ts[i]);
    }
    for (int i = 0; i < threads; i++)
      pthread_join(th[i], NULL);
  }
  return now() - t0;
}

/* Seconds per repetition: best of 3 batches sized to min_time (one
 * untimed warm-up batch first). */
static double measure(const infini_backend *be, int op, int nheads, int threads,
                      double min_time, int single) {
  if (single)
    return time_batch(be, op, 1, nheads, threads);
  double t1 = time_batch(be, op, 1, nheads, threads); /* warm-up */
  int reps = t1 > 0 ? (int)(min_time / t1) : 100;
  if (reps < 1)
    reps = 1;
  if (reps > 2000)
    reps = 2000;
  double best = 1e30;
  for (int i = 0; i < 3; i++) {
    double t = time_batch(be, op, reps, nheads, threads) / reps;
    if (t < best)
      best = t;
  }
  return best;
}

typedef struct peak_args { int isa; double secs, result; } peak_args;
static void *peak_thread(void *arg) {
  peak_args *a = arg;
  a->result = a->isa == 512 ? peak_avx512(a->secs) : peak_avx2(a->secs);
  return NULL;
}
static double peak1(int isa, int threads) {
  pthread_t th[16];
  peak_args a[16];
  double sum = 0;
  for (int i = 0; i < threads; i++) {
    a[i] = (peak_args){isa, 0.15, 0};
    pthread_create(&th[i], NULL, peak_thread, &a[i]);
  }
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    sum += a[i].result;
  }
  return sum;
}
/* The machine is shared: the best of three short runs. */
static double peak(int isa, int threads) {
  double best = 0;
  for (int i = 0; i < 3; i++) {
    double p = peak1(isa, threads);
    if (p > best)
      best = p;
  }
  return best;
}

/* The micro-kernel's ceiling for one ISA (bench/tile_peak.inc), best of 3,
 * one line: GFLOP/s and the fraction of that ISA's FMA peak. */
static void print_tile_ceiling(const char *label, int isa, int dense, double pk) {
  double best = 0;
  for (int i = 0; i < 3; i++) {
    const double g = isa == 512 ? tile_avx512(0.1, dense) : tile_avx2(0.1, dense);
    if (g > best)
      best = g;
  }
  if (best > 0 && pk > 0)
    printf("%s micro-kernel, operands in L1, 1 thread: %s %.1f GFLOP/s, %.0f%% "
           "of its peak\n", dense ? "dense-layer" : "operator",
           label, best, 100 * best / pk);
}

/* ---- --dense: the model's dense layers (issue 12) ------------------------
 * The y = x W^T products of the small preset's forward pass (D = 256,
 * L = 4, H dh = 256, F = 512, V = 256): per block q, k, v, o, gate, up,
 * down, then the LM head, each layer with its own weights (10.7 MB packed,
 * as in the model), for n = 32 rows (a full segment) and n = 1 (decoding
 * one token). Every backend with a dense-layer kernel (weights packed
 * once, outside the timing) and OpenBLAS sgemm on the unpacked weights.
 * Decoding reads every weight once per token, so its figure of merit is
 * the rate at which it reads them, against the read bandwidth measured
 * here over a buffer of the same size (where those weights live: cache or
 * memory) and over 256 MiB (main memory). */
enum { DENSE_L = 4, DENSE_MATS = 7 * DENSE_L + 1 };
typedef struct dense_mat {
  ptrdiff_t d_in, d_out;
  float *w, *packed;
} dense_mat;
static dense_mat dense_mats[DENSE_MATS];
static float *dense_x, *dense_y;

static void dense_setup(void) {
  static const ptrdiff_t block[7][2] = {{256, 256}, {256, 256}, {256, 256},
                                        {256, 256}, {256, 512}, {256, 512},
                                        {512, 256}};
  for (int i = 0; i < DENSE_MATS; i++) {
    const ptrdiff_t *sh = i < 7 * DENSE_L ? block[i % 7] : block[0];
    dense_mats[i] = (dense_mat){sh[0], sh[1],
                                falloc((size_t)(sh[0] * sh[1]), -0.06f, 0.06f), NULL};
  }
  dense_x = falloc(32 * 512, -1, 1);
  dense_y = falloc(32 * 512, 0, 0);
}

/* Every product once for n rows; be == NULL: OpenBLAS. */
static void dense_pass(const infini_backend *be, ptrdiff_t n) {
  for (int i = 0; i < DENSE_MATS; i++) {
    const dense_mat *m = &dense_mats[i];
    if (be)
      be->linear(n, m->d_in, m->d_out, dense_x, m->d_in, m->packed, dense_y,
                 m->d_out);
    else
      bl_linear(n, m->d_in, m->d_out, dense_x, m->w, dense_y);
  }
}

static double dense_time(const infini_backend *be, ptrdiff_t n, double min_time) {
  for (int i = 0; be && i < DENSE_MATS; i++) {
    dense_mat *m = &dense_mats[i];
    free(m->packed);
    m->packed = aligned_alloc(64, (be->linear_packed_bytes(m->d_in, m->d_out) + 63) / 64 * 64);
    if (!m->packed)
      abort();
    be->linear_pack(m->d_in, m->d_out, m->w, m->packed);
  }
  dense_pass(be, n); /* warm-up */
  double best = 1e30;
  for (int b = 0; b < 3; b++) {
    long reps = 0;
    const double t0 = now();
    double t;
    do {
      dense_pass(be, n);
      reps++;
    } while ((t = now() - t0) < min_time);
    if (t / (double)reps < best)
      best = t / (double)reps;
  }
  return best;
}

/* Read bandwidth (GB/s) over `bytes` with AVX-512 loads where the CPU has
 * them (the decoding kernel's loads), else 64 scalar sums: the best of 3
 * timed sweeps. */
static double read_bandwidth(size_t bytes, double min_time) {
  const size_t n = bytes / sizeof(float) / 128 * 128;
  const int wide = cpu_has(CPU_AVX512F);
  float *buf = falloc(n, 0, 1);
  double best = 0;
  volatile float sink = 0;
  for (int b = 0; b < 4; b++) { /* the first is the untimed warm-up */
    long reps = 0;
    const double t0 = now();
    double t;
    do {
      if (wide) {
        sink += read_sweep_avx512(buf, n);
      } else {
        float acc[64] = {0};
        for (size_t i = 0; i + 64 <= n; i += 64)
          for (int j = 0; j < 64; j++)
            acc[j] += buf[i + j];
        sink += acc[0] + acc[63];
      }
      reps++;
    } while ((t = now() - t0) < min_time);
    const double gbs = 4.0 * (double)n * (double)reps / t * 1e-9;
    if (b > 0 && gbs > best)
      best = gbs;
  }
  free(buf);
  return best;
}

static int dense_bench(double min_time) {
  dense_setup();
  double flops_row = 0, weight_bytes = 0;
  for (int i = 0; i < DENSE_MATS; i++) {
    flops_row += 2.0 * (double)(dense_mats[i].d_in * dense_mats[i].d_out);
    weight_bytes += 4.0 * (double)(dense_mats[i].d_in * dense_mats[i].d_out);
  }
  const double pk256 = peak(256, 1), pk512 = peak(512, 1);
  const double bw_w = read_bandwidth((size_t)weight_bytes, min_time);
  const double bw_mem = read_bandwidth((size_t)256 << 20, min_time);
  printf("infini-bench --dense: the small preset's dense layers (L = %d, D = 256, "
         "F = 512, V = 256), %.1f MB of weights, 1 thread, CPU time\n",
         DENSE_L, weight_bytes * 1e-6);
  printf("FMA peak: AVX2 %.1f GFLOP/s, AVX-512 %.1f GFLOP/s; read bandwidth: "
         "%.1f GB/s over %.1f MB, %.1f GB/s over 256 MiB\n",
         pk256, pk512, bw_w, weight_bytes * 1e-6, bw_mem);
  print_tile_ceiling("AVX2", 256, 1, pk256);
  print_tile_ceiling("AVX-512", 512, 1, pk512);
  printf("\n%-9s %3s %10s %9s %6s %8s %7s %8s\n", "impl", "n", "us/pass",
         "GFLOP/s", "peak", "GB/s W", "of bw", "x blas");
  const ptrdiff_t ns[2] = {32, 1};
  for (int k = 0; k < 2; k++) {
    const ptrdiff_t n = ns[k];
    const double t_bl = bl_available() ? dense_time(NULL, n, min_time) : 0;
    for (int i = -1; i < (int)infini_backend_count(); i++) {
      const infini_backend *be = i < 0 ? NULL : infini_backend_at((size_t)i);
      if (be && (be->availability() != INFINI_NATIVE || !be->linear))
        continue;
      if (!be && t_bl <= 0)
        continue;
      const double sec = be ? dense_time(be, n, min_time) : t_bl;
      const double gf = flops_row * (double)n / sec * 1e-9;
      const double pk = be && !strcmp(be->name, "avx2") ? pk256 : pk512;
      const double gbs = weight_bytes / sec * 1e-9;
      printf("%-9s %3td %10.1f %9.1f %5.0f%% %8.1f %6.0f%% %8.2f\n",
             be ? be->name : "openblas", n, sec * 1e6, gf, pk > 0 ? 100 * gf / pk : 0,
             gbs, bw_w > 0 ? 100 * gbs / bw_w : 0, t_bl > 0 ? t_bl / sec : 0);
    }
  }
  return 0;
}

static void usage(FILE *f) {
  fputs("usage: infini-bench [--csv FILE] [--threads T] [--min-time S] [--quick]\n"
        "       [--op NAME] [--impl NAME] [--n N] [--d D] | --dense\n", f);
}

/* The value of a size option, 1 to hi, or exit 2 with one line. */
static ptrdiff_t size_option(const char *option, const char *value, uint64_t hi) {
  uint64_t x;
  if (!cli_parse_u64(value, 1, hi, &x))
    cli_usage_die("%s needs a whole number from 1 to %" PRIu64 ", not '%s'", option, hi,
                  value);
  return (ptrdiff_t)x;
}

int main(int argc, char **argv) {
  const char *csv_path = NULL;
  int max_threads = 2, quick = 0, dense = 0;
  const char *only_op = NULL, *only_impl = NULL;
  ptrdiff_t only_n = 0, only_d = 0;
  double min_time = 0.2;
  cli_set_program("infini-bench", "try --help");
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(a, "--quick") || !strcmp(a, "--dense")) {
      quick |= !strcmp(a, "--quick");
      dense |= !strcmp(a, "--dense");
      continue;
    }
    static const char *const value_options[] = {"--csv", "--op", "--impl", "--threads",
                                                "--n", "--d", "--min-time"};
    bool known = false;
    for (size_t k = 0; k < sizeof value_options / sizeof value_options[0]; k++)
      known |= !strcmp(a, value_options[k]);
    if (!known)
      return cli_usage_error("unknown option '%s'", a);
    if (i + 1 == argc)
      return cli_usage_error("%s needs a value", a);
    const char *v = argv[++i];
    if (!strcmp(a, "--csv"))
      csv_path = v;
    else if (!strcmp(a, "--op"))
      only_op = v;
    else if (!strcmp(a, "--impl"))
      only_impl = v;
    else if (!strcmp(a, "--threads"))
      max_threads = (int)size_option(a, v, 16);
    else if (!strcmp(a, "--n"))
      only_n = size_option(a, v, 65536);
    else if (!strcmp(a, "--d"))
      only_d = size_option(a, v, 65536);
    else if (!cli_parse_double(v, 1e-3, 1e3, &min_time))
      return cli_usage_error("--min-time needs seconds from 0.001 to 1000, not '%s'", v);
  }

  /* OpenBLAS reads its environment when it loads: set it, then re-exec. */
  if (!getenv("INFINI_BENCH_REEXEC")) {
    char nt[8];
    snprintf(nt, sizeof nt, "%d", max_threads);
    /* Overrides a preset value: the comparison must be against OpenBLAS's
     * AVX-512 kernels (INFINI_BENCH_CORETYPE picks another on purpose). */
    const char *ct = getenv("INFINI_BENCH_CORETYPE");
    if (ct && *ct)
      setenv("OPENBLAS_CORETYPE", ct, 1);
    else if (cpu_has(CPU_AVX512F))
      setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    setenv("OPENBLAS_NUM_THREADS", nt, 1);
    setenv("INFINI_BENCH_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    /* no /proc: carry on with whatever OpenBLAS picked */
  }

  if (dense) {
    clock_id = CLOCK_THREAD_CPUTIME_ID; /* one thread: its own CPU time */
    bl_set_threads(1);
    return dense_bench(min_time);
  }

  /* the project's one writer: atomic, never through a link; the CSV is a
   * measurement this program regenerates, so it replaces the last one */
  FILE *csv = NULL;
  fileio_atomic out;
  char err[512];
  if (csv_path) {
    if (fileio_atomic_open(&out, csv_path, FILEIO_REPLACE, err, sizeof err) !=
        INFINI_OK) {
      fprintf(stderr, "infini-bench: %s\n", err);
      return 1;
    }
    csv = out.f;
  }
  if (csv)
    fprintf(csv, "op,N,d,H,threads,impl,seconds,gflops,tokens_per_s,elements_per_ns,"
                 "peak_fraction,speedup_vs_ref,ratio_vs_openblas\n");

  double pk[2][17] = {{0}};
  for (int t = 1; t <= max_threads; t++) {
    pk[0][t] = peak(256, t);
    pk[1][t] = peak(512, t);
  }
  printf("infini-bench: H = %d heads, d_key = d_value = d; OPENBLAS_CORETYPE=%s\n", H,
         getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(default)");
  for (int t = 1; t <= max_threads; t++)
    printf("FMA peak, %d thread%s: AVX2 %.1f GFLOP/s, AVX-512 %.1f GFLOP/s\n", t,
           t > 1 ? "s" : "", pk[0][t], pk[1][t]);
  print_tile_ceiling("AVX2", 256, 0, pk[0][1]);
  print_tile_ceiling("AVX-512", 512, 0, pk[1][1]);
  const int have_bl = bl_available();
  printf("baseline: %s (exp: %s)\n",
         have_bl ? "OpenBLAS sgemm/sgemv + Sleef + loops" : "not built (no OpenBLAS)",
         bl_exp_name());

  /* Implementations: ref, every native backend, the baseline. */
  const infini_backend *impls[32];
  int n_impl = 0;
  for (size_t i = 0; i < infini_backend_count() && n_impl < 31; i++) {
    const infini_backend *be = infini_backend_at(i);
    if (be->availability() == INFINI_NATIVE)
      impls[n_impl++] = be;
  }

  const ptrdiff_t ds[2] = {64, 128}, ns[2] = {256, 2048};
  printf("\n%-16s %5s %4s %2s %-9s %10s %9s %11s %8s %6s %8s %8s\n", "op", "N", "d", "T",
         "impl", "us/call", "GFLOP/s", "tokens/s", "elem/ns", "peak", "x ref", "x blas");
  for (int si = 0; si < 2; si++)
    for (int di = 0; di < 2; di++) {
      const ptrdiff_t n = ns[si], d = ds[di];
      if ((quick && (n != 2048 || d != 128)) || (only_n && n != only_n) ||
          (only_d && d != only_d))
        continue;
      setup(n, d, have_bl);
      for (int op = 0; op < N_OPS; op++) {
        if (only_op && strcmp(only_op, op_names[op]))
          continue;
        double t_ref = 0;
        for (int t = 1; t <= max_threads; t++) {
          double t_bl = 0;
          const int want_bl = !only_impl || !strcmp(only_impl, "openblas");
          if (have_bl && want_bl)
            t_bl = measure(NULL, op, H, t, min_time, 0);
          for (int ii = -1; ii < n_impl; ii++) {
            const infini_backend *be = ii < 0 ? NULL : impls[ii];
            const char *name = be ? be->name : "openblas";
            double sec;
            if (only_impl && strcmp(only_impl, name))
              continue;
            if (!be) {
              if (!have_bl || !want_bl)
                continue;
              sec = t_bl;
            } else if (!strcmp(be->name, "ref")) {
              if (t > 1)
                continue;
              /* ref: one head and one repetition at N = 2048, scaled. */
              if (n >= 2048)
                sec = measure(be, op, 1, 1, min_time, 1) * H;
              else
                sec = measure(be, op, H, 1, min_time, 0);
              t_ref = sec;
            } else {
              sec = measure(be, op, H, t, min_time, 0);
            }
            const double fl = flops_of(op, (double)n, (double)d, (double)d) * H;
            const double gf = fl / sec * 1e-9;
            const double tok = (double)n / sec;
            const double epn = op == OP_FM ? (double)(n * d) * H / sec * 1e-9 : 0;
            const int isa = be && !strcmp(be->name, "avx2") ? 0 : 1;
            const double frac = pk[isa][t] > 0 ? gf / pk[isa][t] : 0;
            const double xref = t_ref > 0 ? t_ref / sec : 0;
            const double xbl = t_bl > 0 ? t_bl / sec : 0;
            char gfs[16] = "-", eps_s[16] = "-", fr[16] = "-", xr[16] = "-", xb[16] = "-";
            if (op != OP_FM) {
              snprintf(gfs, sizeof gfs, "%.1f", gf);
              snprintf(fr, sizeof fr, "%.0f%%", 100 * frac);
            } else {
              snprintf(eps_s, sizeof eps_s, "%.2f", epn);
            }
            if (xref > 0)
              snprintf(xr, sizeof xr, "%.1f", xref);
            if (xbl > 0)
              snprintf(xb, sizeof xb, "%.2f", xbl);
            printf("%-16s %5td %4td %2d %-9s %10.1f %9s %11.3g %8s %6s %8s %8s\n",
                   op_names[op], n, d, t, name, sec * 1e6, gfs, tok, eps_s, fr, xr, xb);
            if (csv)
              fprintf(csv, "%s,%td,%td,%d,%d,%s,%.9g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n",
                      op_names[op], n, d, H, t, name, sec, op == OP_FM ? 0 : gf, tok, epn,
                      op == OP_FM ? 0 : frac, xref, xbl);
            fflush(stdout);
          }
        }
      }
      teardown(have_bl);
    }
  if (csv && fileio_atomic_commit(&out, err, sizeof err) != INFINI_OK) {
    fprintf(stderr, "infini-bench: %s\n", err);
    return 1;
  }
  return 0;
}
