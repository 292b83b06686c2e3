/* src/state.h - the memory state of one layer. */
#ifndef INFINI_SRC_STATE_H
#define INFINI_SRC_STATE_H

#include "infini.h"

struct infini_state {
  ptrdiff_t n_kv_heads, d_key, d_value;
  float *m; /* n_kv_heads blocks of d_key x d_value, row stride d_value */
  float *z; /* n_kv_heads blocks of d_key */
};

#endif
