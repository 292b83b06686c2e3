/*
 * ref/mix.c - gated mixing, paper eq. (10) and (S12):
 *   A = sigmoid(beta) A_mem + (1 - sigmoid(beta)) A_dot
 * sigmoid(beta) weighs the memory term. 1 - sigmoid(beta) is computed as
 * sigmoid(-beta), which is the same number without the cancellation of
 * 1 - g for large beta, and exactly 0 or 1 at beta = +-inf.
 * out may equal a_mem or a_dot: each element is read before it is written.
 */
#include "ref/real.h"
#include "ref/ref.h"

infini_status REF(mix)(ptrdiff_t rows, ptrdiff_t cols, float beta,
                       const real *a_mem, ptrdiff_t ldm, const real *a_dot,
                       ptrdiff_t ldd, real *out, ptrdiff_t ldo) {
  const real g = REF(sigmoid)((real)beta);       /* weight of A_mem */
  const real one_minus_g = REF(sigmoid)(-(real)beta); /* weight of A_dot */
  for (ptrdiff_t i = 0; i < rows; i++)
    for (ptrdiff_t j = 0; j < cols; j++)
      out[i * ldo + j] = g * a_mem[i * ldm + j] + one_minus_g * a_dot[i * ldd + j];
  return INFINI_OK;
}
