/* src/state.c - memory state objects: M_0 = 0 and z_0 = 0 (spec). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "src/state.h"
#include "src/validate.h"

/* Element counts of all M blocks and all z blocks, overflow-checked. */
static infini_status state_counts(ptrdiff_t heads, ptrdiff_t dk, ptrdiff_t dv,
                                  ptrdiff_t *m_count, ptrdiff_t *z_count) {
  infini_status st = check_sizes(heads, dk, dv);
  ptrdiff_t m_per_head;
  if (st == INFINI_OK)
    st = checked_mul(dk, dv, &m_per_head);
  if (st == INFINI_OK)
    st = checked_mul(heads, m_per_head, m_count);
  if (st == INFINI_OK)
    st = checked_mul(heads, dk, z_count);
  if (st == INFINI_OK && *m_count > PTRDIFF_MAX - *z_count)
    st = INFINI_ERR_OVERFLOW;
  if (st == INFINI_OK &&
      (size_t)(*m_count + *z_count) > SIZE_MAX / sizeof(float))
    st = INFINI_ERR_OVERFLOW;
  return st;
}

infini_status infini_state_bytes(ptrdiff_t heads, ptrdiff_t dk, ptrdiff_t dv,
                                 size_t *bytes) {
  if (!bytes)
    return INFINI_ERR_NULL;
  ptrdiff_t m_count, z_count;
  infini_status st = state_counts(heads, dk, dv, &m_count, &z_count);
  if (st == INFINI_OK)
    *bytes = (size_t)(m_count + z_count) * sizeof(float);
  return st;
}

infini_status infini_state_create(ptrdiff_t heads, ptrdiff_t dk, ptrdiff_t dv,
                                  infini_state **out) {
  if (!out)
    return INFINI_ERR_NULL;
  ptrdiff_t m_count, z_count;
  infini_status st = state_counts(heads, dk, dv, &m_count, &z_count);
  if (st != INFINI_OK)
    return st;
  infini_state *s = calloc(1, sizeof *s);
  if (!s)
    return INFINI_ERR_NOMEM;
  s->m = calloc((size_t)m_count, sizeof(float));
  s->z = calloc((size_t)z_count, sizeof(float));
  if (!s->m || !s->z) {
    infini_state_free(s);
    return INFINI_ERR_NOMEM;
  }
  s->n_kv_heads = heads;
  s->d_key = dk;
  s->d_value = dv;
  *out = s;
  return INFINI_OK;
}

void infini_state_free(infini_state *s) {
  if (!s)
    return;
  free(s->m);
  free(s->z);
  free(s);
}

static size_t m_bytes(const infini_state *s) {
  return (size_t)(s->n_kv_heads * s->d_key * s->d_value) * sizeof(float);
}

static size_t z_bytes(const infini_state *s) {
  return (size_t)(s->n_kv_heads * s->d_key) * sizeof(float);
}

infini_status infini_state_reset(infini_state *s) {
  if (!s)
    return INFINI_ERR_NULL;
  memset(s->m, 0, m_bytes(s));
  memset(s->z, 0, z_bytes(s));
  return INFINI_OK;
}

infini_status infini_state_copy(infini_state *dst, const infini_state *src) {
  if (!dst || !src)
    return INFINI_ERR_NULL;
  if (dst->n_kv_heads != src->n_kv_heads || dst->d_key != src->d_key ||
      dst->d_value != src->d_value)
    return INFINI_ERR_SHAPE;
  if (dst != src) {
    memcpy(dst->m, src->m, m_bytes(src));
    memcpy(dst->z, src->z, z_bytes(src));
  }
  return INFINI_OK;
}

infini_status infini_state_size(const infini_state *s, size_t *bytes) {
  if (!s || !bytes)
    return INFINI_ERR_NULL;
  *bytes = m_bytes(s) + z_bytes(s);
  return INFINI_OK;
}

infini_status infini_state_shape(const infini_state *s, ptrdiff_t *heads,
                                 ptrdiff_t *dk, ptrdiff_t *dv) {
  if (!s)
    return INFINI_ERR_NULL;
  if (heads)
    *heads = s->n_kv_heads;
  if (dk)
    *dk = s->d_key;
  if (dv)
    *dv = s->d_value;
  return INFINI_OK;
}

infini_status infini_state_head(infini_state *s, ptrdiff_t head, float **m,
                                ptrdiff_t *ldm, float **z) {
  if (!s || !m || !ldm || !z)
    return INFINI_ERR_NULL;
  if (head < 0 || head >= s->n_kv_heads)
    return INFINI_ERR_PARAM;
  *m = s->m + head * s->d_key * s->d_value;
  *ldm = s->d_value;
  *z = s->z + head * s->d_key;
  return INFINI_OK;
}
