/* conformance/util.c - small helpers of infini-conform (see conform.h). */
#include "config.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conformance/conform.h"

void cf_error(const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fputs("infini-conform: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void out_of_memory(void) {
  cf_error("out of memory");
  exit(CF_EXIT_USAGE);
}

void *cf_xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *cf_xcalloc(size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *cf_xrealloc(void *p, size_t bytes) {
  p = realloc(p, bytes ? bytes : 1);
  if (!p)
    out_of_memory();
  return p;
}

char *cf_xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = cf_xmalloc(n);
  memcpy(d, s, n);
  return d;
}

void cf_buf_printf(cf_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (need < 0)
    return;
  if (b->len + (size_t)need + 1 > b->cap) {
    b->cap = (b->len + (size_t)need + 1) * 2;
    b->s = cf_xrealloc(b->s, b->cap);
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)need;
}

char *cf_buf_take(cf_buf *b) {
  char *s = b->s;
  if (!s)
    s = cf_xstrdup("");
  b->s = NULL;
  b->len = b->cap = 0;
  return s;
}

const char *cf_fmt_num(double x, char buf[32]) {
  if (isnan(x))
    snprintf(buf, 32, "nan");
  else if (isinf(x))
    snprintf(buf, 32, "%s", x > 0 ? "inf" : "-inf");
  else
    snprintf(buf, 32, "%.9g", x);
  return buf;
}

void cf_fmt_index(size_t flat, int ndim, const size_t *dims, char *out,
                  size_t outlen) {
  size_t idx[VS_MAX_DIMS] = {0};
  if (ndim < 1 || ndim > VS_MAX_DIMS) {
    snprintf(out, outlen, "[%zu]", flat);
    return;
  }
  for (int d = ndim - 1; d >= 0; d--) {
    size_t n = dims[d] ? dims[d] : 1;
    idx[d] = flat % n;
    flat /= n;
  }
  size_t used = 0;
  out[0] = '\0';
  for (int d = 0; d < ndim && used < outlen; d++) {
    int w = snprintf(out + used, outlen - used, "[%zu]", idx[d]);
    if (w < 0)
      break;
    used += (size_t)w;
  }
}
