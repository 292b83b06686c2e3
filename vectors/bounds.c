/*
 * vectors/bounds.c - the magnitudes of the tolerance model (bounds.h).
 * Each function cites the equation of docs/tolerances.md it implements.
 * Compiled with -ffp-contract=off: the aux arrays are part of the shipped
 * set and must rebuild bit for bit.
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include "ref/ref.h"
#include "vectors/bounds.h"

/* The oracle's deterministic exp (ref/exp_oracle.c). */
double infini_exp_oracle(double x);

/* ---- coefficients (tolerances.md, one section per operator) ------------ */

static double dmax(double a, double b) { return a > b ? a : b; }

double bd_c_feature_map(void) { return 1.5; }
double bd_c_retrieve(ptrdiff_t dk) { return (double)dk + 5; }
double bd_c_update_m(infini_update_rule rule, ptrdiff_t n, ptrdiff_t dk) {
  return rule == INFINI_UPDATE_DELTA ? dmax((double)n + 4, (double)dk + 5)
                                     : (double)n + 3;
}
double bd_c_update_z(ptrdiff_t n) { return (double)n + 2; }
double bd_c_mix(void) { return 7; }
double bd_c_attention(ptrdiff_t n, ptrdiff_t dk) {
  return dmax(4 * (double)n + 2, (double)dk + 1);
}
double bd_c_step_out(ptrdiff_t n, ptrdiff_t dk) {
  return dmax((double)dk + 5, 4 * (double)n + 2);
}

/* ---- sigma's error scale and condition (tolerances.md, "sigma") --------
 * shat(x): the scale of sigma's evaluation error: sigma(x) = x + 1 for
 *   x > 0 (relative error), 1 for x <= 0 (absolute error at the scale of 1,
 *   spec 2: exp or expm1 + 1), 0 for -inf (sigma(-inf) = +0 exactly).
 * kappa(x) = |x| sigma'(x): x for x > 0, |x| exp(x) for x <= 0, 0 at -inf. */
static double shat(double x) {
  if (x == -INFINITY)
    return 0;
  return x > 0 ? x + 1 : 1;
}

static double kappa(double x) {
  if (x == -INFINITY)
    return 0;
  return x > 0 ? x : -x * infini_exp_oracle(x);
}

static double sigma(double x) { return infini_ref_sigma_f64(x); }

/* ---- feature map (tolerances.md eq. FM) --------------------------------- */

void bd_feature_map(size_t count, const double *x, double *mag, double *cond) {
  for (size_t i = 0; i < count; i++) {
    mag[i] = (x[i] <= 0 && x[i] != -INFINITY) ? 1 : 0;
    cond[i] = kappa(x[i]);
  }
}

/* ---- retrieval (tolerances.md eq. R1-R3) ----------------------------------
 *   den   = sum_c s_c z_c + eps               (computed as the oracle does)
 *   Dmag  = sum_c shat_c |z_c| + eps
 *   mag   = (sum_c shat_c |M_cj| + |A_ij| Dmag) / |den|
 *         + (sum_c s_c Mhat_cj + |A_ij| sum_c s_c zhat_c) / |den|
 *   cond  = (sum_c kappa_c (|M_cj| + |A_ij| |z_c|)
 *            + sum_c s_c Mc_cj + |A_ij| sum_c s_c zc_c) / |den|
 * Rows with den == 0 (zero-row rule) have mag = cond = 0: exactly 0. */
void bd_retrieve(ptrdiff_t n, ptrdiff_t dk, ptrdiff_t dv, const double *q,
                 const double *m, const double *z, double eps, const double *a,
                 const double *mhat, const double *zhat, const double *mc,
                 const double *zc, double *mag, double *cond) {
  for (ptrdiff_t i = 0; i < n; i++) {
    const double *qi = q + i * dk;
    double den = 0, dmag = 0, szhat = 0, szc = 0;
    for (ptrdiff_t c = 0; c < dk; c++) {
      double s = sigma(qi[c]);
      den += s * z[c];
      dmag += shat(qi[c]) * fabs(z[c]);
      if (zhat)
        szhat += s * zhat[c];
      szc += s * zc[c];
    }
    den += eps;
    dmag += eps;
    for (ptrdiff_t j = 0; j < dv; j++) {
      double aij = fabs(a[i * dv + j]);
      if (den == 0) {
        mag[i * dv + j] = cond[i * dv + j] = 0;
        continue;
      }
      double nmag = 0, prop = 0, cq = 0, cs = 0;
      for (ptrdiff_t c = 0; c < dk; c++) {
        double s = sigma(qi[c]), mcj = m[c * dv + j];
        nmag += shat(qi[c]) * fabs(mcj);
        if (mhat)
          prop += s * mhat[c * dv + j];
        cq += kappa(qi[c]) * (fabs(mcj) + aij * fabs(z[c]));
        cs += s * mc[c * dv + j];
      }
      double ad = fabs(den);
      mag[i * dv + j] = (nmag + aij * dmag) / ad + (prop + aij * szhat) / ad;
      cond[i * dv + j] = (cq + cs + aij * szc) / ad;
    }
  }
}

/* ---- updates (tolerances.md eq. U1-U4) -------------------------------------
 * linear: Mhat' = Mhat + |M| + sum_t shat_tr |v_tc|
 *         Mc'   = Mc + sum_t (s_tr + kappa_tr) |v_tc|
 * delta:  with Pred = retrieval of the keys from (M, z), W = V - Pred,
 *         PM, PC its magnitudes (R2, R3, with the propagated Mhat, Mc):
 *         Mhat' = Mhat + |M| + sum_t shat_tr |W_tc| + sum_t s_tr PM_tc
 *         Mc'   = Mc + sum_t (s_tr |v_tc| + kappa_tr |W_tc| + s_tr PC_tc)
 * both:   zhat' = zhat + |z| + sum_t shat_tr,  zc' = zc + sum_t kappa_tr */
void bd_update(infini_update_rule rule, ptrdiff_t n, ptrdiff_t dk,
               ptrdiff_t dv, const double *k, const double *v, const double *m,
               const double *z, double eps, double *mhat, double *zhat,
               double *mc, double *zc) {
  size_t nv = (size_t)n * (size_t)dv;
  double *w = calloc(nv, sizeof *w), *pm = calloc(nv, sizeof *pm),
         *pc = calloc(nv, sizeof *pc);
  if (!w || !pm || !pc)
    abort();
  if (rule == INFINI_UPDATE_DELTA) {
    infini_head_shape sh = {n, dk, dv};
    infini_ref_retrieve_f64(&sh, k, dk, m, dv, z, (float)eps, w, dv);
    bd_retrieve(n, dk, dv, k, m, z, eps, w, mhat, zhat, mc, zc, pm, pc);
    for (size_t i = 0; i < nv; i++)
      w[i] = v[i] - w[i];
  } else {
    for (size_t i = 0; i < nv; i++)
      w[i] = v[i];
  }
  for (ptrdiff_t r = 0; r < dk; r++) {
    for (ptrdiff_t c = 0; c < dv; c++) {
      double hat = fabs(m[r * dv + c]), cnd = 0;
      for (ptrdiff_t t = 0; t < n; t++) {
        double x = k[t * dk + r], s = sigma(x);
        double wt = fabs(w[t * dv + c]), vt = fabs(v[t * dv + c]);
        hat += shat(x) * wt;
        if (rule == INFINI_UPDATE_DELTA) {
          hat += s * pm[t * dv + c];
          cnd += s * vt + kappa(x) * wt + s * pc[t * dv + c];
        } else {
          cnd += (s + kappa(x)) * vt;
        }
      }
      mhat[r * dv + c] += hat;
      mc[r * dv + c] += cnd;
    }
    double h = fabs(z[r]), cz = 0;
    for (ptrdiff_t t = 0; t < n; t++) {
      h += shat(k[t * dk + r]);
      cz += kappa(k[t * dk + r]);
    }
    zhat[r] += h;
    zc[r] += cz;
  }
  free(w);
  free(pm);
  free(pc);
}

/* ---- mixing (tolerances.md eq. X1-X2) ----------------------------------------
 *   mag  = |g a_mem| + |a_dot| + g mem_mag + h dot_mag
 *   cond = g mem_cond + h dot_cond,   g = sigmoid(beta), h = sigmoid(-beta) */
void bd_mix(size_t count, float beta, const double *a_mem, const double *a_dot,
            const double *mem_mag, const double *dot_mag,
            const double *mem_cond, const double *dot_cond, double *mag,
            double *cond) {
  double g = infini_ref_sigmoid_f64((double)beta);
  double h = infini_ref_sigmoid_f64(-(double)beta);
  for (size_t i = 0; i < count; i++) {
    double mm = mem_mag ? mem_mag[i] : 0, dm = dot_mag ? dot_mag[i] : 0;
    /* 0 * x stays 0 for a closed gate side (beta = +-inf) unless x is NaN */
    mag[i] = fabs(g * a_mem[i]) + fabs(a_dot[i]) + (g != 0 ? g * mm : 0) +
             (h != 0 ? h * dm : 0);
    cond[i] = (g != 0 ? g * mem_cond[i] : 0) + (h != 0 ? h * dot_cond[i] : 0);
  }
}

/* ---- local attention (tolerances.md eq. A1-A3) -------------------------------
 * With S_ij = scale q_i.k_j, m_i = max_{j<=i} S_ij, P_ij = exp(S_ij - m_i),
 * L_i = sum_j P_ij, Smag_ij = |scale| sum_c |q_ic k_jc|:
 *   Vmag = sum_j P_ij |v_jc| / L_i
 *   mag  = Vmag + sum_j P_ij (Smag_ij + |S_ij - m_i| + 1) |v_jc - A_ic| / L_i
 *   cond = Vmag + 2 sum_j P_ij Smag_ij |v_jc - A_ic| / L_i */
void bd_attention(ptrdiff_t n, ptrdiff_t dk, ptrdiff_t dv, const double *q,
                  const double *k, const double *v, double scale,
                  const double *a, double *mag, double *cond) {
  double *s = malloc(sizeof *s * (size_t)n), *smag = malloc(sizeof *smag * (size_t)n),
         *p = malloc(sizeof *p * (size_t)n);
  if (!s || !smag || !p)
    abort();
  for (ptrdiff_t i = 0; i < n; i++) {
    double mx = 0, l = 0;
    for (ptrdiff_t j = 0; j <= i; j++) {
      double dot = 0, am = 0;
      for (ptrdiff_t c = 0; c < dk; c++) {
        dot += q[i * dk + c] * k[j * dk + c];
        am += fabs(q[i * dk + c] * k[j * dk + c]);
      }
      s[j] = scale * dot;
      smag[j] = fabs(scale) * am;
      if (j == 0 || s[j] > mx || s[j] != s[j])
        mx = s[j];
    }
    for (ptrdiff_t j = 0; j <= i; j++) {
      p[j] = infini_exp_oracle(s[j] - mx);
      l += p[j];
    }
    for (ptrdiff_t c = 0; c < dv; c++) {
      double aic = a[i * dv + c], vm = 0, wm = 0, cm = 0;
      for (ptrdiff_t j = 0; j <= i; j++) {
        double vj = v[j * dv + c], dev = fabs(vj - aic);
        vm += p[j] * fabs(vj);
        wm += p[j] * (smag[j] + fabs(s[j] - mx) + 1) * dev;
        cm += p[j] * smag[j] * dev;
      }
      mag[i * dv + c] = vm / l + wm / l;
      cond[i * dv + c] = vm / l + 2 * cm / l;
    }
  }
  free(s);
  free(smag);
  free(p);
}
