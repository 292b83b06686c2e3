/* A program outside the source tree, built by scripts/install-test.sh
 * against an installed libinfini through pkg-config (shared, then static).
 * It proves the installed headers and library are usable on their own: it
 * prints the library version (the script compares it with pkg-config's),
 * then runs two segment steps of one head, whose outputs are exact in
 * float, and checks them. Exit status 0 when every value is right.
 *
 * The numbers (docs/spec.md): N = 1, d_key = d_value = 2, beta = 0 (gate
 * 1/2), eps = 0, linear update.
 *   Segment 1: M_0 = 0, z_0 = 0, so A_mem = 0 (S5: 0/0 gives 0); one token
 *   gives A_dot = v = (3, 4); A = (1.5, 2). sigma(k) = sigma(0, 1) = (1, 2),
 *   so M_1 = (1, 2)^T (3, 4) = [[3, 4], [6, 8]] and z_1 = (1, 2).
 *   Segment 2: sigma(q) = sigma(1, 0) = (2, 1); A_mem = (2*(3,4) +
 *   (6,8)) / (2*1 + 1*2) = (3, 4); A_dot = v = (1, 1); A = (2, 2.5). */
#include <infini.h>
#include <infini_model.h> /* installed too: it must compile on its own */

#include <math.h>
#include <stdio.h>

static int check(const char *what, const float *got, const float *want, int n) {
  int bad = 0;
  for (int i = 0; i < n; i++)
    if (fabsf(got[i] - want[i]) > 1e-6f) {
      fprintf(stderr, "consumer: %s[%d] = %.9g, expected %.9g\n", what, i,
              (double)got[i], (double)want[i]);
      bad = 1;
    }
  return bad;
}

int main(void) {
  printf("libinfini %s (specification %s)\n", infini_version(),
         INFINI_SPEC_VERSION);

  infini_context *ctx;
  infini_status st = infini_context_create(NULL, &ctx);
  if (st != INFINI_OK) {
    fprintf(stderr, "consumer: infini_context_create: %s\n", infini_strerror(st));
    return 1;
  }
  printf("backend %s\n", infini_context_backend(ctx)->name);

  const infini_head_shape shape = {.n = 1, .d_key = 2, .d_value = 2};
  const infini_step_params params = {
      .rule = INFINI_UPDATE_LINEAR, .beta = 0.0f, .eps = 0.0f,
      .scale = infini_default_scale(2)};
  float m[4] = {0}, z[2] = {0}, out[2];
  int bad = 0;

  const float q1[2] = {0, 0}, k1[2] = {0, 1}, v1[2] = {3, 4};
  st = infini_segment_step(ctx, &shape, &params, q1, 2, k1, 2, v1, 2, m, 2, z,
                           out, 2);
  if (st != INFINI_OK) {
    fprintf(stderr, "consumer: segment 1: %s\n", infini_strerror(st));
    infini_context_free(ctx);
    return 1;
  }
  bad |= check("segment 1 out", out, (const float[]){1.5f, 2.0f}, 2);
  bad |= check("M_1", m, (const float[]){3, 4, 6, 8}, 4);
  bad |= check("z_1", z, (const float[]){1, 2}, 2);

  const float q2[2] = {1, 0}, k2[2] = {0, 1}, v2[2] = {1, 1};
  st = infini_segment_step(ctx, &shape, &params, q2, 2, k2, 2, v2, 2, m, 2, z,
                           out, 2);
  if (st != INFINI_OK) {
    fprintf(stderr, "consumer: segment 2: %s\n", infini_strerror(st));
    infini_context_free(ctx);
    return 1;
  }
  bad |= check("segment 2 out", out, (const float[]){2.0f, 2.5f}, 2);
  infini_context_free(ctx);

  printf("segment steps: %s\n", bad ? "WRONG" : "ok");
  return bad;
}
