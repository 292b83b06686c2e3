/**
 * @file infini.h
 * @brief Public C API of infini, the reference implementation of
 *        Infini-attention (Munkhdalai et al., 2024, arXiv:2404.07143).
 *
 * Conventions shared by every function (docs/spec.md is normative):
 *
 * - Tensors are float32, row-major. A matrix argument @c x with @c rows rows
 *   and @c cols columns comes with a row stride @c ldx, counted in elements,
 *   with @c ldx >= @c cols. Element (i, j) is @c x[i * ldx + j]. This lets a
 *   head's Q, K or V be used in place inside an [N x H*d] projection buffer.
 * - Sizes and strides are @c ptrdiff_t: a size must be >= 1; any size whose
 *   byte count (rows - 1) * ld + cols elements overflows @c size_t is
 *   rejected with ::INFINI_ERR_OVERFLOW.
 * - Every function returns an ::infini_status; ::infini_strerror turns it
 *   into a sentence. Arguments are validated before any output is written:
 *   on an error return, no output and no memory state has been modified.
 * - Aliasing: outputs must not overlap inputs unless the function's
 *   documentation says so. Overlap that is not allowed is detected and
 *   rejected with ::INFINI_ERR_ALIAS.
 */
#ifndef INFINI_H
#define INFINI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the specification (docs/spec.md) this library implements. */
#define INFINI_SPEC_VERSION "1.1"

/**
 * Version of the backend table layout (::infini_backend). A backend built
 * against another ABI version is refused by ::infini_backend_register.
 */
#define INFINI_ABI_VERSION 1u

/** Status codes. 0 is success; every other value names one kind of error. */
typedef enum infini_status {
  INFINI_OK = 0,              /**< success */
  INFINI_ERR_NULL = 1,        /**< a required pointer argument is NULL */
  INFINI_ERR_SIZE = 2,        /**< a size is zero or negative */
  INFINI_ERR_OVERFLOW = 3,    /**< a byte count does not fit in size_t */
  INFINI_ERR_STRIDE = 4,      /**< a row stride is smaller than the row width */
  INFINI_ERR_PARAM = 5,       /**< a parameter is NaN, infinite or out of range */
  INFINI_ERR_ALIAS = 6,       /**< an output overlaps an input it may not alias */
  INFINI_ERR_SHAPE = 7,       /**< shapes disagree (e.g. H_kv does not divide H) */
  INFINI_ERR_NOMEM = 8,       /**< memory allocation failed */
  INFINI_ERR_NOT_FOUND = 9,   /**< no backend with that name */
  INFINI_ERR_ABI = 10,        /**< backend table has another ABI version or is incomplete */
  INFINI_ERR_UNAVAILABLE = 11,/**< backend cannot run on this CPU */
  INFINI_ERR_PLUGIN = 12,     /**< a plugin could not be loaded */
  INFINI_ERR_BACKEND = 13,    /**< a backend kernel reported a failure */
  INFINI_ERR_FULL = 14,       /**< the backend registry is full */
  INFINI_ERR_IO = 15,         /**< a file could not be opened, read or written */
  INFINI_ERR_FORMAT = 16,     /**< a file is malformed, truncated or fails its checksum */
  INFINI_ERR_VERSION = 17,    /**< a file has a format version this library does not read */
  INFINI_ERR_MISMATCH = 18    /**< a file belongs to another model (config or weights differ) */
} infini_status;

/** The number of distinct status codes (INFINI_OK included). */
#define INFINI_STATUS_COUNT 19

/**
 * @brief A one-sentence English description of a status code.
 * @return a static string; never NULL (unknown codes get a sentence too).
 */
const char *infini_strerror(infini_status status);

/** @brief The library's version string, e.g. "0.1.0". */
const char *infini_version(void);

/** Memory update rule (docs/spec.md, equations (8) and (9)). */
typedef enum infini_update_rule {
  INFINI_UPDATE_LINEAR = 0,   /**< M += sigma(K)^T V (8) */
  INFINI_UPDATE_DELTA = 1     /**< M += sigma(K)^T (V - sigma(K) M / (sigma(K) z)) (9) */
} infini_update_rule;

/** Shape of one head's segment. */
typedef struct infini_head_shape {
  ptrdiff_t n;        /**< tokens in the segment, N >= 1 */
  ptrdiff_t d_key;    /**< query/key width, >= 1 */
  ptrdiff_t d_value;  /**< value width, >= 1 */
} infini_head_shape;

/** Parameters of one head's segment step. */
typedef struct infini_step_params {
  infini_update_rule rule; /**< linear or delta */
  float beta;   /**< gate: sigmoid(beta) weighs A_mem; +-inf allowed, NaN is not */
  float eps;    /**< retrieval denominator offset, finite and >= 0 (spec default 0) */
  float scale;  /**< softmax scale, finite (spec default 1/sqrt(d_key)) */
} infini_step_params;

/** Shape and parameters of an Infini-attention layer. */
typedef struct infini_layer_config {
  ptrdiff_t n_heads;     /**< H, query heads */
  ptrdiff_t n_kv_heads;  /**< H_kv, key/value heads; must divide H */
  ptrdiff_t d_key;       /**< per-head query/key width */
  ptrdiff_t d_value;     /**< per-head value width */
  infini_update_rule rule; /**< linear or delta, for every head */
  float eps;             /**< as in ::infini_step_params */
  float scale;           /**< as in ::infini_step_params */
} infini_layer_config;

/* ------------------------------------------------------------------------ */
/** @name Backends
 *  A backend is a table of kernels. The library validates every argument
 *  before calling a kernel, so kernels may assume: pointers non-NULL, sizes
 *  >= 1, strides >= row widths, parameters valid, aliasing as documented.
 *  @{ */

/** Where a backend can run on the current machine. */
typedef enum infini_availability {
  INFINI_UNAVAILABLE = 0, /**< cannot run here (CPU lacks the ISA) */
  INFINI_NATIVE = 1,      /**< runs on the CPU's own instructions */
  INFINI_EMULATED = 2     /**< runs through emulation (e.g. SIMDe on a foreign ISA) */
} infini_availability;

/**
 * @brief The backend table: what every backend, built in or plugin,
 *        implements. Kernels return ::INFINI_OK or ::INFINI_ERR_BACKEND.
 *
 * Entries marked "optional" may be NULL; the library then composes the
 * operation from the required entries exactly as docs/spec.md defines it.
 * @c work points to at least workspace_bytes(shape) bytes aligned to 64,
 * owned by the caller, with unspecified contents.
 */
typedef struct infini_backend {
  uint32_t abi_version;     /**< must equal ::INFINI_ABI_VERSION */
  uint32_t struct_size;     /**< sizeof(infini_backend) at build time */
  const char *name;         /**< short unique name, e.g. "ref", "avx2" */
  const char *description;  /**< one line for listings */

  /** Can this backend run here? Required. */
  infini_availability (*availability)(void);

  /** Scratch bytes the kernels below need for a segment of this shape.
   *  Optional: NULL means none. */
  size_t (*workspace_bytes)(const infini_head_shape *shape);

  /** y = sigma(x), rows x cols. Required. x == y with ldx == ldy allowed. */
  infini_status (*feature_map)(ptrdiff_t rows, ptrdiff_t cols,
                               const float *x, ptrdiff_t ldx,
                               float *y, ptrdiff_t ldy);

  /** a = sigma(q) m / (sigma(q) z + eps), rows of a that divide by 0 are 0.
   *  q: n x d_key, m: d_key x d_value, z: d_key, a: n x d_value. Required. */
  infini_status (*retrieve)(const infini_head_shape *shape,
                            const float *q, ptrdiff_t ldq,
                            const float *m, ptrdiff_t ldm, const float *z,
                            float eps, float *a, ptrdiff_t lda);

  /** m += sigma(k)^T v ; z += sum_t sigma(k_t). Required. */
  infini_status (*update_linear)(const infini_head_shape *shape,
                                 const float *k, ptrdiff_t ldk,
                                 const float *v, ptrdiff_t ldv,
                                 float *m, ptrdiff_t ldm, float *z);

  /** m += sigma(k)^T (v - sigma(k) m / (sigma(k) z + eps)), z as linear.
   *  Required. */
  infini_status (*update_delta)(const infini_head_shape *shape,
                                const float *k, ptrdiff_t ldk,
                                const float *v, ptrdiff_t ldv,
                                float *m, ptrdiff_t ldm, float *z,
                                float eps, void *work);

  /** out = sigmoid(beta) a_mem + (1 - sigmoid(beta)) a_dot, rows x cols.
   *  out may equal a_mem or a_dot (same stride). Required. */
  infini_status (*mix)(ptrdiff_t rows, ptrdiff_t cols, float beta,
                       const float *a_mem, ptrdiff_t ldm,
                       const float *a_dot, ptrdiff_t ldd,
                       float *out, ptrdiff_t ldo);

  /** out = softmax(scale q k^T, causal) v. Required. */
  infini_status (*local_attention)(const infini_head_shape *shape,
                                   const float *q, ptrdiff_t ldq,
                                   const float *k, ptrdiff_t ldk,
                                   const float *v, ptrdiff_t ldv,
                                   float scale, float *out, ptrdiff_t ldo,
                                   void *work);

  /** One head's segment step (spec section "Segment step"). Optional. */
  infini_status (*segment_step)(const infini_head_shape *shape,
                                const infini_step_params *params,
                                const float *q, ptrdiff_t ldq,
                                const float *k, ptrdiff_t ldk,
                                const float *v, ptrdiff_t ldv,
                                float *m, ptrdiff_t ldm, float *z,
                                float *out, ptrdiff_t ldo, void *work);

  /** A whole layer's segment step (see ::infini_layer_step), with the
   *  memory of key/value head g at m + g*d_key*d_value (row stride d_value)
   *  and z + g*d_key. @c work has workspace_bytes of the per-head shape.
   *  Optional: NULL runs segment_step per head. */
  infini_status (*layer_step)(const struct infini_layer_config *config,
                              ptrdiff_t n,
                              const float *q, ptrdiff_t ldq,
                              const float *k, ptrdiff_t ldk,
                              const float *v, ptrdiff_t ldv,
                              const float *beta, float *m, float *z,
                              float *out, ptrdiff_t ldo, void *work);

  /* Entries added within ABI version 1. A table built before them has a
   * smaller struct_size (::INFINI_BACKEND_SIZE_V1); the library then
   * treats them as NULL and never reads them. */

  /** Dense layers of the model (docs/model.md, (M3)): y = x W^T with W
   *  [d_out x d_in] packed once, when a model is loaded, in the backend's
   *  own layout. Optional: linear_packed_bytes, linear_pack and linear are
   *  all set or all NULL; NULL runs the dense layers on the library's
   *  portable float code. linear_packed_bytes: bytes of the packed W. */
  size_t (*linear_packed_bytes)(ptrdiff_t d_in, ptrdiff_t d_out);

  /** Pack W (row-major, row stride d_in) into @c packed
   *  (linear_packed_bytes bytes, aligned to 64). */
  void (*linear_pack)(ptrdiff_t d_in, ptrdiff_t d_out, const float *w,
                      float *packed);

  /** y = x W^T: x [n x d_in], y [n x d_out], W packed by linear_pack; y
   *  overlaps neither x nor W. A row of y must not depend on the other
   *  rows of the call (a token decoded alone gets the value it gets in a
   *  whole segment). */
  infini_status (*linear)(ptrdiff_t n, ptrdiff_t d_in, ptrdiff_t d_out,
                          const float *x, ptrdiff_t ldx, const float *packed,
                          float *y, ptrdiff_t ldy);

  /** The model's RMSNorm (docs/model.md, (M2)): y = x / sqrt(mean(x^2) +
   *  eps) * w, n rows of d; y overlaps neither x nor w. Optional (NULL:
   *  the portable float code). A row of y depends only on its row of x. */
  infini_status (*rmsnorm)(ptrdiff_t n, ptrdiff_t d, const float *x,
                           ptrdiff_t ldx, const float *w, float eps,
                           float *y, ptrdiff_t ldy);

  /** The SwiGLU gate (docs/model.md, (M10)): g = silu(g) * up, count
   *  elements, silu(a) = a / (1 + exp(-a)). Optional (NULL: the portable
   *  float code). */
  infini_status (*swiglu)(ptrdiff_t count, float *g, const float *up);

  /** The model's RoPE (docs/model.md, (M5)): for row r (position p0 + r)
   *  and each of n_heads heads of d_head (even) columns, the pairs
   *  (a, b) = (x_i, x_{i+d_head/2}) rotated by the angle of the table:
   *  y_i = a c - b s, y_{i+d_head/2} = b c + a s, with c = cos_t[(p0 + r)
   *  d_head/2 + i] and s likewise from sin_t; each product and the sum
   *  rounded on its own, as written (no fused multiply-add), so every
   *  backend gives the portable code's bits. y may equal x. Optional
   *  (NULL: the portable float code). */
  infini_status (*rope)(ptrdiff_t n, ptrdiff_t n_heads, ptrdiff_t d_head,
                        ptrdiff_t p0, const float *cos_t, const float *sin_t,
                        const float *x, ptrdiff_t ldx, float *y, ptrdiff_t ldy);
} infini_backend;

/** struct_size of a version-1 table built before the dense-layer entries:
 *  still accepted (plugins built then keep working). */
#define INFINI_BACKEND_SIZE_V1 offsetof(infini_backend, linear_packed_bytes)

/** struct_size of a version-1 table built with the dense-layer, rmsnorm
 *  and swiglu entries but before rope: still accepted. */
#define INFINI_BACKEND_SIZE_V2 offsetof(infini_backend, rope)

/** @brief Number of registered backends (built-in ones first). */
size_t infini_backend_count(void);

/** @brief The i-th registered backend, or NULL when i is out of range. */
const infini_backend *infini_backend_at(size_t i);

/**
 * @brief Find a registered backend by name.
 * @param name  backend name; "default" (or NULL) selects the dispatched
 *              default: $INFINI_BACKEND if set, else the best native one.
 * @param out   receives the backend table (left unchanged on error).
 * @return ::INFINI_ERR_NOT_FOUND when no backend has that name.
 */
infini_status infini_backend_find(const char *name, const infini_backend **out);

/** Longest backend name (bytes): names are printed in one-line reports. */
#define INFINI_BACKEND_NAME_MAX 64

/**
 * @brief Check a backend table: ABI version, struct size (this header's,
 *        ::INFINI_BACKEND_SIZE_V1 or ::INFINI_BACKEND_SIZE_V2), name (1 to
 *        ::INFINI_BACKEND_NAME_MAX printable ASCII characters, no space),
 *        required entries, and the dense-layer entries all set or all
 *        NULL. Used by ::infini_backend_register and by plugin loaders.
 */
infini_status infini_backend_check(const infini_backend *backend);

/**
 * @brief Add a backend (e.g. a plugin's) to the registry. The table must
 *        outlive its registration. Names must be unique and not "default"
 *        (which ::infini_backend_find reserves for the dispatched backend).
 * @return ::INFINI_ERR_ABI for a bad table (a bad name included),
 *         ::INFINI_ERR_PARAM for a duplicate or reserved name,
 *         ::INFINI_ERR_FULL when the registry is full.
 */
infini_status infini_backend_register(const infini_backend *backend);

/** Name of the symbol a plugin shared object exports: a function
 *  `const infini_backend *infini_plugin_backend(void)`. */
#define INFINI_PLUGIN_SYMBOL "infini_plugin_backend"

/** Type of the plugin entry point named by ::INFINI_PLUGIN_SYMBOL. */
typedef const infini_backend *(*infini_plugin_entry)(void);

/**
 * @brief dlopen a plugin, check its table and register it.
 * @return ::INFINI_ERR_PLUGIN when the file cannot be loaded or lacks the
 *         entry point; ::INFINI_ERR_ABI for a bad table.
 */
infini_status infini_plugin_load(const char *path, const infini_backend **out);
/** @} */

/* ------------------------------------------------------------------------ */
/** @name Context
 *  A context pairs a backend with a scratch arena that grows on demand and
 *  is then reused, so steady-state calls allocate nothing. A context is not
 *  thread-safe: use one per thread.
 *  @{ */

/** Opaque context: a backend and its scratch arena. */
typedef struct infini_context infini_context;

/** @brief Create a context on a backend (NULL: the dispatched default). */
infini_status infini_context_create(const infini_backend *backend,
                                    infini_context **out);
/** @brief Free a context (NULL is ignored). */
void infini_context_free(infini_context *ctx);
/** @brief The context's backend. */
const infini_backend *infini_context_backend(const infini_context *ctx);
/** @} */

/* ------------------------------------------------------------------------ */
/** @name Memory state
 *  The compressive memory of one layer: for each of n_kv_heads heads a
 *  d_key x d_value matrix M (packed, row stride d_value) and a d_key
 *  vector z, all zero after creation and reset (spec: M_0 = 0, z_0 = 0).
 *  @{ */

/** Opaque memory state of one layer (M and z of every key/value head). */
typedef struct infini_state infini_state;

/** @brief Create a zeroed state. */
infini_status infini_state_create(ptrdiff_t n_kv_heads, ptrdiff_t d_key,
                                  ptrdiff_t d_value, infini_state **out);
/** @brief Free a state (NULL is ignored). */
void infini_state_free(infini_state *state);
/** @brief Zero every M and z. */
infini_status infini_state_reset(infini_state *state);
/** @brief Copy src into dst; both must have the same shape
 *         (::INFINI_ERR_SHAPE otherwise). */
infini_status infini_state_copy(infini_state *dst, const infini_state *src);
/** @brief Bytes of M and z a state of this shape holds:
 *         n_kv_heads * d_key * (d_value + 1) * sizeof(float). */
infini_status infini_state_bytes(ptrdiff_t n_kv_heads, ptrdiff_t d_key,
                                 ptrdiff_t d_value, size_t *bytes);
/** @brief Bytes of M and z held by an existing state. */
infini_status infini_state_size(const infini_state *state, size_t *bytes);
/** @brief Shape of a state. Any output pointer may be NULL. */
infini_status infini_state_shape(const infini_state *state,
                                 ptrdiff_t *n_kv_heads, ptrdiff_t *d_key,
                                 ptrdiff_t *d_value);
/**
 * @brief Direct access to head @p head's memory: M (row stride *ldm) and z.
 *        The pointers stay valid until the state is freed.
 * @return ::INFINI_ERR_PARAM when head is outside 0..n_kv_heads-1.
 */
infini_status infini_state_head(infini_state *state, ptrdiff_t head,
                                float **m, ptrdiff_t *ldm, float **z);
/** @} */

/* ------------------------------------------------------------------------ */
/** @name Operators (one head)
 *  @{ */

/** @brief y = sigma(x) = ELU(x) + 1 element-wise (spec eq. F).
 *  y may equal x only with ldy == ldx (in place). */
infini_status infini_feature_map(infini_context *ctx, ptrdiff_t rows,
                                 ptrdiff_t cols, const float *x, ptrdiff_t ldx,
                                 float *y, ptrdiff_t ldy);

/** @brief x = sigma(x) in place. */
infini_status infini_feature_map_inplace(infini_context *ctx, ptrdiff_t rows,
                                         ptrdiff_t cols, float *x,
                                         ptrdiff_t ldx);

/** @brief Memory retrieval (paper eq. 7):
 *  A_mem[i] = sigma(q_i) M / (sigma(q_i) . z + eps), and exactly 0 for a
 *  row whose denominator is exactly 0. @p a must not overlap any input. */
infini_status infini_retrieve(infini_context *ctx, const infini_head_shape *shape,
                              const float *q, ptrdiff_t ldq,
                              const float *m, ptrdiff_t ldm, const float *z,
                              float eps, float *a, ptrdiff_t lda);

/** @brief Linear memory update (paper eq. 8), in place on m and z.
 *  m and z must not overlap each other or k, v. */
infini_status infini_update_linear(infini_context *ctx,
                                   const infini_head_shape *shape,
                                   const float *k, ptrdiff_t ldk,
                                   const float *v, ptrdiff_t ldv,
                                   float *m, ptrdiff_t ldm, float *z);

/** @brief Delta memory update (paper eq. 9), in place on m and z; the
 *  prediction reads the memory before the update. Aliasing as linear. */
infini_status infini_update_delta(infini_context *ctx,
                                  const infini_head_shape *shape,
                                  const float *k, ptrdiff_t ldk,
                                  const float *v, ptrdiff_t ldv,
                                  float *m, ptrdiff_t ldm, float *z, float eps);

/** @brief Gated mixing (paper eq. 10):
 *  out = sigmoid(beta) a_mem + (1 - sigmoid(beta)) a_dot. beta may be
 *  +-inf (gate fully open or closed), not NaN. out may equal a_mem or
 *  a_dot when the strides match; no other overlap. */
infini_status infini_mix(infini_context *ctx, ptrdiff_t rows, ptrdiff_t cols,
                         float beta, const float *a_mem, ptrdiff_t ldm,
                         const float *a_dot, ptrdiff_t ldd,
                         float *out, ptrdiff_t ldo);

/** @brief Causal local attention (paper eq. 6 with an explicit scale):
 *  out = softmax(scale q k^T + causal mask) v. scale must be finite.
 *  out must not overlap any input. */
infini_status infini_local_attention(infini_context *ctx,
                                     const infini_head_shape *shape,
                                     const float *q, ptrdiff_t ldq,
                                     const float *k, ptrdiff_t ldk,
                                     const float *v, ptrdiff_t ldv,
                                     float scale, float *out, ptrdiff_t ldo);

/** @brief The spec's default softmax scale, 1/sqrt(d_key); 0 (never NaN)
 *  for d_key < 1, a size every operator refuses with ::INFINI_ERR_SIZE. */
float infini_default_scale(ptrdiff_t d_key);

/**
 * @brief One head's segment step (spec "Segment step"): retrieve with the
 *        old memory, local attention, mix, then update m and z.
 *        out must not overlap q, k, v, m or z.
 */
infini_status infini_segment_step(infini_context *ctx,
                                  const infini_head_shape *shape,
                                  const infini_step_params *params,
                                  const float *q, ptrdiff_t ldq,
                                  const float *k, ptrdiff_t ldk,
                                  const float *v, ptrdiff_t ldv,
                                  float *m, ptrdiff_t ldm, float *z,
                                  float *out, ptrdiff_t ldo);
/** @} */

/* ------------------------------------------------------------------------ */
/** @name Layer step (H query heads, H_kv key/value heads)
 *  @{ */


/**
 * @brief One segment through a layer.
 *
 * Layout (row-major, strides in elements): q is [n x H*d_key], head h at
 * column h*d_key; k is [n x H_kv*d_key]; v is [n x H_kv*d_value]; out is
 * [n x H*d_value], head h at column h*d_value. Query head h reads key/value
 * head h / (H / H_kv) (consecutive query heads share a key/value head) and
 * that head's memory in @p state; beta has H entries. Every query head of a
 * group retrieves from the memory before the group's update; each
 * key/value head's memory is updated once per segment.
 */
infini_status infini_layer_step(infini_context *ctx,
                                const infini_layer_config *config, ptrdiff_t n,
                                const float *q, ptrdiff_t ldq,
                                const float *k, ptrdiff_t ldk,
                                const float *v, ptrdiff_t ldv,
                                const float *beta, infini_state *state,
                                float *out, ptrdiff_t ldo);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* INFINI_H */
