/*
 * conformance/model/infini-drift.c - drift of a backend's float model
 * against the double oracle over a long stream (docs/drift.md): per
 * segment and tensor (each layer's hidden state, the logits) the largest
 * absolute error, the normwise relative error and the ratio to the
 * model-level tolerance (docs/tolerances.md), as CSV; with gnuplot, a PNG
 * of the relative error and the ratio against the segment. Prints the
 * growth exponent of a least-squares fit rel.error ~ segment^k.
 *
 *   infini-drift [--preset NAME] [--segments S] [--backend NAME]
 *                [--csv FILE] [--png FILE] [--sites]
 *
 * --sites prints each rounding site's part of the tolerance as an
 * effective constant C (tol = u C ||expected||): the largest over the
 * segments and the means over the first and last quarter of the stream.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/model/dmodel.h"
#include "conformance/model/golden.h"
#include "ref/model_oracle.h"
#include "src/fileio.h"

typedef struct opts {
  const char *preset, *backend, *csv, *png;
  ptrdiff_t segments;
  bool sites; /* print each rounding site's part of the tolerance */
} opts;

typedef struct streams {
  infini_model_config c;
  ptrdiff_t T, S;
  int32_t *tok;
  float *fl, *fh;   /* float model: logits, hidden */
  double *ol, *oh;  /* oracle */
  double *tol;      /* [S x (L+1)] */
  double *parts;    /* [sites x S x (L+1)] */
} streams;

static bool parse(int argc, char **argv, opts *o) {
  *o = (opts){"tiny_linear_rope", "default", "drift.csv", NULL, 256, false};
  if (argc > 1 && strcmp(argv[argc - 1], "--sites") == 0)
    o->sites = true, argc--;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (strcmp(k, "--preset") == 0) o->preset = v;
    else if (strcmp(k, "--segments") == 0) o->segments = atol(v);
    else if (strcmp(k, "--backend") == 0) o->backend = v;
    else if (strcmp(k, "--csv") == 0) o->csv = v;
    else if (strcmp(k, "--png") == 0) o->png = v;
    else return false;
  }
  return argc % 2 == 1 && o->segments >= 1;
}

static bool alloc_streams(streams *s) {
  const size_t T = (size_t)s->T, nl = T * (size_t)s->c.vocab_size,
               nh = (size_t)s->c.n_layers * T * (size_t)s->c.d_model;
  s->tok = malloc(T * sizeof *s->tok);
  s->fl = malloc(nl * sizeof *s->fl);
  s->fh = malloc(nh * sizeof *s->fh);
  s->ol = malloc(nl * sizeof *s->ol);
  s->oh = malloc(nh * sizeof *s->oh);
  s->tol = malloc((size_t)(s->S * (s->c.n_layers + 1)) * sizeof *s->tol);
  s->parts = malloc((size_t)(DM_SITE_COUNT * s->S * (s->c.n_layers + 1)) *
                    sizeof *s->parts);
  return s->tok && s->fl && s->fh && s->ol && s->oh && s->tol && s->parts;
}

static void free_streams(streams *s) {
  void *all[] = {s->tok, s->fl, s->fh, s->ol, s->oh, s->tol, s->parts};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    free(all[i]);
}

/* Both models over the whole stream, and the tolerance. */
static bool run_all(const infini_model *model, streams *s, char *err, size_t errlen) {
  infini_model_state *st = NULL;
  infini_oracle_model *om = NULL;
  infini_oracle_state *os = NULL;
  bool ok = infini_model_state_create(model, &st) == INFINI_OK &&
            infini_model_forward(model, st, s->tok, s->T, s->fl, s->fh) == INFINI_OK &&
            infini_oracle_model_create(model, &om) == INFINI_OK &&
            infini_oracle_state_create(om, &os) == INFINI_OK &&
            infini_oracle_forward(om, os, s->tok, s->T, s->ol, s->oh) == INFINI_OK;
  if (!ok)
    snprintf(err, errlen, "the float model or the oracle failed");
  infini_model_state_free(st);
  infini_oracle_state_free(os);
  infini_oracle_model_free(om);
  return ok && mg_tolerance(model, s->tok, s->S, s->ol, s->oh, s->tol, s->parts, err,
                            errlen);
}

static double max_abs(const streams *s, ptrdiff_t t, ptrdiff_t seg) {
  const ptrdiff_t L = s->c.n_layers, N = s->c.segment_len;
  const ptrdiff_t w = t < L ? s->c.d_model : s->c.vocab_size;
  double m = 0.0;
  for (ptrdiff_t i = seg * N; i < (seg + 1) * N; i++)
    for (ptrdiff_t j = 0; j < w; j++) {
      const size_t k = (size_t)((t < L ? t * s->T + i : i) * w + j);
      const double e = t < L ? fabs((double)s->fh[k] - s->oh[k])
                             : fabs((double)s->fl[k] - s->ol[k]);
      m = e > m ? e : m;
    }
  return m;
}

/* The CSV; rel [S x (L+1)] receives the normwise relative errors. */
static bool write_csv(const streams *s, const char *path, double *rel) {
  const ptrdiff_t L = s->c.n_layers;
  /* the project's one writer (atomic, never through a link); the CSV is
   * a measurement this tool regenerates, so it replaces the last one */
  fileio_atomic a;
  if (fileio_atomic_open(&a, path, FILEIO_REPLACE, NULL, 0) != INFINI_OK)
    return false;
  FILE *f = a.f;
  fprintf(f, "segment,tensor,max_abs_error,rel_error,ratio_to_tolerance\n");
  for (ptrdiff_t seg = 0; seg < s->S; seg++)
    for (ptrdiff_t t = 0; t <= L; t++) {
      const mg_view got = {t < L ? s->fh : s->fl, NULL, s->T},
                    exp = {NULL, t < L ? s->oh : s->ol, s->T}, none = {0};
      const double e = mg_seg_norm(&s->c, t, seg, got, exp);
      char name[32];
      mg_tensor_name(&s->c, t, name, sizeof name);
      rel[seg * (L + 1) + t] = e / mg_seg_norm(&s->c, t, seg, exp, none);
      fprintf(f, "%td,%s,%.6e,%.6e,%.6e\n", seg, name, max_abs(s, t, seg),
              rel[seg * (L + 1) + t], e / s->tol[seg * (L + 1) + t]);
    }
  return fileio_atomic_commit(&a, NULL, 0) == INFINI_OK;
}

/* Least-squares slope of log(rel) against log(segment + 1): 0 means
 * bounded, 0.5 a random walk, 1 linear growth. Also the means of the
 * first and last quarters. */
static void report_growth(const streams *s, const double *rel) {
  const ptrdiff_t L = s->c.n_layers, S = s->S, q = S / 4 > 0 ? S / 4 : 1;
  for (ptrdiff_t t = 0; t <= L; t++) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0, first = 0, last = 0, n = 0;
    for (ptrdiff_t seg = 1; seg < S; seg++) { /* segment 0 has no memory read */
      const double x = log((double)seg + 1.0), y = log(rel[seg * (L + 1) + t] + 1e-300);
      sx += x, sy += y, sxx += x * x, sxy += x * y, n += 1;
    }
    for (ptrdiff_t seg = 0; seg < q; seg++) {
      first += rel[seg * (L + 1) + t] / (double)q;
      last += rel[(S - 1 - seg) * (L + 1) + t] / (double)q;
    }
    char name[32];
    mg_tensor_name(&s->c, t, name, sizeof name);
    const double k = n > 1 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0.0;
    printf("%-10s rel. error: first quarter %.3g, last quarter %.3g, fit ~ segment^%.3f\n",
           name, first, last, k);
  }
}

/* Site k's part of the tolerance at (seg, t) as an effective constant
 * C = part / (u ||expected||); k = DM_SITE_COUNT: the whole tolerance. */
static double site_constant(const streams *s, int k, ptrdiff_t seg, ptrdiff_t t) {
  const ptrdiff_t L = s->c.n_layers, cells = s->S * (L + 1);
  const mg_view e = {NULL, t < L ? s->oh : s->ol, s->T}, none = {0};
  const double part = k < DM_SITE_COUNT ? s->parts[k * cells + seg * (L + 1) + t]
                                        : s->tol[seg * (L + 1) + t];
  return part / (0x1p-24 * mg_seg_norm(&s->c, t, seg, e, none));
}

/* Per site and tensor: the largest C over the segments, and its mean over
 * the first and the last quarter of the stream (does the part grow?). */
static void report_sites(const streams *s) {
  const ptrdiff_t L = s->c.n_layers, q = s->S / 4 > 0 ? s->S / 4 : 1;
  printf("%-10s", "site");
  for (ptrdiff_t t = 0; t <= L; t++) {
    char name[32];
    mg_tensor_name(&s->c, t, name, sizeof name);
    printf(" %24s", name);
  }
  printf("\n%-10s", "");
  for (ptrdiff_t t = 0; t <= L; t++)
    printf(" %24s", "max (1st q., last q.)");
  printf("\n");
  for (int k = 0; k <= DM_SITE_COUNT; k++) {
    printf("%-10s", k < DM_SITE_COUNT ? dm_site_name((dm_site)k) : "total");
    for (ptrdiff_t t = 0; t <= L; t++) {
      double c = 0.0, first = 0.0, last = 0.0;
      for (ptrdiff_t seg = 0; seg < s->S; seg++) {
        const double r = site_constant(s, k, seg, t);
        c = r > c ? r : c;
        first += seg < q ? r / (double)q : 0.0;
        last += seg >= s->S - q ? r / (double)q : 0.0;
      }
      printf("  %7.1f (%6.1f, %6.1f)", c, first, last);
    }
    printf("\n");
  }
}

static void plot(const streams *s, const char *csv, const char *png) {
  FILE *g = popen("gnuplot 2>/dev/null", "w");
  if (!g)
    return;
  fprintf(g, "set terminal png size 1000,600\nset output '%s'\n"
             "set datafile separator ','\nset logscale y\nset key outside\n"
             "set xlabel 'segment'\nset ylabel 'normwise relative error'\n"
             "plot ", png);
  for (ptrdiff_t t = 0; t <= s->c.n_layers; t++) {
    char name[32];
    mg_tensor_name(&s->c, t, name, sizeof name);
    /* Points: the filter leaves gaps that would break lines. */
    fprintf(g, "%s'%s' using 1:(strcol(2) eq '%s' ? $4 : 1/0) with points pt 7 ps 0.5 title '%s'",
            t ? ", " : "", csv, name, name);
  }
  fprintf(g, "\n");
  if (pclose(g) != 0)
    fprintf(stderr, "infini-drift: gnuplot failed (is it installed?); no PNG\n");
}

int main(int argc, char **argv) {
  opts o;
  const mg_preset *p;
  if (!parse(argc, argv, &o) || !(p = mg_preset_find(o.preset))) {
    fprintf(stderr, "usage: infini-drift [--preset NAME] [--segments S] "
                    "[--backend NAME] [--csv FILE] [--png FILE] [--sites]\n");
    return 2;
  }
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char err[512] = "", path[4096], sha[65];
  streams s = {.S = o.segments};
  const infini_backend *be = NULL;
  infini_model *model = NULL;
  bool ok = mg_preset_config(p, &s.c) == INFINI_OK &&
            infini_backend_find(o.backend, &be) == INFINI_OK &&
            mg_weights_write(p, tmp, path, sizeof path, sha, err, sizeof err) &&
            infini_model_load(path, be, &model, err, sizeof err) == INFINI_OK;
  remove(path);
  s.T = s.S * s.c.segment_len;
  ok = ok && alloc_streams(&s);
  if (ok)
    mg_tokens(p->token_seed, s.c.vocab_size, s.T, s.tok);
  ok = ok && run_all(model, &s, err, sizeof err);
  double *rel = ok ? malloc(sizeof(double) * (size_t)(s.S * (s.c.n_layers + 1))) : NULL;
  ok = ok && rel && write_csv(&s, o.csv, rel);
  if (ok) {
    printf("%s on %s, %td segments of %td tokens: %s\n", p->name, be->name, s.S,
           s.c.segment_len, o.csv);
    report_growth(&s, rel);
    if (o.sites)
      report_sites(&s);
    if (o.png)
      plot(&s, o.csv, o.png);
  } else {
    fprintf(stderr, "infini-drift: %s\n", err[0] ? err : "failed");
  }
  free(rel);
  free_streams(&s);
  infini_model_free(model);
  return ok ? 0 : 1;
}
