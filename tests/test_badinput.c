/*
 * tests/test_badinput.c - every status code of every public entry point.
 *
 * All tensors live in one arena; before each call the arena and the layer
 * state's memory are snapshotted, and after each failing call both must be
 * bit-identical to the snapshot ("no output and no memory state has been
 * modified"). Output regions start as a sentinel NaN. Sizes whose byte
 * count overflows are passed with small arena pointers: the library must
 * reject them before touching memory (ASan would see an access).
 *
 * Custom backends built from the ref functions (ref/ref.h) give the codes
 * the ref backend cannot: UNAVAILABLE, BACKEND (kernels returning unknown
 * codes), NOMEM (a workspace too large to allocate), and check that the
 * library's composition of segment_step/layer_step equals the fused ref
 * entries bit for bit. A test plugin (tests/plugin_test.c) covers
 * infini_plugin_load. The registry is filled last, until INFINI_ERR_FULL.
 *
 * Then the hostile-input catalogue (issue 6): every float parameter against
 * NaN, -NaN, +-Inf, -1, -FLT_MIN and FLT_MAX; each size of every entry
 * point at PTRDIFF_MAX/2; operands 4 bytes off vector alignment on every
 * backend (same bits as aligned); and the model API (include/infini_model.h):
 * each bad config field, NULL everywhere, bad tokens, streams and
 * checkpoints of other models, missing, empty, truncated, garbage files.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infini.h"
#include "infini_model.h"
#include "ref/ref.h"
#include "tests/tap.h"
#include "tests/testutil.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif

/* Under AddressSanitizer, the NOMEM cases request more than ASan's
 * allocator supports: make it return NULL, as malloc would, instead of
 * aborting the process. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_HAVE_ASAN 1
#endif
#endif
#ifdef TEST_HAVE_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "allocator_may_return_null=1";
}
#endif

/* ----------------------------------------------------------------------- */
/* Fixture: one arena, a per-head shape, a layer, a state.                   */
/* ----------------------------------------------------------------------- */

enum {
  OFF_Q = 0, OFF_K = 64, OFF_V = 128, OFF_M = 192, OFF_Z = 256, OFF_OUT = 320,
  OFF_AM = 384, OFF_AD = 448, OFF_X = 512, OFF_Y = 576,
  OFF_LQ = 1024, OFF_LK = 1152, OFF_LV = 1280, OFF_LO = 1408, OFF_LB = 1536,
  ARENA = 2048
};

static float arena[ARENA], arena_snap[ARENA];
static float *const q = arena + OFF_Q, *const k = arena + OFF_K,
             *const v = arena + OFF_V, *const m = arena + OFF_M,
             *const z = arena + OFF_Z, *const out = arena + OFF_OUT,
             *const am = arena + OFF_AM, *const ad = arena + OFF_AD,
             *const x = arena + OFF_X, *const y = arena + OFF_Y,
             *const lq = arena + OFF_LQ, *const lk = arena + OFF_LK,
             *const lv = arena + OFF_LV, *const lo = arena + OFF_LO,
             *const lbeta = arena + OFF_LB;

/* Per-head: N = 4, d_key = 3, d_value = 2, packed. */
#define N 4
#define DK 3
#define DV 2
static const infini_head_shape S = {N, DK, DV};
/* Layer: H = 4, H_kv = 2, same head widths, packed. */
#define H 4
#define HKV 2
static const infini_layer_config LC = {H,   HKV, DK, DV, INFINI_UPDATE_LINEAR,
                                       0.0f, 0.5f};
#define LDQ (H * DK)
#define LDK (HKV * DK)
#define LDV (HKV * DV)
#define LDO (H * DV)

/* An object whose address stands for "an output pointer not written". */
static union {
  max_align_t align;
  char bytes[256];
} sentinel_obj;
#define SENTINEL_PTR(T) ((T *)(void *)&sentinel_obj)

static infini_context *ctx;      /* ref */
static infini_state *state;      /* H_kv = 2, d_key = 3, d_value = 2 */
static float *state_m, *state_z; /* head 0's block = start of all blocks */
static float state_snap[HKV * DK * (DV + 1)];

/* Sizes whose byte counts overflow. */
#define HUGE_ROWS (PTRDIFF_MAX / 2) /* (rows-1)*4 overflows ptrdiff_t */
#define BIG_ROWS (PTRDIFF_MAX / 8)  /* fits, but > PTRDIFF_MAX/4 floats */
#define HUGE_LD (PTRDIFF_MAX - 1)   /* (rows-1)*ld + cols overflows */

static void fill_fixture(void) {
  tu_rng r = tu_rng_seed(0xBAD);
  tu_fill(&r, 1, ARENA, arena, ARENA, -1, 1);
  tu_fill(&r, 1, DK, z, DK, 0.5f, 2);
  tu_set(out, 64, tu_sentinel());
  tu_set(y, 64, tu_sentinel());
  tu_set(lo, 128, tu_sentinel());
  const float b[H] = {0.5f, -1.0f, 2.0f, 0.0f};
  memcpy(lbeta, b, sizeof b);
}

static void snap_take(void) {
  memcpy(arena_snap, arena, sizeof arena);
  memcpy(state_snap, state_m, sizeof(float) * HKV * DK * DV);
  memcpy(state_snap + HKV * DK * DV, state_z, sizeof(float) * HKV * DK);
}

static bool snap_same(void) {
  return memcmp(arena_snap, arena, sizeof arena) == 0 &&
         memcmp(state_snap, state_m, sizeof(float) * HKV * DK * DV) == 0 &&
         memcmp(state_snap + HKV * DK * DV, state_z,
                sizeof(float) * HKV * DK) == 0;
}

/* A set of acceptable statuses, for the rare call where two conditions of
 * (S19) hold at once and the spec leaves the order of checks open. */
#define ST(x) (1u << (unsigned)(x))

/* When set, appended to the next reports as a TAP directive ("TODO ..."). */
static const char *todo_note;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool report_set(infini_status got, unsigned want, const char *fmt,
                       ...) {
  char name[400], wants[120] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  for (int c = 0; c < INFINI_STATUS_COUNT; c++)
    if (want & ST(c)) {
      if (wants[0])
        strcat(wants, " or ");
      strcat(wants, tu_status_name((infini_status)c));
    }
  const bool is_ok = want == ST(INFINI_OK);
  const bool status_ok = (unsigned)got < INFINI_STATUS_COUNT && (want & ST(got));
  const bool untouched = is_ok || snap_same();
  if (!status_ok)
    tap_diag("got %s (%d)", tu_status_name(got), (int)got);
  if (!untouched)
    tap_diag("an output or the memory state was modified by a failing call");
  const char *hash = todo_note ? " # " : "", *todo = todo_note ? todo_note : "";
  const bool pass = status_ok && untouched;
  if (is_ok)
    tap_ok(status_ok, "%s -> INFINI_OK%s%s", name, hash, todo);
  else
    tap_ok(pass, "%s -> %s, nothing modified%s%s", name, wants, hash, todo);
  /* A failing TODO case is an expected failure (XFAIL): it must not make
   * the exit status (tap_done) non-zero. */
  if (todo_note && !pass)
    tap_failed--;
  return pass;
}

/* EXPECT(want, call, "name", ...): snapshot, call, check. EXPECT_SET takes
 * a set of statuses, ST(a) | ST(b). */
#define EXPECT(want, call, ...) \
  (snap_take(), report_set((call), ST(want), __VA_ARGS__))
#define EXPECT_SET(set, call, ...) \
  (snap_take(), report_set((call), (set), __VA_ARGS__))

/* ----------------------------------------------------------------------- */
/* Custom backends.                                                          */
/* ----------------------------------------------------------------------- */

static infini_availability avail_native(void) { return INFINI_NATIVE; }
/* A dense-layer packer that a table may not set alone. */
static void pack_nothing(ptrdiff_t d_in, ptrdiff_t d_out, const float *w,
                         float *packed) {
  (void)d_in, (void)d_out, (void)w, (void)packed;
}
static infini_availability avail_none(void) { return INFINI_UNAVAILABLE; }
static infini_availability avail_emulated(void) { return INFINI_EMULATED; }

/* Kernels that fail with an arbitrary (possibly unknown) status. */
static infini_status fail_code = (infini_status)1234;
static int fail_calls;

static infini_status f_fm(ptrdiff_t r, ptrdiff_t c, const float *xx,
                          ptrdiff_t ldx, float *yy, ptrdiff_t ldy) {
  fail_calls++;
  return fail_code;
}
static infini_status f_ret(const infini_head_shape *s, const float *qq,
                           ptrdiff_t ldq, const float *mm, ptrdiff_t ldm,
                           const float *zz, float eps, float *a,
                           ptrdiff_t lda) {
  fail_calls++;
  return fail_code;
}
static infini_status f_upl(const infini_head_shape *s, const float *kk,
                           ptrdiff_t ldk, const float *vv, ptrdiff_t ldv,
                           float *mm, ptrdiff_t ldm, float *zz) {
  fail_calls++;
  return fail_code;
}
static infini_status f_upd(const infini_head_shape *s, const float *kk,
                           ptrdiff_t ldk, const float *vv, ptrdiff_t ldv,
                           float *mm, ptrdiff_t ldm, float *zz, float eps,
                           void *work) {
  fail_calls++;
  return fail_code;
}
static infini_status f_mix(ptrdiff_t r, ptrdiff_t c, float beta,
                           const float *a, ptrdiff_t lda, const float *b,
                           ptrdiff_t ldb, float *o, ptrdiff_t ldo) {
  fail_calls++;
  return fail_code;
}
static infini_status f_att(const infini_head_shape *s, const float *qq,
                           ptrdiff_t ldq, const float *kk, ptrdiff_t ldk,
                           const float *vv, ptrdiff_t ldv, float scale,
                           float *o, ptrdiff_t ldo, void *work) {
  fail_calls++;
  return fail_code;
}
static infini_status f_step(const infini_head_shape *s,
                            const infini_step_params *p, const float *qq,
                            ptrdiff_t ldq, const float *kk, ptrdiff_t ldk,
                            const float *vv, ptrdiff_t ldv, float *mm,
                            ptrdiff_t ldm, float *zz, float *o, ptrdiff_t ldo,
                            void *work) {
  fail_calls++;
  return fail_code;
}
static infini_status f_layer(const infini_layer_config *c, ptrdiff_t n,
                             const float *qq, ptrdiff_t ldq, const float *kk,
                             ptrdiff_t ldk, const float *vv, ptrdiff_t ldv,
                             const float *beta, float *mm, float *zz,
                             float *o, ptrdiff_t ldo, void *work) {
  fail_calls++;
  return fail_code;
}

#define BASE(nm, av)                                                  \
  .abi_version = INFINI_ABI_VERSION, .struct_size = sizeof(infini_backend), \
  .name = (nm), .description = "test backend", .availability = (av)

#define REF_KERNELS                                                    \
  .feature_map = infini_ref_feature_map_f32,                           \
  .retrieve = infini_ref_retrieve_f32,                                 \
  .update_linear = infini_ref_update_linear_f32,                       \
  .update_delta = infini_ref_update_delta_f32, .mix = infini_ref_mix_f32, \
  .local_attention = infini_ref_local_attention_f32

static infini_backend be_fail = {
    BASE("tb_fail", avail_native), .feature_map = f_fm, .retrieve = f_ret,
    .update_linear = f_upl, .update_delta = f_upd, .mix = f_mix,
    .local_attention = f_att, .segment_step = f_step, .layer_step = f_layer};
/* The same kernels without segment_step / layer_step: the composition
 * must propagate the failure. */
static infini_backend be_fail_comp = {
    BASE("tb_fail_composed", avail_native), .feature_map = f_fm,
    .retrieve = f_ret, .update_linear = f_upl, .update_delta = f_upd,
    .mix = f_mix, .local_attention = f_att};
static infini_backend be_unavail = {BASE("tb_unavailable", avail_none),
                                    REF_KERNELS};
static infini_backend be_emulated = {BASE("tb_emulated", avail_emulated),
                                     REF_KERNELS};

/* Workspace too large for any allocator: NOMEM from the context arena. */
static size_t huge_ws(const infini_head_shape *s) { return (size_t)1 << 50; }
static infini_backend be_huge = {BASE("tb_hugework", avail_native),
                                 .workspace_bytes = huge_ws, REF_KERNELS,
                                 .segment_step = infini_ref_segment_step_f32,
                                 .layer_step = infini_ref_layer_step_f32};

/* A backend asking for an absurd workspace (near SIZE_MAX): the library
 * must refuse (NOMEM or OVERFLOW) rather than round the request around to
 * a small number and call a kernel with too little scratch. Its kernels are
 * the failing ones, which never touch their workspace, and count calls. */
static size_t maxws_value = SIZE_MAX;
static size_t maxws_bytes(const infini_head_shape *s) { return maxws_value; }
static infini_backend be_maxws = {
    BASE("tb_maxwork", avail_native), .workspace_bytes = maxws_bytes,
    .feature_map = f_fm, .retrieve = f_ret, .update_linear = f_upl,
    .update_delta = f_upd, .mix = f_mix, .local_attention = f_att};

/* The ref kernels with segment_step = layer_step = NULL, so the library
 * composes them. The wrappers check the documented workspace contract:
 * 64-byte aligned, workspace_bytes long (scribbled over, so that ASan or
 * the results see a buffer that is too short or shared with A_mem). */
static int ws_misaligned, ws_calls;
static infini_status c_att(const infini_head_shape *s, const float *qq,
                           ptrdiff_t ldq, const float *kk, ptrdiff_t ldk,
                           const float *vv, ptrdiff_t ldv, float scale,
                           float *o, ptrdiff_t ldo, void *work) {
  ws_calls++;
  if ((uintptr_t)work % 64 != 0)
    ws_misaligned++;
  memset(work, 0xA5, infini_ref_work_bytes_f32(s));
  return infini_ref_local_attention_f32(s, qq, ldq, kk, ldk, vv, ldv, scale, o,
                                        ldo, work);
}
static infini_status c_upd(const infini_head_shape *s, const float *kk,
                           ptrdiff_t ldk, const float *vv, ptrdiff_t ldv,
                           float *mm, ptrdiff_t ldm, float *zz, float eps,
                           void *work) {
  ws_calls++;
  if ((uintptr_t)work % 64 != 0)
    ws_misaligned++;
  memset(work, 0x5A, infini_ref_work_bytes_f32(s));
  return infini_ref_update_delta_f32(s, kk, ldk, vv, ldv, mm, ldm, zz, eps,
                                     work);
}
static infini_backend be_comp = {
    BASE("tb_composed", avail_native),
    .workspace_bytes = infini_ref_work_bytes_f32,
    .feature_map = infini_ref_feature_map_f32,
    .retrieve = infini_ref_retrieve_f32,
    .update_linear = infini_ref_update_linear_f32, .update_delta = c_upd,
    .mix = infini_ref_mix_f32, .local_attention = c_att};

/* ----------------------------------------------------------------------- */
/* infini_strerror, infini_version, infini_default_scale                     */
/* ----------------------------------------------------------------------- */

static void test_strerror(void) {
  bool ok = true;
  for (int i = 0; i < INFINI_STATUS_COUNT; i++) {
    const char *s = infini_strerror((infini_status)i);
    if (!s || !*s) {
      tap_diag("code %d has no sentence", i);
      ok = false;
      continue;
    }
    for (int j = 0; j < i; j++)
      if (strcmp(s, infini_strerror((infini_status)j)) == 0) {
        tap_diag("codes %d and %d share the sentence \"%s\"", j, i, s);
        ok = false;
      }
  }
  tap_ok(ok, "infini_strerror: a distinct non-empty sentence for each code "
             "0..INFINI_STATUS_COUNT-1");
  const infini_status unknown[3] = {(infini_status)INFINI_STATUS_COUNT,
                                    (infini_status)1234, (infini_status)-1};
  ok = true;
  for (int u = 0; u < 3; u++) {
    const char *s = infini_strerror(unknown[u]);
    ok = ok && s && *s;
    for (int j = 0; j < INFINI_STATUS_COUNT && ok; j++)
      ok = strcmp(s, infini_strerror((infini_status)j)) != 0;
  }
  tap_ok(ok, "infini_strerror: unknown codes (INFINI_STATUS_COUNT, 1234, -1) get a sentence "
             "of their own, never NULL");
  const char *ver = infini_version();
  tap_ok(ver && *ver, "infini_version: non-empty (\"%s\")", ver ? ver : "");
  tap_ok(infini_default_scale(4) == 0.5f && infini_default_scale(1) == 1.0f &&
             infini_default_scale(0) == 0.0f && infini_default_scale(-3) == 0.0f &&
             infini_default_scale(PTRDIFF_MIN) == 0.0f,
         "infini_default_scale: 1/sqrt(d_key); 0 (never NaN) for d_key <= 0");
}

/* ----------------------------------------------------------------------- */
/* Backends: find, at, count, check, register; context                       */
/* ----------------------------------------------------------------------- */

static const infini_backend *ref_be;
static size_t n_builtin;

static void test_backends(void) {
  const infini_backend *be = NULL;
  n_builtin = infini_backend_count();
  tap_ok(n_builtin >= 1 && infini_backend_at(0) != NULL &&
             infini_backend_at(n_builtin) == NULL &&
             infini_backend_at(SIZE_MAX) == NULL,
         "infini_backend_count / _at: >= 1 built-in, NULL past the end");
  tap_ok(infini_backend_find("ref", &be) == INFINI_OK && be &&
             strcmp(be->name, "ref") == 0 && be == &infini_backend_ref,
         "infini_backend_find(\"ref\") -> INFINI_OK, the ref table");
  ref_be = be;
  tap_ok(infini_backend_find("ref", NULL) == INFINI_ERR_NULL,
         "infini_backend_find: NULL out -> INFINI_ERR_NULL");
  const infini_backend *keep = (const infini_backend *)&be_fail;
  be = keep;
  tap_ok(infini_backend_find("nope", &be) == INFINI_ERR_NOT_FOUND && be == keep,
         "infini_backend_find(\"nope\") -> INFINI_ERR_NOT_FOUND, out "
         "untouched");
  tap_ok(infini_backend_find("", &be) == INFINI_ERR_NOT_FOUND && be == keep,
         "infini_backend_find(\"\") -> INFINI_ERR_NOT_FOUND");
  be = NULL;
  tap_ok(infini_backend_find(NULL, &be) == INFINI_OK && be != NULL &&
             be->availability() == INFINI_NATIVE,
         "infini_backend_find(NULL) -> INFINI_OK, a native backend");
  const infini_backend *def = be;
  tap_ok(infini_backend_find("default", &be) == INFINI_OK && be == def,
         "infini_backend_find(\"default\") = find(NULL)");

  /* infini_backend_check */
  tap_ok(infini_backend_check(&infini_backend_ref) == INFINI_OK,
         "infini_backend_check(ref) -> INFINI_OK");
  tap_ok(infini_backend_check(NULL) == INFINI_ERR_NULL,
         "infini_backend_check(NULL) -> INFINI_ERR_NULL");
  infini_backend t = infini_backend_ref;
  t.abi_version = INFINI_ABI_VERSION + 1;
  tap_ok(infini_backend_check(&t) == INFINI_ERR_ABI,
         "infini_backend_check: abi_version + 1 -> INFINI_ERR_ABI");
  t.abi_version = 0;
  tap_ok(infini_backend_check(&t) == INFINI_ERR_ABI,
         "infini_backend_check: abi_version 0 -> INFINI_ERR_ABI");
  t = infini_backend_ref;
  t.struct_size = INFINI_BACKEND_SIZE_V1 - sizeof(void *);
  tap_ok(infini_backend_check(&t) == INFINI_ERR_ABI,
         "infini_backend_check: struct_size too small -> INFINI_ERR_ABI");
  t.struct_size = sizeof(infini_backend) + 8;
  tap_ok(infini_backend_check(&t) == INFINI_ERR_ABI,
         "infini_backend_check: struct_size too large -> INFINI_ERR_ABI");
  t.struct_size = INFINI_BACKEND_SIZE_V1; /* a plugin built before linear */
  tap_ok(infini_backend_check(&t) == INFINI_OK,
         "infini_backend_check: version-1 size without the dense entries -> INFINI_OK");
  t.struct_size = INFINI_BACKEND_SIZE_V2; /* a plugin built before rope */
  tap_ok(infini_backend_check(&t) == INFINI_OK,
         "infini_backend_check: version-1 size without rope -> INFINI_OK");
  t.struct_size = INFINI_BACKEND_SIZE_V2 + 4;
  tap_ok(infini_backend_check(&t) == INFINI_ERR_ABI,
         "infini_backend_check: a size between the known ones -> INFINI_ERR_ABI");
  t = infini_backend_ref;
  t.linear_pack = pack_nothing;
  tap_ok(infini_backend_check(&t) == INFINI_ERR_ABI,
         "infini_backend_check: linear_pack without linear -> INFINI_ERR_ABI");
  t = infini_backend_ref;
  t.name = NULL;
  tap_ok(infini_backend_check(&t) == INFINI_ERR_ABI,
         "infini_backend_check: name NULL -> INFINI_ERR_ABI");
  t.name = "";
  tap_ok(infini_backend_check(&t) == INFINI_ERR_ABI,
         "infini_backend_check: name \"\" -> INFINI_ERR_ABI");
#define MISSING(field)                                                     \
  do {                                                                     \
    t = infini_backend_ref;                                                \
    t.field = NULL;                                                        \
    tap_ok(infini_backend_check(&t) == INFINI_ERR_ABI,                     \
           "infini_backend_check: required " #field " NULL -> INFINI_ERR_ABI"); \
  } while (0)
  MISSING(availability);
  MISSING(feature_map);
  MISSING(retrieve);
  MISSING(update_linear);
  MISSING(update_delta);
  MISSING(mix);
  MISSING(local_attention);
#undef MISSING
  t = infini_backend_ref;
  t.workspace_bytes = NULL;
  t.segment_step = NULL;
  t.layer_step = NULL;
  tap_ok(infini_backend_check(&t) == INFINI_OK,
         "infini_backend_check: optional workspace_bytes, segment_step, "
         "layer_step NULL -> INFINI_OK");

  /* infini_backend_register */
  const size_t before = infini_backend_count();
  tap_ok(infini_backend_register(NULL) == INFINI_ERR_NULL &&
             infini_backend_count() == before,
         "infini_backend_register(NULL) -> INFINI_ERR_NULL");
  static infini_backend bad;
  bad = be_comp;
  bad.name = "tb_bad_abi";
  bad.abi_version = 99;
  tap_ok(infini_backend_register(&bad) == INFINI_ERR_ABI &&
             infini_backend_count() == before,
         "infini_backend_register: wrong abi_version -> INFINI_ERR_ABI, not "
         "registered");
  bad.abi_version = INFINI_ABI_VERSION;
  bad.mix = NULL;
  tap_ok(infini_backend_register(&bad) == INFINI_ERR_ABI &&
             infini_backend_count() == before,
         "infini_backend_register: missing mix -> INFINI_ERR_ABI");
  static infini_backend dup_ref;
  dup_ref = be_comp;
  dup_ref.name = "ref";
  tap_ok(infini_backend_register(&dup_ref) == INFINI_ERR_PARAM &&
             infini_backend_count() == before,
         "infini_backend_register: duplicate of built-in name \"ref\" -> "
         "INFINI_ERR_PARAM");
  /* issue 19, finding 10: names that could not be selected or printed */
  static infini_backend reserved, long_name, ctl_name;
  static char five_k[5001];
  memset(five_k, 'a', 5000);
  reserved = long_name = ctl_name = be_comp;
  reserved.name = "default";
  long_name.name = five_k;
  ctl_name.name = "two\nlines";
  tap_ok(infini_backend_register(&reserved) == INFINI_ERR_PARAM &&
             infini_backend_count() == before,
         "infini_backend_register: the reserved name \"default\" -> INFINI_ERR_PARAM");
  tap_ok(infini_backend_register(&long_name) == INFINI_ERR_ABI &&
             infini_backend_check(&long_name) == INFINI_ERR_ABI &&
             infini_backend_count() == before,
         "infini_backend_register: a 5000-character name -> INFINI_ERR_ABI");
  tap_ok(infini_backend_register(&ctl_name) == INFINI_ERR_ABI &&
             infini_backend_count() == before,
         "infini_backend_register: a name with a newline -> INFINI_ERR_ABI");

  infini_backend *customs[] = {&be_fail,     &be_fail_comp, &be_unavail,
                               &be_emulated, &be_huge,      &be_comp,
                               &be_maxws};
  bool ok = true;
  for (size_t i = 0; i < sizeof customs / sizeof customs[0]; i++)
    ok = ok && infini_backend_register(customs[i]) == INFINI_OK &&
         infini_backend_at(before + i) == customs[i];
  ok = ok && infini_backend_count() == before + 7 &&
       infini_backend_find("tb_composed", &be) == INFINI_OK && be == &be_comp;
  tap_ok(ok, "infini_backend_register: 7 custom test backends -> INFINI_OK, "
             "listed in order and found by name");
  static infini_backend dup_custom;
  dup_custom = be_comp;
  dup_custom.name = "tb_fail"; /* another table, same name */
  tap_ok(infini_backend_register(&dup_custom) == INFINI_ERR_PARAM &&
             infini_backend_register(&be_fail) == INFINI_ERR_PARAM &&
             infini_backend_count() == before + 7,
         "infini_backend_register: duplicate of a registered name (and the "
         "same table again) -> INFINI_ERR_PARAM");
}

static void test_context(void) {
  infini_context *c = NULL, *const keep = SENTINEL_PTR(infini_context);
  tap_ok(infini_context_create(ref_be, &c) == INFINI_OK && c &&
             infini_context_backend(c) == ref_be,
         "infini_context_create(ref) -> INFINI_OK, context_backend = ref");
  infini_context_free(c);
  c = NULL;
  const infini_backend *def = NULL;
  infini_backend_find(NULL, &def);
  tap_ok(infini_context_create(NULL, &c) == INFINI_OK && c &&
             infini_context_backend(c) == def,
         "infini_context_create(NULL) -> INFINI_OK on the default backend");
  infini_context_free(c);
  tap_ok(infini_context_create(ref_be, NULL) == INFINI_ERR_NULL,
         "infini_context_create: NULL out -> INFINI_ERR_NULL");
  infini_backend t = infini_backend_ref;
  t.abi_version = 7;
  c = keep;
  tap_ok(infini_context_create(&t, &c) == INFINI_ERR_ABI && c == keep,
         "infini_context_create: bad table -> INFINI_ERR_ABI, out untouched");
  t = infini_backend_ref;
  t.retrieve = NULL;
  tap_ok(infini_context_create(&t, &c) == INFINI_ERR_ABI && c == keep,
         "infini_context_create: table missing retrieve -> INFINI_ERR_ABI");
  tap_ok(infini_context_create(&be_unavail, &c) == INFINI_ERR_UNAVAILABLE &&
             c == keep,
         "infini_context_create: availability() = INFINI_UNAVAILABLE -> "
         "INFINI_ERR_UNAVAILABLE, out untouched");
  c = NULL;
  tap_ok(infini_context_create(&be_emulated, &c) == INFINI_OK && c,
         "infini_context_create: an INFINI_EMULATED backend -> INFINI_OK");
  infini_context_free(c);
  infini_context_free(NULL);
  tap_ok(infini_context_backend(NULL) == NULL,
         "infini_context_free(NULL) is a no-op; context_backend(NULL) = NULL");
}

/* INFINI_BACKEND overrides the default. */
static void test_env(void) {
  const infini_backend *be = NULL, *native = NULL;
  infini_context *c = NULL, *const keep = SENTINEL_PTR(infini_context);
  unsetenv("INFINI_BACKEND");
  infini_backend_find(NULL, &native);

  setenv("INFINI_BACKEND", "ref", 1);
  tap_ok(infini_backend_find(NULL, &be) == INFINI_OK && be == ref_be &&
             infini_backend_find("default", &be) == INFINI_OK && be == ref_be,
         "INFINI_BACKEND=ref: find(NULL) and find(\"default\") -> ref");
  setenv("INFINI_BACKEND", "tb_emulated", 1);
  tap_ok(infini_backend_find(NULL, &be) == INFINI_OK && be == &be_emulated &&
             infini_backend_find("default", &be) == INFINI_OK &&
             be == &be_emulated &&
             infini_backend_find("ref", &be) == INFINI_OK && be == ref_be,
         "INFINI_BACKEND=tb_emulated (registered): find(NULL), "
         "find(\"default\") -> it; find(\"ref\") still ref");
  tap_ok(infini_context_create(NULL, &c) == INFINI_OK &&
             infini_context_backend(c) == &be_emulated,
         "INFINI_BACKEND=tb_emulated: context_create(NULL) uses it");
  infini_context_free(c);
  c = keep;
  setenv("INFINI_BACKEND", "tb_unavailable", 1);
  tap_ok(infini_context_create(NULL, &c) == INFINI_ERR_UNAVAILABLE && c == keep,
         "INFINI_BACKEND=tb_unavailable: context_create(NULL) -> "
         "INFINI_ERR_UNAVAILABLE");
  setenv("INFINI_BACKEND", "nope", 1);
  be = &be_huge;
  tap_ok(infini_backend_find(NULL, &be) == INFINI_ERR_NOT_FOUND &&
             be == &be_huge,
         "INFINI_BACKEND=nope: find(NULL) -> INFINI_ERR_NOT_FOUND");
  tap_ok(infini_context_create(NULL, &c) == INFINI_ERR_NOT_FOUND && c == keep,
         "INFINI_BACKEND=nope: context_create(NULL) -> INFINI_ERR_NOT_FOUND");
  setenv("INFINI_BACKEND", "", 1);
  tap_ok(infini_backend_find(NULL, &be) == INFINI_OK && be == native,
         "INFINI_BACKEND=\"\": the best native backend");
  setenv("INFINI_BACKEND", "default", 1);
  tap_ok(infini_backend_find(NULL, &be) == INFINI_OK && be == native,
         "INFINI_BACKEND=default: the best native backend");
  unsetenv("INFINI_BACKEND");
}

/* ----------------------------------------------------------------------- */
/* State                                                                      */
/* ----------------------------------------------------------------------- */

static void test_state(void) {
  infini_state *s = NULL, *const keep = SENTINEL_PTR(infini_state);
  size_t bytes = 777;

  /* create */
  tap_ok(infini_state_create(2, 3, 4, NULL) == INFINI_ERR_NULL,
         "infini_state_create: NULL out -> INFINI_ERR_NULL");
  const ptrdiff_t bad_sizes[6][3] = {{0, 3, 4}, {2, 0, 4}, {2, 3, 0},
                                     {-1, 3, 4}, {2, -3, 4}, {2, 3, -4}};
  bool ok = true;
  for (int i = 0; i < 6; i++) {
    s = keep;
    bytes = 777;
    ok = ok &&
         infini_state_create(bad_sizes[i][0], bad_sizes[i][1], bad_sizes[i][2],
                             &s) == INFINI_ERR_SIZE && s == keep &&
         infini_state_bytes(bad_sizes[i][0], bad_sizes[i][1], bad_sizes[i][2],
                            &bytes) == INFINI_ERR_SIZE && bytes == 777;
  }
  tap_ok(ok, "infini_state_create / _bytes: a zero or negative size in each "
             "position -> INFINI_ERR_SIZE, outputs untouched");
  s = keep;
  tap_ok(infini_state_create(PTRDIFF_MAX, 2, 2, &s) == INFINI_ERR_OVERFLOW &&
             s == keep &&
             infini_state_bytes(PTRDIFF_MAX, 2, 2, &bytes) ==
                 INFINI_ERR_OVERFLOW && bytes == 777,
         "infini_state_create / _bytes: H_kv*dk*dv overflows ptrdiff_t -> "
         "INFINI_ERR_OVERFLOW");
  const ptrdiff_t p31 = (ptrdiff_t)1 << 31;
  tap_ok(infini_state_create(1, p31, p31, &s) == INFINI_ERR_OVERFLOW &&
             s == keep &&
             infini_state_bytes(1, p31, p31, &bytes) == INFINI_ERR_OVERFLOW &&
             bytes == 777,
         "infini_state_create / _bytes: 2^62 + 2^31 floats (fits ptrdiff_t, "
         "bytes overflow size_t) -> INFINI_ERR_OVERFLOW");
  tap_ok(infini_state_bytes(2, 3, 4, NULL) == INFINI_ERR_NULL,
         "infini_state_bytes: NULL out -> INFINI_ERR_NULL");
  tap_ok(infini_state_bytes(2, 3, 4, &bytes) == INFINI_OK && bytes == 120,
         "infini_state_bytes(2, 3, 4) -> INFINI_OK, 120");

  /* NOMEM: 2^40 floats (4 TiB) fit size_t but cannot be allocated. */
  const ptrdiff_t p20 = (ptrdiff_t)1 << 20;
  s = keep;
  const infini_status st = infini_state_create(1, p20, p20, &s);
  if (st == INFINI_OK) {
    infini_state_free(s);
    tap_ok(true, "infini_state_create(1, 2^20, 2^20) -> INFINI_ERR_NOMEM "
                 "# SKIP calloc of 4 TiB succeeded (overcommit)");
  } else {
    tap_ok(st == INFINI_ERR_NOMEM && s == keep,
           "infini_state_create(1, 2^20, 2^20): 4 TiB -> INFINI_ERR_NOMEM, "
           "out untouched");
  }

  /* free, reset, size, shape, head */
  infini_state_free(NULL);
  tap_ok(infini_state_reset(NULL) == INFINI_ERR_NULL,
         "infini_state_reset(NULL) -> INFINI_ERR_NULL (state_free(NULL) is a "
         "no-op)");
  infini_state *a = NULL, *b = NULL;
  ok = infini_state_create(2, 3, 4, &a) == INFINI_OK && a;
  tap_ok(ok, "infini_state_create(2, 3, 4) -> INFINI_OK");
  if (!ok)
    return;
  bytes = 777;
  tap_ok(infini_state_size(NULL, &bytes) == INFINI_ERR_NULL && bytes == 777 &&
             infini_state_size(a, NULL) == INFINI_ERR_NULL,
         "infini_state_size: NULL state or NULL out -> INFINI_ERR_NULL");
  tap_ok(infini_state_size(a, &bytes) == INFINI_OK && bytes == 120,
         "infini_state_size -> INFINI_OK, 120");
  ptrdiff_t h1 = -5, h2 = -5, h3 = -5;
  tap_ok(infini_state_shape(NULL, &h1, &h2, &h3) == INFINI_ERR_NULL &&
             h1 == -5 && h2 == -5 && h3 == -5,
         "infini_state_shape(NULL) -> INFINI_ERR_NULL, outputs untouched");
  tap_ok(infini_state_shape(a, NULL, NULL, NULL) == INFINI_OK &&
             infini_state_shape(a, NULL, &h2, NULL) == INFINI_OK && h2 == 3,
         "infini_state_shape: NULL outputs allowed -> INFINI_OK");
  float *hm = (float *)&arena, *hz = (float *)&arena;
  ptrdiff_t ldm = -5;
  tap_ok(infini_state_head(NULL, 0, &hm, &ldm, &hz) == INFINI_ERR_NULL &&
             infini_state_head(a, 0, NULL, &ldm, &hz) == INFINI_ERR_NULL &&
             infini_state_head(a, 0, &hm, NULL, &hz) == INFINI_ERR_NULL &&
             infini_state_head(a, 0, &hm, &ldm, NULL) == INFINI_ERR_NULL &&
             hm == arena && hz == arena && ldm == -5,
         "infini_state_head: NULL state, m, ldm or z -> INFINI_ERR_NULL");
  tap_ok(infini_state_head(a, -1, &hm, &ldm, &hz) == INFINI_ERR_PARAM &&
             infini_state_head(a, 2, &hm, &ldm, &hz) == INFINI_ERR_PARAM &&
             hm == arena && hz == arena && ldm == -5,
         "infini_state_head: head -1 or head = n_kv_heads -> "
         "INFINI_ERR_PARAM, outputs untouched");
  tap_ok(infini_state_head(a, 1, &hm, &ldm, &hz) == INFINI_OK && ldm == 4,
         "infini_state_head(state, 1) -> INFINI_OK, ldm = d_value");

  /* copy */
  for (int i = 0; i < 12; i++)
    hm[-12 + i] = (float)i; /* head 0's block (head 1 is at +12) */
  tap_ok(infini_state_copy(NULL, a) == INFINI_ERR_NULL &&
             infini_state_copy(a, NULL) == INFINI_ERR_NULL,
         "infini_state_copy: NULL dst or src -> INFINI_ERR_NULL");
  const ptrdiff_t other[3][3] = {{1, 3, 4}, {2, 2, 4}, {2, 3, 5}};
  ok = true;
  for (int i = 0; i < 3; i++) {
    infini_state *o = NULL;
    float *om, *oz;
    ptrdiff_t old;
    ok = ok &&
         infini_state_create(other[i][0], other[i][1], other[i][2], &o) ==
             INFINI_OK &&
         infini_state_head(o, 0, &om, &old, &oz) == INFINI_OK;
    if (!o)
      break;
    om[0] = 42;
    ok = ok && infini_state_copy(o, a) == INFINI_ERR_SHAPE && om[0] == 42 &&
         infini_state_copy(a, o) == INFINI_ERR_SHAPE && hm[-12 + 1] == 1;
    infini_state_free(o);
  }
  tap_ok(ok, "infini_state_copy: H_kv, d_key or d_value differ -> "
             "INFINI_ERR_SHAPE, dst untouched");
  ok = infini_state_create(2, 3, 4, &b) == INFINI_OK &&
       infini_state_copy(b, a) == INFINI_OK && infini_state_copy(a, a) == INFINI_OK;
  float *bm, *bz;
  ok = ok && infini_state_head(b, 0, &bm, &ldm, &bz) == INFINI_OK &&
       memcmp(bm, hm - 12, 12 * sizeof(float)) == 0;
  tap_ok(ok, "infini_state_copy: same shape -> INFINI_OK (and onto itself)");
  tap_ok(infini_state_reset(a) == INFINI_OK && hm[-12 + 5] == 0,
         "infini_state_reset -> INFINI_OK");
  infini_state_free(a);
  infini_state_free(b);
}

/* ----------------------------------------------------------------------- */
/* Operators                                                                 */
/* ----------------------------------------------------------------------- */

static infini_context *fail_ctx, *fail_comp_ctx, *huge_ctx;

static void test_feature_map(void) {
  const char *f = "infini_feature_map";
  EXPECT(INFINI_OK, infini_feature_map(ctx, N, DK, x, DK, y, DK),
         "%s: valid arguments", f);
  EXPECT(INFINI_ERR_NULL, infini_feature_map(NULL, N, DK, x, DK, y, DK),
         "%s: NULL ctx", f);
  EXPECT(INFINI_ERR_NULL, infini_feature_map(ctx, N, DK, NULL, DK, y, DK),
         "%s: NULL x", f);
  EXPECT(INFINI_ERR_NULL, infini_feature_map(ctx, N, DK, x, DK, NULL, DK),
         "%s: NULL y", f);
  EXPECT(INFINI_ERR_SIZE, infini_feature_map(ctx, 0, DK, x, DK, y, DK),
         "%s: rows 0", f);
  EXPECT(INFINI_ERR_SIZE, infini_feature_map(ctx, -1, DK, x, DK, y, DK),
         "%s: rows -1", f);
  EXPECT(INFINI_ERR_SIZE, infini_feature_map(ctx, N, 0, x, DK, y, DK),
         "%s: cols 0", f);
  EXPECT(INFINI_ERR_SIZE, infini_feature_map(ctx, N, -2, x, DK, y, DK),
         "%s: cols -2", f);
  EXPECT(INFINI_ERR_STRIDE, infini_feature_map(ctx, N, DK, x, DK - 1, y, DK),
         "%s: ldx < cols", f);
  EXPECT(INFINI_ERR_STRIDE, infini_feature_map(ctx, N, DK, x, 0, y, DK),
         "%s: ldx 0", f);
  EXPECT(INFINI_ERR_STRIDE, infini_feature_map(ctx, N, DK, x, -3, y, DK),
         "%s: ldx -3", f);
  EXPECT(INFINI_ERR_STRIDE, infini_feature_map(ctx, N, DK, x, DK, y, DK - 1),
         "%s: ldy < cols", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_feature_map(ctx, HUGE_ROWS, DK, x, 4, y, 4),
         "%s: rows PTRDIFF_MAX/2, ld 4", f);
  EXPECT(INFINI_ERR_OVERFLOW, infini_feature_map(ctx, BIG_ROWS, DK, x, 4, y, 4),
         "%s: rows PTRDIFF_MAX/8, ld 4 (bytes > PTRDIFF_MAX)", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_feature_map(ctx, 2, DK, x, HUGE_LD, y, DK),
         "%s: ldx PTRDIFF_MAX-1", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_feature_map(ctx, 2, DK, x, DK, y, HUGE_LD),
         "%s: ldy PTRDIFF_MAX-1", f);
  EXPECT(INFINI_ERR_ALIAS, infini_feature_map(ctx, N, DK, x, DK, x + 1, DK),
         "%s: y = x + 1 (partial overlap)", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_feature_map(ctx, N, DK, x, DK, x + N * DK - 1, DK),
         "%s: y starts at x's last element", f);
  EXPECT(INFINI_ERR_ALIAS, infini_feature_map(ctx, N, DK, x, DK, x, DK + 1),
         "%s: y == x with ldy != ldx", f);
  EXPECT(INFINI_OK, infini_feature_map(ctx, N, DK, x, DK, x + N * DK, DK),
         "%s: y right after x (adjacent, disjoint)", f);

  /* In place is allowed with equal strides and gives the same values. */
  float want[N * DK], io[N * DK];
  memcpy(io, x, sizeof io);
  bool ok = infini_feature_map(ctx, N, DK, x, DK, want, DK) == INFINI_OK &&
            infini_feature_map(ctx, N, DK, io, DK, io, DK) == INFINI_OK &&
            memcmp(io, want, sizeof io) == 0;
  tap_ok(ok, "%s: y == x, ldy == ldx (in place, allowed) -> INFINI_OK, same "
             "values", f);
  memcpy(io, x, sizeof io);
  ok = infini_feature_map_inplace(ctx, N, DK, io, DK) == INFINI_OK &&
       memcmp(io, want, sizeof io) == 0;
  tap_ok(ok, "infini_feature_map_inplace: valid -> INFINI_OK, same values");

  f = "infini_feature_map_inplace";
  EXPECT(INFINI_ERR_NULL, infini_feature_map_inplace(NULL, N, DK, y, DK),
         "%s: NULL ctx", f);
  EXPECT(INFINI_ERR_NULL, infini_feature_map_inplace(ctx, N, DK, NULL, DK),
         "%s: NULL x", f);
  EXPECT(INFINI_ERR_SIZE, infini_feature_map_inplace(ctx, 0, DK, y, DK),
         "%s: rows 0", f);
  EXPECT(INFINI_ERR_SIZE, infini_feature_map_inplace(ctx, N, -1, y, DK),
         "%s: cols -1", f);
  EXPECT(INFINI_ERR_STRIDE, infini_feature_map_inplace(ctx, N, DK, y, DK - 1),
         "%s: ldx < cols", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_feature_map_inplace(ctx, HUGE_ROWS, DK, y, 4),
         "%s: rows PTRDIFF_MAX/2, ld 4", f);
  EXPECT(INFINI_ERR_BACKEND, infini_feature_map_inplace(fail_ctx, N, DK, y, DK),
         "%s: kernel returns 1234", f);
  EXPECT(INFINI_ERR_BACKEND, infini_feature_map(fail_ctx, N, DK, x, DK, y, DK),
         "infini_feature_map: kernel returns 1234");
}

static void test_retrieve(void) {
  const char *f = "infini_retrieve";
  infini_head_shape s = S;
  EXPECT(INFINI_OK, infini_retrieve(ctx, &S, q, DK, m, DV, z, 0.0f, out, DV),
         "%s: valid arguments", f);
  EXPECT(INFINI_OK, infini_retrieve(ctx, &S, q, DK, m, DV, z, -0.0f, out, DV),
         "%s: eps = -0.0 (== 0, allowed)", f);
  EXPECT(INFINI_ERR_NULL,
         infini_retrieve(NULL, &S, q, DK, m, DV, z, 0.0f, out, DV),
         "%s: NULL ctx", f);
  EXPECT(INFINI_ERR_NULL,
         infini_retrieve(ctx, NULL, q, DK, m, DV, z, 0.0f, out, DV),
         "%s: NULL shape", f);
  EXPECT(INFINI_ERR_NULL,
         infini_retrieve(ctx, &S, NULL, DK, m, DV, z, 0.0f, out, DV),
         "%s: NULL q", f);
  EXPECT(INFINI_ERR_NULL,
         infini_retrieve(ctx, &S, q, DK, NULL, DV, z, 0.0f, out, DV),
         "%s: NULL m", f);
  EXPECT(INFINI_ERR_NULL,
         infini_retrieve(ctx, &S, q, DK, m, DV, NULL, 0.0f, out, DV),
         "%s: NULL z", f);
  EXPECT(INFINI_ERR_NULL,
         infini_retrieve(ctx, &S, q, DK, m, DV, z, 0.0f, NULL, DV),
         "%s: NULL a", f);
  const ptrdiff_t bad[5][3] = {{0, DK, DV}, {-1, DK, DV}, {N, 0, DV},
                               {N, DK, 0}, {N, DK, -2}};
  for (int i = 0; i < 5; i++) {
    s.n = bad[i][0], s.d_key = bad[i][1], s.d_value = bad[i][2];
    EXPECT(INFINI_ERR_SIZE,
           infini_retrieve(ctx, &s, q, DK, m, DV, z, 0.0f, out, DV),
           "%s: shape (%td, %td, %td)", f, s.n, s.d_key, s.d_value);
  }
  EXPECT(INFINI_ERR_STRIDE,
         infini_retrieve(ctx, &S, q, DK - 1, m, DV, z, 0.0f, out, DV),
         "%s: ldq < d_key", f);
  EXPECT(INFINI_ERR_STRIDE,
         infini_retrieve(ctx, &S, q, DK, m, DV - 1, z, 0.0f, out, DV),
         "%s: ldm < d_value", f);
  EXPECT(INFINI_ERR_STRIDE,
         infini_retrieve(ctx, &S, q, DK, m, DV, z, 0.0f, out, -1),
         "%s: lda -1", f);
  s = S;
  s.n = HUGE_ROWS;
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_retrieve(ctx, &s, q, 4, m, DV, z, 0.0f, out, DV),
         "%s: n PTRDIFF_MAX/2", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_retrieve(ctx, &S, q, HUGE_LD, m, DV, z, 0.0f, out, DV),
         "%s: ldq PTRDIFF_MAX-1", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_retrieve(ctx, &S, q, DK, m, PTRDIFF_MAX / 2, z, 0.0f, out, DV),
         "%s: ldm PTRDIFF_MAX/2", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_retrieve(ctx, &S, q, DK, m, DV, z, 0.0f, out, HUGE_LD),
         "%s: lda PTRDIFF_MAX-1", f);
  const float bad_eps[5] = {NAN, INFINITY, -INFINITY, -1.0f, -FLT_MIN};
  const char *eps_name[5] = {"NaN", "+inf", "-inf", "-1", "-FLT_MIN"};
  for (int i = 0; i < 5; i++)
    EXPECT(INFINI_ERR_PARAM,
           infini_retrieve(ctx, &S, q, DK, m, DV, z, bad_eps[i], out, DV),
           "%s: eps %s", f, eps_name[i]);
  EXPECT(INFINI_ERR_ALIAS,
         infini_retrieve(ctx, &S, q, DK, m, DV, z, 0.0f, q + 2, DV),
         "%s: a overlaps q", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_retrieve(ctx, &S, q, DK, m, DV, z, 0.0f, q, DK),
         "%s: a == q (same stride)", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_retrieve(ctx, &S, q, DK, m, DV, z, 0.0f, m + DK * DV - 1, DV),
         "%s: a starts at m's last element", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_retrieve(ctx, &S, q, DK, m, DV, z, 0.0f, z - 1, DV),
         "%s: a overlaps z", f);
  EXPECT(INFINI_OK, infini_retrieve(ctx, &S, q, DK, q, DV, q, 0.0f, out, DV),
         "%s: inputs q, m, z overlapping each other (read-only, allowed)", f);
  EXPECT(INFINI_ERR_BACKEND,
         infini_retrieve(fail_ctx, &S, q, DK, m, DV, z, 0.0f, out, DV),
         "%s: kernel returns 1234", f);
}

/* rule 0: linear, 1: delta (eps tests only for delta). */
static void test_update(int delta) {
  const char *f = delta ? "infini_update_delta" : "infini_update_linear";
#define UPD(c, sh, kk, ldk, vv, ldv, mm, ldm, zz, eps)                       \
  (delta ? infini_update_delta((c), (sh), (kk), (ldk), (vv), (ldv), (mm),    \
                               (ldm), (zz), (eps))                           \
         : infini_update_linear((c), (sh), (kk), (ldk), (vv), (ldv), (mm),   \
                                (ldm), (zz)))
  infini_head_shape s = S;
  EXPECT(INFINI_OK, UPD(ctx, &S, k, DK, v, DV, m, DV, z, 0.0f),
         "%s: valid arguments", f);
  EXPECT(INFINI_ERR_NULL, UPD(NULL, &S, k, DK, v, DV, m, DV, z, 0.0f),
         "%s: NULL ctx", f);
  EXPECT(INFINI_ERR_NULL, UPD(ctx, NULL, k, DK, v, DV, m, DV, z, 0.0f),
         "%s: NULL shape", f);
  EXPECT(INFINI_ERR_NULL, UPD(ctx, &S, NULL, DK, v, DV, m, DV, z, 0.0f),
         "%s: NULL k", f);
  EXPECT(INFINI_ERR_NULL, UPD(ctx, &S, k, DK, NULL, DV, m, DV, z, 0.0f),
         "%s: NULL v", f);
  EXPECT(INFINI_ERR_NULL, UPD(ctx, &S, k, DK, v, DV, NULL, DV, z, 0.0f),
         "%s: NULL m", f);
  EXPECT(INFINI_ERR_NULL, UPD(ctx, &S, k, DK, v, DV, m, DV, NULL, 0.0f),
         "%s: NULL z", f);
  const ptrdiff_t bad[5][3] = {{0, DK, DV}, {-7, DK, DV}, {N, 0, DV},
                               {N, -1, DV}, {N, DK, 0}};
  for (int i = 0; i < 5; i++) {
    s.n = bad[i][0], s.d_key = bad[i][1], s.d_value = bad[i][2];
    EXPECT(INFINI_ERR_SIZE, UPD(ctx, &s, k, DK, v, DV, m, DV, z, 0.0f),
           "%s: shape (%td, %td, %td)", f, s.n, s.d_key, s.d_value);
  }
  EXPECT(INFINI_ERR_STRIDE, UPD(ctx, &S, k, DK - 1, v, DV, m, DV, z, 0.0f),
         "%s: ldk < d_key", f);
  EXPECT(INFINI_ERR_STRIDE, UPD(ctx, &S, k, DK, v, 1, m, DV, z, 0.0f),
         "%s: ldv < d_value", f);
  EXPECT(INFINI_ERR_STRIDE, UPD(ctx, &S, k, DK, v, DV, m, 0, z, 0.0f),
         "%s: ldm 0", f);
  s = S;
  s.n = HUGE_ROWS;
  EXPECT(INFINI_ERR_OVERFLOW, UPD(ctx, &s, k, 4, v, DV, m, DV, z, 0.0f),
         "%s: n PTRDIFF_MAX/2", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         UPD(ctx, &S, k, HUGE_LD, v, DV, m, DV, z, 0.0f), "%s: ldk huge", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         UPD(ctx, &S, k, DK, v, HUGE_LD, m, DV, z, 0.0f), "%s: ldv huge", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         UPD(ctx, &S, k, DK, v, DV, m, HUGE_LD, z, 0.0f), "%s: ldm huge", f);
  if (delta) {
    EXPECT(INFINI_ERR_PARAM, UPD(ctx, &S, k, DK, v, DV, m, DV, z, NAN),
           "%s: eps NaN", f);
    EXPECT(INFINI_ERR_PARAM, UPD(ctx, &S, k, DK, v, DV, m, DV, z, INFINITY),
           "%s: eps +inf", f);
    EXPECT(INFINI_ERR_PARAM, UPD(ctx, &S, k, DK, v, DV, m, DV, z, -0.5f),
           "%s: eps -0.5", f);
  }
  EXPECT(INFINI_ERR_ALIAS, UPD(ctx, &S, k, DK, v, DV, k + 1, DV, z, 0.0f),
         "%s: m overlaps k", f);
  EXPECT(INFINI_ERR_ALIAS, UPD(ctx, &S, k, DK, v, DV, v + 3, DV, z, 0.0f),
         "%s: m overlaps v", f);
  EXPECT(INFINI_ERR_ALIAS, UPD(ctx, &S, k, DK, v, DV, m, DV, k + 5, 0.0f),
         "%s: z overlaps k", f);
  EXPECT(INFINI_ERR_ALIAS,
         UPD(ctx, &S, k, DK, v, DV, m, DV, v + N * DV - 1, 0.0f),
         "%s: z starts at v's last element", f);
  EXPECT(INFINI_ERR_ALIAS,
         UPD(ctx, &S, k, DK, v, DV, m, DV, m + DK * DV - 2, 0.0f),
         "%s: z overlaps m", f);
  EXPECT(INFINI_OK, UPD(ctx, &S, k, DK, k, DV, m, DV, z, 0.0f),
         "%s: k == v (read-only inputs may alias)", f);
  EXPECT(INFINI_ERR_BACKEND, UPD(fail_ctx, &S, k, DK, v, DV, m, DV, z, 0.0f),
         "%s: kernel returns 1234", f);
  if (delta)
    EXPECT(INFINI_ERR_NOMEM, UPD(huge_ctx, &S, k, DK, v, DV, m, DV, z, 0.0f),
           "%s: workspace of 2^50 bytes", f);
#undef UPD
}

static void test_mix(void) {
  const char *f = "infini_mix";
  EXPECT(INFINI_OK, infini_mix(ctx, N, DV, 0.3f, am, DV, ad, DV, out, DV),
         "%s: valid arguments", f);
  EXPECT(INFINI_OK, infini_mix(ctx, N, DV, INFINITY, am, DV, ad, DV, out, DV),
         "%s: beta +inf (allowed)", f);
  EXPECT(INFINI_OK, infini_mix(ctx, N, DV, -INFINITY, am, DV, ad, DV, out, DV),
         "%s: beta -inf (allowed)", f);
  EXPECT(INFINI_ERR_NULL, infini_mix(NULL, N, DV, 0.3f, am, DV, ad, DV, out, DV),
         "%s: NULL ctx", f);
  EXPECT(INFINI_ERR_NULL,
         infini_mix(ctx, N, DV, 0.3f, NULL, DV, ad, DV, out, DV),
         "%s: NULL a_mem", f);
  EXPECT(INFINI_ERR_NULL,
         infini_mix(ctx, N, DV, 0.3f, am, DV, NULL, DV, out, DV),
         "%s: NULL a_dot", f);
  EXPECT(INFINI_ERR_NULL,
         infini_mix(ctx, N, DV, 0.3f, am, DV, ad, DV, NULL, DV),
         "%s: NULL out", f);
  EXPECT(INFINI_ERR_SIZE, infini_mix(ctx, 0, DV, 0.3f, am, DV, ad, DV, out, DV),
         "%s: rows 0", f);
  EXPECT(INFINI_ERR_SIZE, infini_mix(ctx, N, -1, 0.3f, am, DV, ad, DV, out, DV),
         "%s: cols -1", f);
  EXPECT(INFINI_ERR_STRIDE,
         infini_mix(ctx, N, DV, 0.3f, am, 1, ad, DV, out, DV),
         "%s: ldm < cols", f);
  EXPECT(INFINI_ERR_STRIDE,
         infini_mix(ctx, N, DV, 0.3f, am, DV, ad, 1, out, DV),
         "%s: ldd < cols", f);
  EXPECT(INFINI_ERR_STRIDE,
         infini_mix(ctx, N, DV, 0.3f, am, DV, ad, DV, out, 1),
         "%s: ldo < cols", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_mix(ctx, HUGE_ROWS, DV, 0.3f, am, 4, ad, 4, out, 4),
         "%s: rows PTRDIFF_MAX/2", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_mix(ctx, N, DV, 0.3f, am, DV, ad, DV, out, PTRDIFF_MAX / 2),
         "%s: ldo PTRDIFF_MAX/2", f);
  EXPECT(INFINI_ERR_PARAM, infini_mix(ctx, N, DV, NAN, am, DV, ad, DV, out, DV),
         "%s: beta NaN", f);
  EXPECT(INFINI_ERR_PARAM,
         infini_mix(ctx, N, DV, -NAN, am, DV, ad, DV, out, DV),
         "%s: beta -NaN", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_mix(ctx, N, DV, 0.3f, am, DV, ad, DV, am + 1, DV),
         "%s: out = a_mem + 1 (partial overlap)", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_mix(ctx, N, DV, 0.3f, am, DV, ad, DV, am, DV + 1),
         "%s: out == a_mem with ldo != ldm", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_mix(ctx, N, DV, 0.3f, am, DV, ad, DV, ad + N * DV - 1, DV),
         "%s: out starts at a_dot's last element", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_mix(ctx, N, DV, 0.3f, am, DV, am + 1, DV, am, DV),
         "%s: out == a_mem but a_dot overlaps it partially", f);

  /* Allowed: in place on either input, or on both at once. */
  float a0[N * DV], d0[N * DV], want[N * DV], io[N * DV];
  memcpy(a0, am, sizeof a0);
  memcpy(d0, ad, sizeof d0);
  bool ok = infini_mix(ctx, N, DV, 0.3f, a0, DV, d0, DV, want, DV) == INFINI_OK;
  memcpy(io, a0, sizeof io);
  ok = ok && infini_mix(ctx, N, DV, 0.3f, io, DV, d0, DV, io, DV) == INFINI_OK &&
       memcmp(io, want, sizeof io) == 0;
  tap_ok(ok, "%s: out == a_mem, same stride (allowed) -> INFINI_OK, same "
             "values", f);
  memcpy(io, d0, sizeof io);
  ok = infini_mix(ctx, N, DV, 0.3f, a0, DV, io, DV, io, DV) == INFINI_OK &&
       memcmp(io, want, sizeof io) == 0;
  tap_ok(ok, "%s: out == a_dot, same stride (allowed) -> INFINI_OK, same "
             "values", f);
  EXPECT(INFINI_OK, infini_mix(ctx, N, DV, 0.3f, am, DV, am, DV, am, DV),
         "%s: out == a_mem == a_dot (allowed)", f);
  EXPECT(INFINI_OK, infini_mix(ctx, N, DV, 0.3f, am, DV, am + 1, DV, out, DV),
         "%s: a_mem and a_dot overlapping (read-only inputs)", f);
  EXPECT(INFINI_ERR_BACKEND,
         infini_mix(fail_ctx, N, DV, 0.3f, am, DV, ad, DV, out, DV),
         "%s: kernel returns 1234", f);
}

static void test_local_attention(void) {
  const char *f = "infini_local_attention";
  infini_head_shape s = S;
  EXPECT(INFINI_OK,
         infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, 0.5f, out, DV),
         "%s: valid arguments", f);
  EXPECT(INFINI_OK,
         infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, -2.0f, out, DV),
         "%s: negative finite scale (allowed)", f);
  EXPECT(INFINI_OK,
         infini_local_attention(ctx, &S, q, DK, q, DK, q, DK, 0.5f, out, DV),
         "%s: q == k == v (self-attention on one buffer, allowed)", f);
  EXPECT(INFINI_ERR_NULL,
         infini_local_attention(NULL, &S, q, DK, k, DK, v, DV, 0.5f, out, DV),
         "%s: NULL ctx", f);
  EXPECT(INFINI_ERR_NULL,
         infini_local_attention(ctx, NULL, q, DK, k, DK, v, DV, 0.5f, out, DV),
         "%s: NULL shape", f);
  EXPECT(INFINI_ERR_NULL,
         infini_local_attention(ctx, &S, NULL, DK, k, DK, v, DV, 0.5f, out, DV),
         "%s: NULL q", f);
  EXPECT(INFINI_ERR_NULL,
         infini_local_attention(ctx, &S, q, DK, NULL, DK, v, DV, 0.5f, out, DV),
         "%s: NULL k", f);
  EXPECT(INFINI_ERR_NULL,
         infini_local_attention(ctx, &S, q, DK, k, DK, NULL, DV, 0.5f, out, DV),
         "%s: NULL v", f);
  EXPECT(INFINI_ERR_NULL,
         infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, 0.5f, NULL, DV),
         "%s: NULL out", f);
  const ptrdiff_t bad[4][3] = {{0, DK, DV}, {N, 0, DV}, {N, DK, -1},
                               {PTRDIFF_MIN, DK, DV}};
  for (int i = 0; i < 4; i++) {
    s.n = bad[i][0], s.d_key = bad[i][1], s.d_value = bad[i][2];
    EXPECT(INFINI_ERR_SIZE,
           infini_local_attention(ctx, &s, q, DK, k, DK, v, DV, 0.5f, out, DV),
           "%s: shape (%td, %td, %td)", f, s.n, s.d_key, s.d_value);
  }
  EXPECT(INFINI_ERR_STRIDE,
         infini_local_attention(ctx, &S, q, 2, k, DK, v, DV, 0.5f, out, DV),
         "%s: ldq < d_key", f);
  EXPECT(INFINI_ERR_STRIDE,
         infini_local_attention(ctx, &S, q, DK, k, 2, v, DV, 0.5f, out, DV),
         "%s: ldk < d_key", f);
  EXPECT(INFINI_ERR_STRIDE,
         infini_local_attention(ctx, &S, q, DK, k, DK, v, 1, 0.5f, out, DV),
         "%s: ldv < d_value", f);
  EXPECT(INFINI_ERR_STRIDE,
         infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, 0.5f, out, 1),
         "%s: ldo < d_value", f);
  s = S;
  s.n = HUGE_ROWS;
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_local_attention(ctx, &s, q, 4, k, 4, v, 4, 0.5f, out, 4),
         "%s: n PTRDIFF_MAX/2", f);
  s.n = BIG_ROWS;
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_local_attention(ctx, &s, q, 4, k, 4, v, 4, 0.5f, out, 4),
         "%s: n PTRDIFF_MAX/8, ld 4", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_local_attention(ctx, &S, q, DK, k, HUGE_LD, v, DV, 0.5f, out,
                                DV),
         "%s: ldk huge", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, 0.5f, out,
                                HUGE_LD),
         "%s: ldo huge", f);
  const float bad_scale[3] = {NAN, INFINITY, -INFINITY};
  const char *sn[3] = {"NaN", "+inf", "-inf"};
  for (int i = 0; i < 3; i++)
    EXPECT(INFINI_ERR_PARAM,
           infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, bad_scale[i],
                                  out, DV),
           "%s: scale %s", f, sn[i]);
  EXPECT(INFINI_ERR_ALIAS,
         infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, 0.5f, q + 3, DV),
         "%s: out overlaps q", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, 0.5f, k, DV),
         "%s: out == k", f);
  EXPECT(INFINI_ERR_ALIAS,
         infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, 0.5f, v - 1, DV),
         "%s: out overlaps v", f);
  EXPECT(INFINI_ERR_BACKEND,
         infini_local_attention(fail_ctx, &S, q, DK, k, DK, v, DV, 0.5f, out,
                                DV),
         "%s: kernel returns 1234", f);
  EXPECT(INFINI_ERR_NOMEM,
         infini_local_attention(huge_ctx, &S, q, DK, k, DK, v, DV, 0.5f, out,
                                DV),
         "%s: workspace of 2^50 bytes", f);
}

static void test_segment_step(void) {
  const char *f = "infini_segment_step";
  const infini_step_params P = {INFINI_UPDATE_DELTA, 0.2f, 0.0f, 0.5f};
  infini_step_params p = P;
  infini_head_shape s = S;
#define STEP(c, sh, pp, qq, ldq, kk, ldk, vv, ldv, mm, ldm, zz, oo, ldo)      \
  infini_segment_step((c), (sh), (pp), (qq), (ldq), (kk), (ldk), (vv), (ldv), \
                      (mm), (ldm), (zz), (oo), (ldo))
  EXPECT(INFINI_OK, STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: valid arguments", f);
  EXPECT(INFINI_ERR_NULL,
         STEP(NULL, &S, &P, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: NULL ctx", f);
  EXPECT(INFINI_ERR_NULL,
         STEP(ctx, NULL, &P, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: NULL shape", f);
  EXPECT(INFINI_ERR_NULL,
         STEP(ctx, &S, NULL, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: NULL params", f);
  EXPECT(INFINI_ERR_NULL,
         STEP(ctx, &S, &P, NULL, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: NULL q", f);
  EXPECT(INFINI_ERR_NULL,
         STEP(ctx, &S, &P, q, DK, NULL, DK, v, DV, m, DV, z, out, DV),
         "%s: NULL k", f);
  EXPECT(INFINI_ERR_NULL,
         STEP(ctx, &S, &P, q, DK, k, DK, NULL, DV, m, DV, z, out, DV),
         "%s: NULL v", f);
  EXPECT(INFINI_ERR_NULL,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, NULL, DV, z, out, DV),
         "%s: NULL m", f);
  EXPECT(INFINI_ERR_NULL,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, NULL, out, DV),
         "%s: NULL z", f);
  EXPECT(INFINI_ERR_NULL,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, NULL, DV),
         "%s: NULL out", f);
  const ptrdiff_t bad[5][3] = {{0, DK, DV}, {-1, DK, DV}, {N, 0, DV},
                               {N, DK, 0}, {N, DK, -9}};
  for (int i = 0; i < 5; i++) {
    s.n = bad[i][0], s.d_key = bad[i][1], s.d_value = bad[i][2];
    EXPECT(INFINI_ERR_SIZE,
           STEP(ctx, &s, &P, q, DK, k, DK, v, DV, m, DV, z, out, DV),
           "%s: shape (%td, %td, %td)", f, s.n, s.d_key, s.d_value);
  }
  EXPECT(INFINI_ERR_STRIDE,
         STEP(ctx, &S, &P, q, 1, k, DK, v, DV, m, DV, z, out, DV),
         "%s: ldq < d_key", f);
  EXPECT(INFINI_ERR_STRIDE,
         STEP(ctx, &S, &P, q, DK, k, 2, v, DV, m, DV, z, out, DV),
         "%s: ldk < d_key", f);
  EXPECT(INFINI_ERR_STRIDE,
         STEP(ctx, &S, &P, q, DK, k, DK, v, 0, m, DV, z, out, DV),
         "%s: ldv 0", f);
  EXPECT(INFINI_ERR_STRIDE,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, 1, z, out, DV),
         "%s: ldm < d_value", f);
  EXPECT(INFINI_ERR_STRIDE,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, out, -2),
         "%s: ldo -2", f);
  s = S;
  s.n = HUGE_ROWS;
  EXPECT(INFINI_ERR_OVERFLOW,
         STEP(ctx, &s, &P, q, 4, k, 4, v, 4, m, DV, z, out, 4),
         "%s: n PTRDIFF_MAX/2", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         STEP(ctx, &S, &P, q, DK, k, DK, v, HUGE_LD, m, DV, z, out, DV),
         "%s: ldv huge", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, HUGE_LD, z, out, DV),
         "%s: ldm huge", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, out, PTRDIFF_MAX / 2),
         "%s: ldo PTRDIFF_MAX/2", f);
  p = P;
  p.rule = (infini_update_rule)2;
  EXPECT(INFINI_ERR_PARAM,
         STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: rule 2 (invalid)", f);
  p.rule = (infini_update_rule)-1;
  EXPECT(INFINI_ERR_PARAM,
         STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: rule -1 (invalid)", f);
  p = P;
  p.beta = NAN;
  EXPECT(INFINI_ERR_PARAM,
         STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: beta NaN", f);
  p = P;
  p.eps = NAN;
  EXPECT(INFINI_ERR_PARAM,
         STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: eps NaN", f);
  p.eps = INFINITY;
  EXPECT(INFINI_ERR_PARAM,
         STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: eps +inf", f);
  p.eps = -1e-3f;
  EXPECT(INFINI_ERR_PARAM,
         STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: eps negative", f);
  p = P;
  p.scale = NAN;
  EXPECT(INFINI_ERR_PARAM,
         STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: scale NaN", f);
  p.scale = -INFINITY;
  EXPECT(INFINI_ERR_PARAM,
         STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: scale -inf", f);
  p = P;
  p.beta = INFINITY;
  EXPECT(INFINI_OK, STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: beta +inf (allowed)", f);
  p.beta = -INFINITY;
  p.rule = INFINI_UPDATE_LINEAR;
  EXPECT(INFINI_OK, STEP(ctx, &S, &p, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: beta -inf, linear (allowed)", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, q + 1, DV),
         "%s: out overlaps q", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, k + 4, DV),
         "%s: out overlaps k", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, v, DV),
         "%s: out == v", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, m + 1, DV),
         "%s: out overlaps m", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, z + 2, DV),
         "%s: out overlaps z", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, q + 2, DV, z, out, DV),
         "%s: m overlaps q", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, k + 1, DV, z, out, DV),
         "%s: m overlaps k", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, v + 2, DV, z, out, DV),
         "%s: m overlaps v", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, q + 11, out, DV),
         "%s: z starts at q's last element", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, k + 9, out, DV),
         "%s: z overlaps k", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, v + 5, out, DV),
         "%s: z overlaps v", f);
  EXPECT(INFINI_ERR_ALIAS,
         STEP(ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, m + 4, out, DV),
         "%s: z overlaps m", f);
  EXPECT(INFINI_OK, STEP(ctx, &S, &P, q, DK, q, DK, q, DK, m, DV, z, out, DV),
         "%s: q == k == v (read-only inputs may alias)", f);
  EXPECT(INFINI_ERR_BACKEND,
         STEP(fail_ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: fused kernel returns 1234", f);
  EXPECT(INFINI_ERR_BACKEND,
         STEP(fail_comp_ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: composed (segment_step NULL), retrieve returns 1234", f);
  EXPECT(INFINI_ERR_NOMEM,
         STEP(huge_ctx, &S, &P, q, DK, k, DK, v, DV, m, DV, z, out, DV),
         "%s: workspace of 2^50 bytes", f);
#undef STEP
}

static void test_layer_step(void) {
  const char *f = "infini_layer_step";
  infini_layer_config c = LC;
#define LAYER(cx, cf, n, qq, ldq, kk, ldk, vv, ldv, bb, st, oo, ldo)          \
  infini_layer_step((cx), (cf), (n), (qq), (ldq), (kk), (ldk), (vv), (ldv),   \
                    (bb), (st), (oo), (ldo))
  EXPECT(INFINI_OK,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: valid arguments (H = 4, H_kv = 2)", f);
  EXPECT(INFINI_ERR_NULL,
         LAYER(NULL, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: NULL ctx", f);
  EXPECT(INFINI_ERR_NULL,
         LAYER(ctx, NULL, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: NULL config", f);
  EXPECT(INFINI_ERR_NULL,
         LAYER(ctx, &LC, N, NULL, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: NULL q", f);
  EXPECT(INFINI_ERR_NULL,
         LAYER(ctx, &LC, N, lq, LDQ, NULL, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: NULL k", f);
  EXPECT(INFINI_ERR_NULL,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, NULL, LDV, lbeta, state, lo, LDO),
         "%s: NULL v", f);
  EXPECT(INFINI_ERR_NULL,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, NULL, state, lo, LDO),
         "%s: NULL beta", f);
  EXPECT(INFINI_ERR_NULL,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, NULL, lo, LDO),
         "%s: NULL state", f);
  EXPECT(INFINI_ERR_NULL,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, NULL, LDO),
         "%s: NULL out", f);
  EXPECT(INFINI_ERR_SIZE,
         LAYER(ctx, &LC, 0, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: n 0", f);
  EXPECT(INFINI_ERR_SIZE,
         LAYER(ctx, &LC, -3, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: n -3", f);
  const struct {
    ptrdiff_t H_, Hkv, dk, dv;
    const char *what;
  } bad[5] = {{0, HKV, DK, DV, "n_heads 0"},
              {H, 0, DK, DV, "n_kv_heads 0"},
              {H, -2, DK, DV, "n_kv_heads -2"},
              {H, HKV, 0, DV, "d_key 0"},
              {H, HKV, DK, -1, "d_value -1"}};
  for (int i = 0; i < 5; i++) {
    c = LC;
    c.n_heads = bad[i].H_, c.n_kv_heads = bad[i].Hkv;
    c.d_key = bad[i].dk, c.d_value = bad[i].dv;
    EXPECT(INFINI_ERR_SIZE,
           LAYER(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
           "%s: %s", f, bad[i].what);
  }
  c = LC;
  c.n_kv_heads = 3; /* 3 does not divide 4 */
  EXPECT(INFINI_ERR_SHAPE,
         LAYER(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: H_kv = 3 does not divide H = 4", f);
  c = LC;
  c.n_heads = 2, c.n_kv_heads = 4;
  EXPECT(INFINI_ERR_SHAPE,
         LAYER(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: H_kv = 4 > H = 2", f);
  /* A state of another shape (H_kv, d_key, d_value each). */
  const ptrdiff_t other[3][3] = {{1, DK, DV}, {HKV, DK + 1, DV}, {HKV, DK, 1}};
  const char *oname[3] = {"H_kv 1", "d_key 4", "d_value 1"};
  for (int i = 0; i < 3; i++) {
    infini_state *o = NULL;
    if (infini_state_create(other[i][0], other[i][1], other[i][2], &o) !=
        INFINI_OK)
      continue;
    float *om, *oz;
    ptrdiff_t old;
    infini_state_head(o, 0, &om, &old, &oz);
    om[0] = 5;
    const infini_status st =
        LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, o, lo, LDO);
    tap_ok(st == INFINI_ERR_SHAPE && om[0] == 5 && oz[0] == 0,
           "%s: state of another shape (%s) -> INFINI_ERR_SHAPE, state "
           "untouched", f, oname[i]);
    infini_state_free(o);
  }
  c = LC;
  c.rule = (infini_update_rule)7;
  EXPECT(INFINI_ERR_PARAM,
         LAYER(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: rule 7 (invalid)", f);
  c = LC;
  c.eps = NAN;
  EXPECT(INFINI_ERR_PARAM,
         LAYER(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: eps NaN", f);
  c.eps = -1;
  EXPECT(INFINI_ERR_PARAM,
         LAYER(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: eps -1", f);
  c = LC;
  c.scale = INFINITY;
  EXPECT(INFINI_ERR_PARAM,
         LAYER(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: scale +inf", f);
  c.scale = NAN;
  EXPECT(INFINI_ERR_PARAM,
         LAYER(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: scale NaN", f);
  lbeta[2] = NAN;
  EXPECT(INFINI_ERR_PARAM,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: beta[2] NaN", f);
  lbeta[2] = INFINITY;
  lbeta[3] = -INFINITY;
  EXPECT(INFINI_OK,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, LDO),
         "%s: beta[2] = +inf, beta[3] = -inf (allowed)", f);
  lbeta[2] = 2.0f;
  lbeta[3] = 0.0f;
  EXPECT(INFINI_ERR_STRIDE,
         LAYER(ctx, &LC, N, lq, LDQ - 1, lk, LDK, lv, LDV, lbeta, state, lo,
               LDO),
         "%s: ldq < H*d_key", f);
  EXPECT(INFINI_ERR_STRIDE,
         LAYER(ctx, &LC, N, lq, LDQ, lk, DK, lv, LDV, lbeta, state, lo, LDO),
         "%s: ldk = d_key < H_kv*d_key", f);
  EXPECT(INFINI_ERR_STRIDE,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV - 1, lbeta, state, lo,
               LDO),
         "%s: ldv < H_kv*d_value", f);
  EXPECT(INFINI_ERR_STRIDE,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo, DV),
         "%s: ldo = d_value < H*d_value", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         LAYER(ctx, &LC, HUGE_ROWS, lq, LDQ, lk, LDK, lv, LDV, lbeta, state,
               lo, LDO),
         "%s: n PTRDIFF_MAX/2", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         LAYER(ctx, &LC, N, lq, HUGE_LD, lk, LDK, lv, LDV, lbeta, state, lo,
               LDO),
         "%s: ldq huge", f);
  EXPECT(INFINI_ERR_OVERFLOW,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo,
               PTRDIFF_MAX / 2),
         "%s: ldo PTRDIFF_MAX/2", f);
  {
    /* H * d_key overflows (H even, H_kv = 2 divides it; the state matches
     * H_kv, d_key, d_value); beta has 4 entries, so it must not be read
     * for all H heads first (ASan). ldq < H*d_key holds as well, so by
     * (S19) INFINI_ERR_STRIDE is also a correct answer. */
    c = LC;
    c.n_heads = PTRDIFF_MAX / 2 - 1;
    EXPECT_SET(ST(INFINI_ERR_OVERFLOW) | ST(INFINI_ERR_STRIDE),
               LAYER(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo,
                     LDO),
               "%s: n_heads*d_key overflows ptrdiff_t", f);
  }
  EXPECT(INFINI_ERR_ALIAS,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lq + 5,
               LDO),
         "%s: out overlaps q", f);
  EXPECT(INFINI_ERR_ALIAS,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state,
               lk + N * LDK - 1, LDO),
         "%s: out starts at k's last element", f);
  EXPECT(INFINI_ERR_ALIAS,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lv, LDO),
         "%s: out == v", f);
  /* (lo holds the finite outputs of the valid calls above, so these betas
   * are valid numbers and aliasing is the only fault.) */
  EXPECT(INFINI_ERR_ALIAS,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lo + 3, state, lo, LDO),
         "%s: beta inside out", f);
  /* The state's own memory passed as an input. */
  EXPECT(INFINI_ERR_ALIAS,
         LAYER(ctx, &LC, 1, state_m, LDQ, lk, LDK, lv, LDV, lbeta, state, lo,
               LDO),
         "%s: q is the state's M (1 row of H*d_key = all of M)", f);
  EXPECT(INFINI_ERR_ALIAS,
         LAYER(ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, state_z, state, lo, LDO),
         "%s: beta is the state's z", f);
  EXPECT(INFINI_ERR_ALIAS,
         LAYER(ctx, &LC, 1, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, state_m,
               LDO),
         "%s: out is the state's M (n = 1)", f);
  EXPECT(INFINI_ERR_ALIAS,
         LAYER(ctx, &LC, 1, lq, LDQ, lk, LDK, state_z, LDV, lbeta, state, lo,
               LDO),
         "%s: v is the state's z (n = 1)", f);
  EXPECT(INFINI_OK,
         LAYER(ctx, &LC, N, lq, LDQ, lq, LDQ, lq, LDQ, lbeta, state, lo, LDO),
         "%s: q == k == v (read-only inputs may alias)", f);
  EXPECT(INFINI_ERR_BACKEND,
         LAYER(fail_ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo,
               LDO),
         "%s: fused kernel returns 1234", f);
  EXPECT(INFINI_ERR_BACKEND,
         LAYER(fail_comp_ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state,
               lo, LDO),
         "%s: composed (layer_step NULL), retrieve returns 1234", f);
  EXPECT(INFINI_ERR_NOMEM,
         LAYER(huge_ctx, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state, lo,
               LDO),
         "%s: workspace of 2^50 bytes", f);
#undef LAYER
}

/* Other out-of-range kernel statuses are mapped too; a kernel's own
 * INFINI_ERR_BACKEND passes through. */
static void test_kernel_status(void) {
  const infini_status codes[3] = {(infini_status)-1,
                                  (infini_status)INFINI_STATUS_COUNT,
                                  INFINI_ERR_BACKEND};
  const char *names[3] = {"-1", "INFINI_STATUS_COUNT", "INFINI_ERR_BACKEND"};
  for (int i = 0; i < 3; i++) {
    fail_code = codes[i];
    fail_calls = 0;
    bool ok = infini_mix(fail_ctx, N, DV, 0.0f, am, DV, ad, DV, out, DV) ==
                  INFINI_ERR_BACKEND &&
              infini_retrieve(fail_ctx, &S, q, DK, m, DV, z, 0.0f, out, DV) ==
                  INFINI_ERR_BACKEND &&
              infini_layer_step(fail_comp_ctx, &LC, N, lq, LDQ, lk, LDK, lv,
                                LDV, lbeta, state, lo, LDO) ==
                  INFINI_ERR_BACKEND &&
              fail_calls == 3;
    tap_ok(ok, "kernels returning %s -> INFINI_ERR_BACKEND (mix, retrieve, "
               "composed layer step stops at the first failure)", names[i]);
  }
  fail_code = (infini_status)1234;
}

/* workspace_bytes near SIZE_MAX: the round-up to 64 bytes (SIZE_MAX) and
 * the A_mem bytes the composed steps add (SIZE_MAX - 100) must not wrap to
 * a small workspace; the call is refused and no kernel runs. (These cases
 * caught a real wrap-around in src/context.c and src/compose.c.) */
static void test_workspace_overflow(void) {
  infini_context *c = NULL;
  if (infini_context_create(&be_maxws, &c) != INFINI_OK) {
    tap_ok(false, "context on tb_maxwork");
    return;
  }
  const unsigned refuse = ST(INFINI_ERR_NOMEM) | ST(INFINI_ERR_OVERFLOW);
  const infini_step_params P = {INFINI_UPDATE_DELTA, 0.2f, 0.0f, 0.5f};
  const struct {
    size_t ws;
    const char *what, *todo;
  } cases[3] = {
      {SIZE_MAX - 100, "SIZE_MAX - 100", NULL},
      {SIZE_MAX, "SIZE_MAX", NULL},
      {SIZE_MAX - 100, "SIZE_MAX - 100", NULL},
  };
  /* (A called kernel shows as INFINI_ERR_BACKEND: these kernels fail.) */
  for (int i = 0; i < 3; i++) {
    maxws_value = cases[i].ws;
    todo_note = cases[i].todo;
    if (i < 2) {
      EXPECT_SET(refuse,
                 infini_local_attention(c, &S, q, DK, k, DK, v, DV, 0.5f, out,
                                        DV),
                 "infini_local_attention: workspace_bytes = %s, no kernel call",
                 cases[i].what);
      EXPECT_SET(refuse,
                 infini_update_delta(c, &S, k, DK, v, DV, m, DV, z, 0.0f),
                 "infini_update_delta: workspace_bytes = %s, no kernel call",
                 cases[i].what);
    } else {
      EXPECT_SET(refuse,
                 infini_segment_step(c, &S, &P, q, DK, k, DK, v, DV, m, DV, z,
                                     out, DV),
                 "infini_segment_step, composed: workspace_bytes = %s, no "
                 "kernel call", cases[i].what);
      EXPECT_SET(refuse,
                 infini_layer_step(c, &LC, N, lq, LDQ, lk, LDK, lv, LDV, lbeta,
                                   state, lo, LDO),
                 "infini_layer_step, composed: workspace_bytes = %s, no kernel "
                 "call", cases[i].what);
    }
  }
  todo_note = NULL;
  maxws_value = SIZE_MAX;
  fail_calls = 0;
  infini_context_free(c);
}

/* ----------------------------------------------------------------------- */
/* The library's composition = the ref backend's fused entries, bitwise.     */
/* ----------------------------------------------------------------------- */

static void test_composition(void) {
  infini_context *cc = NULL;
  if (infini_context_create(&be_comp, &cc) != INFINI_OK) {
    tap_ok(false, "context on the composed test backend");
    return;
  }
  const ptrdiff_t n = 7, dk = 5, dv = 3;
  const infini_head_shape s = {n, dk, dv};
  tu_rng r = tu_rng_seed(0xC0C0);
  for (int rule = 0; rule < 2; rule++) {
    const infini_step_params p = {(infini_update_rule)rule, -0.4f,
                                  rule ? 0.01f : 0.0f, 0.6f};
    float m1[5 * 3] = {0}, z1[5] = {0}, m2[5 * 3] = {0}, z2[5] = {0};
    float qq[7 * 5], kk[7 * 5], vv[7 * 3], o1[7 * 3], o2[7 * 3];
    bool ok = true;
    ws_calls = ws_misaligned = 0;
    for (int seg = 0; seg < 3 && ok; seg++) {
      tu_fill(&r, n, dk, qq, dk, -2, 2);
      tu_fill(&r, n, dk, kk, dk, -2, 2);
      tu_fill(&r, n, dv, vv, dv, -1, 1);
      ok = infini_segment_step(ctx, &s, &p, qq, dk, kk, dk, vv, dv, m1, dv, z1,
                               o1, dv) == INFINI_OK &&
           infini_segment_step(cc, &s, &p, qq, dk, kk, dk, vv, dv, m2, dv, z2,
                               o2, dv) == INFINI_OK &&
           tu_same_bits(n, dv, o1, dv, o2, dv) &&
           tu_same_bits(dk, dv, m1, dv, m2, dv) &&
           tu_same_bits(1, dk, z1, dk, z2, dk);
    }
    tap_ok(ok, "composed segment_step (backend without segment_step) = ref's "
               "fused entry, %s, 3 segments (bitwise)",
           rule ? "delta" : "linear");
    tap_ok(ws_calls > 0 && ws_misaligned == 0,
           "composed segment_step, %s: kernels got 64-byte aligned workspace "
           "(%d calls)", rule ? "delta" : "linear", ws_calls);
  }
  /* Layer step, H = 4, H_kv = 2 and H = 3, H_kv = 1. */
  const ptrdiff_t cfgs[2][2] = {{4, 2}, {3, 1}};
  for (int ci = 0; ci < 2; ci++) {
    for (int rule = 0; rule < 2; rule++) {
      const ptrdiff_t Hq = cfgs[ci][0], Hk = cfgs[ci][1];
      const infini_layer_config c = {Hq, Hk, dk, dv, (infini_update_rule)rule,
                                     0.0f, 0.45f};
      const float b[4] = {0.3f, -2.0f, INFINITY, 1.0f};
      float *qq = calloc((size_t)(n * Hq * dk), sizeof(float));
      float *kk = calloc((size_t)(n * Hk * dk), sizeof(float));
      float *vv = calloc((size_t)(n * Hk * dv), sizeof(float));
      float *o1 = calloc((size_t)(n * Hq * dv), sizeof(float));
      float *o2 = calloc((size_t)(n * Hq * dv), sizeof(float));
      infini_state *s1 = NULL, *s2 = NULL;
      bool ok = qq && kk && vv && o1 && o2 &&
                infini_state_create(Hk, dk, dv, &s1) == INFINI_OK &&
                infini_state_create(Hk, dk, dv, &s2) == INFINI_OK;
      ws_calls = ws_misaligned = 0;
      for (int seg = 0; seg < 3 && ok; seg++) {
        tu_fill(&r, n, Hq * dk, qq, Hq * dk, -2, 2);
        tu_fill(&r, n, Hk * dk, kk, Hk * dk, -2, 2);
        tu_fill(&r, n, Hk * dv, vv, Hk * dv, -1, 1);
        ok = infini_layer_step(ctx, &c, n, qq, Hq * dk, kk, Hk * dk, vv,
                               Hk * dv, b, s1, o1, Hq * dv) == INFINI_OK &&
             infini_layer_step(cc, &c, n, qq, Hq * dk, kk, Hk * dk, vv,
                               Hk * dv, b, s2, o2, Hq * dv) == INFINI_OK &&
             tu_same_bits(n, Hq * dv, o1, Hq * dv, o2, Hq * dv);
        for (ptrdiff_t g = 0; g < Hk && ok; g++) {
          float *ma, *za, *mb, *zb;
          ptrdiff_t la, lb;
          ok = infini_state_head(s1, g, &ma, &la, &za) == INFINI_OK &&
               infini_state_head(s2, g, &mb, &lb, &zb) == INFINI_OK &&
               tu_same_bits(dk, dv, ma, la, mb, lb) &&
               tu_same_bits(1, dk, za, dk, zb, dk);
        }
      }
      tap_ok(ok && ws_misaligned == 0,
             "composed layer_step (backend without layer_step) = ref's fused "
             "entry, H=%td, H_kv=%td, %s, 3 segments (bitwise, aligned "
             "workspace)", Hq, Hk, rule ? "delta" : "linear");
      infini_state_free(s1);
      infini_state_free(s2);
      free(qq), free(kk), free(vv), free(o1), free(o2);
    }
  }
  infini_context_free(cc);
}

/* ----------------------------------------------------------------------- */
/* Plugins and a full registry.                                              */
/* ----------------------------------------------------------------------- */

/* The test plugin, built by libtool into its objdir (LT_OBJDIR, from
 * config.h) under the build tree's tests/ (TEST_PLUGIN_DIR, from
 * tests/local.mk). */
#if defined(TEST_PLUGIN_DIR) && defined(LT_OBJDIR)
#define TEST_PLUGIN_PATH TEST_PLUGIN_DIR "/" LT_OBJDIR "plugin_test.so"
#else
#define TEST_PLUGIN_PATH ""
#endif

static bool plugin_loaded;

static void test_plugins(void) {
  const infini_backend *be = (const infini_backend *)&be_huge, *const keep = be;
  const char *f = "infini_plugin_load";
  tap_ok(infini_plugin_load(NULL, &be) == INFINI_ERR_NULL && be == keep,
         "%s: NULL path -> INFINI_ERR_NULL", f);
  tap_ok(infini_plugin_load("/nonexistent/infini-plugin.so", NULL) ==
             INFINI_ERR_NULL,
         "%s: NULL out -> INFINI_ERR_NULL", f);
  const size_t count0 = infini_backend_count();
  tap_ok(infini_plugin_load("/nonexistent/infini-plugin.so", &be) ==
                 INFINI_ERR_PLUGIN && be == keep &&
             infini_backend_count() == count0,
         "%s: nonexistent path -> INFINI_ERR_PLUGIN, out untouched", f);

  /* A file that is not a shared object. */
  char tmpl[] = "/tmp/infini-test-notso-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd >= 0) {
    const char text[] = "not an ELF file\n";
    const bool wrote = write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1);
    close(fd);
    tap_ok(wrote && infini_plugin_load(tmpl, &be) == INFINI_ERR_PLUGIN &&
               be == keep,
           "%s: a text file -> INFINI_ERR_PLUGIN", f);
    unlink(tmpl);
  } else {
    tap_ok(true, "%s: a text file -> INFINI_ERR_PLUGIN # SKIP mkstemp failed",
           f);
  }
  /* A real shared object without the entry point. */
  tap_ok(infini_plugin_load("libm.so.6", &be) == INFINI_ERR_PLUGIN &&
             be == keep && infini_backend_count() == count0,
         "%s: a shared object without %s (libm.so.6) -> INFINI_ERR_PLUGIN", f,
         INFINI_PLUGIN_SYMBOL);

  if (TEST_PLUGIN_PATH[0] == '\0' || access(TEST_PLUGIN_PATH, R_OK) != 0) {
    tap_ok(true, "%s: test plugin cases # SKIP %s not built", f,
           TEST_PLUGIN_PATH);
    return;
  }
  setenv("INFINI_TEST_PLUGIN_MODE", "null", 1);
  tap_ok(infini_plugin_load(TEST_PLUGIN_PATH, &be) == INFINI_ERR_PLUGIN &&
             be == keep && infini_backend_count() == count0,
         "%s: entry point returns NULL -> INFINI_ERR_PLUGIN", f);
  setenv("INFINI_TEST_PLUGIN_MODE", "badabi", 1);
  tap_ok(infini_plugin_load(TEST_PLUGIN_PATH, &be) == INFINI_ERR_ABI &&
             be == keep && infini_backend_count() == count0,
         "%s: table with another ABI version -> INFINI_ERR_ABI", f);
  setenv("INFINI_TEST_PLUGIN_MODE", "good", 1);
  const bool ok = infini_plugin_load(TEST_PLUGIN_PATH, &be) == INFINI_OK &&
                  be != keep && strcmp(be->name, "testplugin") == 0 &&
                  infini_backend_count() == count0 + 1;
  tap_ok(ok, "%s: valid plugin -> INFINI_OK, registered as \"testplugin\"", f);
  plugin_loaded = ok;
  if (ok) {
    const infini_backend *found = NULL;
    infini_context *pc = NULL;
    float want[N * DK], got[N * DK];
    bool run = infini_backend_find("testplugin", &found) == INFINI_OK &&
               found == be && infini_context_create(be, &pc) == INFINI_OK &&
               infini_feature_map(ctx, N, DK, x, DK, want, DK) == INFINI_OK &&
               infini_feature_map(pc, N, DK, x, DK, got, DK) == INFINI_OK &&
               tu_close_ff("sigma", N, DK, got, DK, want, DK, 2e-7, 0);
    EXPECT(INFINI_ERR_BACKEND,
           infini_retrieve(pc, &S, q, DK, m, DV, z, 0.0f, out, DV),
           "plugin backend: its retrieve reports INFINI_ERR_BACKEND");
    tap_ok(run, "plugin backend: found by name, context created, its "
                "feature_map matches ref");
    infini_context_free(pc);
  }
  const infini_backend *before = be;
  tap_ok(infini_plugin_load(TEST_PLUGIN_PATH, &be) == INFINI_ERR_PARAM &&
             be == before && infini_backend_count() == count0 + (ok ? 1 : 0),
         "%s: the same plugin again (duplicate name) -> INFINI_ERR_PARAM", f);
}

static void test_full_registry(void) {
  /* 64 distinct names; registration stores the pointer, so both the names
   * and the tables are static. */
  static char names[64][16];
  static infini_backend fill[64];
  const size_t extra_before = infini_backend_count() - n_builtin;
  size_t accepted = 0;
  infini_status st = INFINI_OK;
  int i = 0;
  for (; i < 64; i++) {
    snprintf(names[i], sizeof names[i], "tb_fill_%02d", i);
    fill[i] = be_comp;
    fill[i].name = names[i];
    st = infini_backend_register(&fill[i]);
    if (st != INFINI_OK)
      break;
    accepted++;
  }
  tap_diag("registry: %zu extra backends before filling, %zu accepted",
           extra_before, accepted);
  tap_ok(st == INFINI_ERR_FULL && extra_before + accepted == 64 &&
             infini_backend_count() == n_builtin + 64,
         "infini_backend_register: the registry holds exactly 64 extra "
         "backends, then INFINI_ERR_FULL");
  const infini_backend *be = NULL;
  tap_ok(i < 64 && infini_backend_find(names[i], &be) == INFINI_ERR_NOT_FOUND &&
             i > 0 && infini_backend_find(names[i - 1], &be) == INFINI_OK &&
             be == &fill[i - 1],
         "full registry: the refused backend is not listed, the last accepted "
         "one is");
  static infini_backend one_more;
  one_more = be_comp;
  one_more.name = "tb_one_more";
  tap_ok(infini_backend_register(&one_more) == INFINI_ERR_FULL &&
             infini_backend_count() == n_builtin + 64,
         "full registry: another register -> INFINI_ERR_FULL");
  if (plugin_loaded) {
    setenv("INFINI_TEST_PLUGIN_MODE", "second", 1);
    const infini_backend *const keep = (const infini_backend *)&be_huge;
    be = keep;
    tap_ok(infini_plugin_load(TEST_PLUGIN_PATH, &be) == INFINI_ERR_FULL &&
               be == keep && infini_backend_count() == n_builtin + 64,
           "infini_plugin_load: a new plugin backend into a full registry -> "
           "INFINI_ERR_FULL");
  } else {
    tap_ok(true, "infini_plugin_load into a full registry # SKIP no plugin");
  }
  unsetenv("INFINI_TEST_PLUGIN_MODE");
}

/* ----------------------------------------------------------------------- */
/* Every float parameter against NaN, -NaN, +-Inf and out-of-range values   */
/* ----------------------------------------------------------------------- */

/* The values each float parameter is tried with, and which of them each
 * kind of parameter accepts (include/infini.h): eps finite and >= 0, scale
 * finite, beta anything but NaN. */
enum { N_ODD = 7 };
static const char *const odd_names[N_ODD] = {"NaN", "-NaN", "+Inf", "-Inf",
                                             "-1", "-FLT_MIN", "FLT_MAX"};
typedef enum { P_EPS, P_SCALE, P_BETA } param_kind;

static float odd_value(int i) {
  const float vals[N_ODD] = {NAN, -NAN, INFINITY, -INFINITY, -1.0f,
                             -FLT_MIN, FLT_MAX};
  return vals[i];
}

static bool odd_allowed(param_kind kind, int i) {
  const bool finite = i >= 4, nonneg = i == 6;
  return kind == P_EPS ? finite && nonneg : kind == P_SCALE ? finite : i >= 2;
}

/* One call of an entry point with one float parameter set to p. */
typedef infini_status (*param_call)(float p);

static infini_status c_retrieve_eps(float p) {
  return infini_retrieve(ctx, &S, q, DK, m, DV, z, p, out, DV);
}
static infini_status c_delta_eps(float p) {
  return infini_update_delta(ctx, &S, k, DK, v, DV, m, DV, z, p);
}
static infini_status c_mix_beta(float p) {
  return infini_mix(ctx, N, DV, p, am, DV, ad, DV, out, DV);
}
static infini_status c_attention_scale(float p) {
  return infini_local_attention(ctx, &S, q, DK, k, DK, v, DV, p, out, DV);
}
static infini_status c_step(infini_step_params sp) {
  return infini_segment_step(ctx, &S, &sp, q, DK, k, DK, v, DV, m, DV, z, out,
                             DV);
}
static const infini_step_params P0 = {INFINI_UPDATE_DELTA, 0.5f, 0.0f, 0.5f};
static infini_status c_step_beta(float p) {
  infini_step_params sp = P0;
  sp.beta = p;
  return c_step(sp);
}
static infini_status c_step_eps(float p) {
  infini_step_params sp = P0;
  sp.eps = p;
  return c_step(sp);
}
static infini_status c_step_scale(float p) {
  infini_step_params sp = P0;
  sp.scale = p;
  return c_step(sp);
}
static infini_status c_layer(infini_layer_config c) {
  return infini_layer_step(ctx, &c, N, lq, LDQ, lk, LDK, lv, LDV, lbeta, state,
                           lo, LDO);
}
static infini_status c_layer_eps(float p) {
  infini_layer_config c = LC;
  c.rule = INFINI_UPDATE_DELTA;
  c.eps = p;
  return c_layer(c);
}
static infini_status c_layer_scale(float p) {
  infini_layer_config c = LC;
  c.scale = p;
  return c_layer(c);
}
/* Each entry of the layer's beta array in turn (the last one here). */
static infini_status c_layer_beta(float p) {
  const float keep = lbeta[H - 1];
  lbeta[H - 1] = p;
  snap_take(); /* the changed beta is an input, not an output */
  const infini_status st = c_layer(LC);
  lbeta[H - 1] = keep;
  arena_snap[OFF_LB + H - 1] = keep;
  return st;
}

static void test_nonfinite_params(void) {
  static const struct {
    const char *name;
    param_call call;
    param_kind kind;
  } params[] = {
      {"infini_retrieve eps", c_retrieve_eps, P_EPS},
      {"infini_update_delta eps", c_delta_eps, P_EPS},
      {"infini_mix beta", c_mix_beta, P_BETA},
      {"infini_local_attention scale", c_attention_scale, P_SCALE},
      {"infini_segment_step params.beta", c_step_beta, P_BETA},
      {"infini_segment_step params.eps", c_step_eps, P_EPS},
      {"infini_segment_step params.scale", c_step_scale, P_SCALE},
      {"infini_layer_step config.eps", c_layer_eps, P_EPS},
      {"infini_layer_step config.scale", c_layer_scale, P_SCALE},
      {"infini_layer_step beta[H-1]", c_layer_beta, P_BETA},
  };
  for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
    for (int o = 0; o < N_ODD; o++) {
      const infini_status want =
          odd_allowed(params[i].kind, o) ? INFINI_OK : INFINI_ERR_PARAM;
      EXPECT(want, params[i].call(odd_value(o)), "%s = %s", params[i].name,
             odd_names[o]);
    }
  fill_fixture(); /* FLT_MAX parameters may have left Inf in m, z, state */
  infini_state_reset(state);
}

/* ----------------------------------------------------------------------- */
/* Huge sizes on every entry point                                          */
/* ----------------------------------------------------------------------- */

/* Each per-head size in turn set to PTRDIFF_MAX / 2 (its strides grown to
 * match, so only the byte count is wrong): OVERFLOW before any access. */
static void test_huge_shapes(void) {
  const ptrdiff_t big = PTRDIFF_MAX / 2;
  for (int which = 0; which < 3; which++) {
    infini_head_shape s = S;
    const char *what = which == 0 ? "n" : which == 1 ? "d_key" : "d_value";
    if (which == 0)
      s.n = big;
    else if (which == 1)
      s.d_key = big;
    else
      s.d_value = big;
    const ptrdiff_t ldk = s.d_key, ldv = s.d_value;
    const infini_step_params sp = P0;
    EXPECT(INFINI_ERR_OVERFLOW,
           infini_retrieve(ctx, &s, q, ldk, m, ldv, z, 0.0f, out, ldv),
           "infini_retrieve: %s = PTRDIFF_MAX/2", what);
    EXPECT(INFINI_ERR_OVERFLOW,
           infini_update_linear(ctx, &s, k, ldk, v, ldv, m, ldv, z),
           "infini_update_linear: %s = PTRDIFF_MAX/2", what);
    EXPECT(INFINI_ERR_OVERFLOW,
           infini_update_delta(ctx, &s, k, ldk, v, ldv, m, ldv, z, 0.0f),
           "infini_update_delta: %s = PTRDIFF_MAX/2", what);
    EXPECT(INFINI_ERR_OVERFLOW,
           infini_local_attention(ctx, &s, q, ldk, k, ldk, v, ldv, 0.5f, out,
                                  ldv),
           "infini_local_attention: %s = PTRDIFF_MAX/2", what);
    EXPECT(INFINI_ERR_OVERFLOW,
           infini_segment_step(ctx, &s, &sp, q, ldk, k, ldk, v, ldv, m, ldv, z,
                               out, ldv),
           "infini_segment_step: %s = PTRDIFF_MAX/2", what);
  }
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_mix(ctx, 2, PTRDIFF_MAX / 2, 0.5f, am, PTRDIFF_MAX / 2, ad,
                    PTRDIFF_MAX / 2, out, PTRDIFF_MAX / 2),
         "infini_mix: cols = PTRDIFF_MAX/2 on 2 rows");
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_feature_map(ctx, 2, PTRDIFF_MAX / 2, x, PTRDIFF_MAX / 2, y,
                            PTRDIFF_MAX / 2),
         "infini_feature_map: cols = PTRDIFF_MAX/2 on 2 rows");
  /* The layer: n, then the heads (H*d_key overflows). */
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_layer_step(ctx, &LC, PTRDIFF_MAX / 2, lq, LDQ, lk, LDK, lv,
                           LDV, lbeta, state, lo, LDO),
         "infini_layer_step: n = PTRDIFF_MAX/2");
  infini_layer_config c = LC;
  c.n_heads = (PTRDIFF_MAX / 4) & ~(ptrdiff_t)1; /* still divisible by H_kv */
  EXPECT(INFINI_ERR_OVERFLOW,
         infini_layer_step(ctx, &c, N, lq, HUGE_LD, lk, LDK, lv, LDV, lbeta,
                           state, lo, HUGE_LD),
         "infini_layer_step: n_heads = PTRDIFF_MAX/4 (strides to match)");
}

/* ----------------------------------------------------------------------- */
/* Buffers that are float-aligned but not vector-aligned                     */
/* ----------------------------------------------------------------------- */

/* The API documents no alignment beyond float's own (only the backend
 * workspace is 64-byte aligned), so every backend must give the same bits
 * for operands at an odd float offset (4 bytes past a 64-byte boundary) as
 * for aligned ones. (An odd *byte* offset is not a valid float pointer in
 * C: no caller can pass one without undefined behaviour.) */
static void test_misaligned(void) {
  enum { LEN = 2 * 64 * 16 };
  static _Alignas(64) float a_in[LEN], a_out[LEN], u_in[LEN + 1], u_out[LEN + 1];
  tu_rng r = tu_rng_seed(0xA119);
  tu_fill(&r, 1, LEN, a_in, LEN, -1, 1);
  memcpy(u_in + 1, a_in, sizeof a_in);
  const ptrdiff_t rows = 16, cols = 37; /* not a multiple of any vector width */
  for (size_t b = 0; b < infini_backend_count(); b++) {
    const infini_backend *be = infini_backend_at(b);
    infini_context *c = NULL;
    if (be->availability() == INFINI_UNAVAILABLE ||
        strncmp(be->name, "tb_", 3) == 0 || /* the test backends, */
        strncmp(be->name, "test", 4) == 0 || /* the test plugin */
        infini_context_create(be, &c) != INFINI_OK)
      continue;
    memset(a_out, 0, sizeof a_out);
    memset(u_out, 0, sizeof u_out);
    const bool fm =
        infini_feature_map(c, rows, cols, a_in, cols, a_out, cols) == INFINI_OK &&
        infini_feature_map(c, rows, cols, u_in + 1, cols, u_out + 1, cols) ==
            INFINI_OK &&
        memcmp(a_out, u_out + 1, sizeof(float) * (size_t)(rows * cols)) == 0;
    tap_ok(fm, "%s: feature_map on buffers 4 bytes off 64-byte alignment -> "
               "the aligned result", be->name);
    const infini_head_shape s = {rows, cols, cols};
    const float *aq = a_in, *uq = u_in + 1;
    const bool att =
        infini_local_attention(c, &s, aq, cols, aq + 700, cols, aq + 1400,
                               cols, 0.3f, a_out, cols) == INFINI_OK &&
        infini_local_attention(c, &s, uq, cols, uq + 700, cols, uq + 1400,
                               cols, 0.3f, u_out + 1, cols) == INFINI_OK &&
        memcmp(a_out, u_out + 1, sizeof(float) * (size_t)(rows * cols)) == 0;
    tap_ok(att, "%s: local_attention on buffers 4 bytes off 64-byte "
                "alignment -> the aligned result", be->name);
    infini_context_free(c);
  }
}

/* ----------------------------------------------------------------------- */
/* The model API (include/infini_model.h)                                    */
/* ----------------------------------------------------------------------- */

static char model_dir[64];

/* A file of model_dir holding len bytes of data (NULL: none at all). */
static const char *model_file(const char *name, const void *data, size_t len) {
  static char path[8][128];
  static int next;
  char *p = path[next++ % 8];
  snprintf(p, sizeof path[0], "%s/%s", model_dir, name);
  if (data) {
    FILE *f = fopen(p, "wb");
    if (f) {
      fwrite(data, 1, len, f);
      fclose(f);
    }
  }
  return p;
}

/* The whole content of a file (malloc'ed), or NULL. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *b = NULL;
  long n;
  if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) &&
      fread(b, 1, (size_t)n, f) == (size_t)n)
    *len = (size_t)n;
  else {
    free(b);
    b = NULL;
  }
  if (f)
    fclose(f);
  return b;
}

/* The tiny config of these tests: V = 7, D = 4, L = 2, H = 2, H_kv = 1,
 * d_head = 2, F = 6, N = 3. */
static infini_model_config tiny_config(void) {
  infini_model_config c;
  infini_model_config_init(&c, 7, 4, 2, 2, 1, 2, 6, 3);
  return c;
}

static void test_model_config(void) {
  const char *f = "infini_model_config_check";
  infini_model_config c = tiny_config();
  EXPECT(INFINI_OK, infini_model_config_check(&c), "%s: the tiny config", f);
  EXPECT(INFINI_ERR_NULL, infini_model_config_check(NULL), "%s: NULL", f);
  EXPECT(INFINI_ERR_NULL, infini_model_config_init(NULL, 7, 4, 2, 2, 1, 2, 6, 3),
         "infini_model_config_init: NULL");
  /* Each size field in turn: 0, -1, and PTRDIFF_MAX (every product then
   * overflows). */
  ptrdiff_t *const sizes[8] = {&c.vocab_size, &c.d_model, &c.n_layers,
                               &c.n_heads, &c.n_kv_heads, &c.d_head, &c.d_ff,
                               &c.segment_len};
  static const char *const names[8] = {"vocab_size", "d_model", "n_layers",
                                       "n_heads", "n_kv_heads", "d_head",
                                       "d_ff", "segment_len"};
  for (int i = 0; i < 8; i++) {
    const ptrdiff_t bad[3] = {0, -1, PTRDIFF_MAX};
    for (int b = 0; b < 3; b++) {
      c = tiny_config();
      *sizes[i] = bad[b];
      const unsigned want = b < 2 ? ST(INFINI_ERR_SIZE)
                                  : ST(INFINI_ERR_OVERFLOW) | ST(INFINI_ERR_SHAPE);
      EXPECT_SET(want, infini_model_config_check(&c), "%s: %s = %td", f,
                 names[i], bad[b]);
    }
  }
  c = tiny_config();
  c.n_kv_heads = 2;
  c.n_heads = 3;
  EXPECT(INFINI_ERR_SHAPE, infini_model_config_check(&c),
         "%s: n_kv_heads 2 does not divide n_heads 3", f);
  c = tiny_config();
  c.d_head = 3;
  EXPECT(INFINI_ERR_SHAPE, infini_model_config_check(&c),
         "%s: odd d_head with RoPE", f);
  c.position = INFINI_POSITION_NONE;
  EXPECT(INFINI_OK, infini_model_config_check(&c),
         "%s: odd d_head without RoPE", f);
  c = tiny_config();
  c.rule = (infini_update_rule)7;
  EXPECT(INFINI_ERR_PARAM, infini_model_config_check(&c), "%s: rule 7", f);
  c = tiny_config();
  c.position = (infini_position)-1;
  EXPECT(INFINI_ERR_PARAM, infini_model_config_check(&c), "%s: position -1", f);
  /* Each float field against the odd values: rope_theta finite and > 1,
   * norm_eps finite and > 0, attn_eps as eps, attn_scale as scale. */
  for (int o = 0; o < N_ODD; o++) {
    const float val = odd_value(o);
    c = tiny_config();
    c.rope_theta = val;
    EXPECT(o == 6 ? INFINI_OK : INFINI_ERR_PARAM, infini_model_config_check(&c),
           "%s: rope_theta = %s", f, odd_names[o]);
    c = tiny_config();
    c.norm_eps = val;
    EXPECT(o == 6 ? INFINI_OK : INFINI_ERR_PARAM, infini_model_config_check(&c),
           "%s: norm_eps = %s", f, odd_names[o]);
    c = tiny_config();
    c.attn_eps = val;
    EXPECT(odd_allowed(P_EPS, o) ? INFINI_OK : INFINI_ERR_PARAM,
           infini_model_config_check(&c), "%s: attn_eps = %s", f, odd_names[o]);
    c = tiny_config();
    c.attn_scale = val;
    EXPECT(odd_allowed(P_SCALE, o) ? INFINI_OK : INFINI_ERR_PARAM,
           infini_model_config_check(&c), "%s: attn_scale = %s", f,
           odd_names[o]);
  }
  c = tiny_config();
  c.rope_theta = 1.0f;
  EXPECT(INFINI_ERR_PARAM, infini_model_config_check(&c), "%s: rope_theta = 1",
         f);
  c.position = INFINI_POSITION_NONE;
  EXPECT(INFINI_OK, infini_model_config_check(&c),
         "%s: rope_theta = 1 without RoPE (unused)", f);
  c = tiny_config();
  c.norm_eps = 0.0f;
  EXPECT(INFINI_ERR_PARAM, infini_model_config_check(&c), "%s: norm_eps = 0", f);
  size_t mb = 777, sb = 777;
  c = tiny_config();
  c.d_model = PTRDIFF_MAX;
  EXPECT_SET(ST(INFINI_ERR_OVERFLOW), infini_model_state_bytes(&c, &mb, &sb),
             "infini_model_state_bytes: d_model = PTRDIFF_MAX");
  tap_ok(mb == 777 && sb == 777, "infini_model_state_bytes: outputs untouched "
                                 "on error");
  c = tiny_config();
  EXPECT(INFINI_ERR_NULL, infini_model_state_bytes(NULL, &mb, &sb),
         "infini_model_state_bytes: NULL config");
  EXPECT(INFINI_ERR_NULL, infini_model_state_bytes(&c, NULL, &sb),
         "infini_model_state_bytes: NULL memory_bytes");
}

/* infini_model_load and infini_model_checkpoint_load on hostile files. */
static void test_model_files(infini_model *mdl, const char *weights) {
  char err[256];
  infini_model *const keep = SENTINEL_PTR(infini_model);
  infini_model *loaded = keep;
  size_t len = 0;
  unsigned char *good = slurp(weights, &len);
  if (!tap_ok(good != NULL, "read back the tiny model's weights"))
    return;
  const struct {
    const char *what, *name;
    const void *data;
    size_t len;
    infini_status want;
  } files[] = {
      {"a missing file", "missing", NULL, 0, INFINI_ERR_IO},
      {"a directory", ".", NULL, 0, INFINI_ERR_IO},
      {"an empty file", "empty", "", 0, INFINI_ERR_FORMAT},
      {"a truncated file", "cut", good, len / 2, INFINI_ERR_FORMAT},
      {"the first 7 bytes", "seven", good, 7, INFINI_ERR_FORMAT},
      {"garbage", "garbage", "this is not a safetensors file at all", 37,
       INFINI_ERR_FORMAT},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    const char *p = model_file(files[i].name, files[i].data, files[i].len);
    err[0] = 0;
    loaded = keep;
    const infini_status st = infini_model_load(p, NULL, &loaded, err, sizeof err);
    tap_ok(st == files[i].want && loaded == keep && err[0] && !strchr(err, '\n'),
           "infini_model_load: %s -> %s, out untouched, one line: %s",
           files[i].what, tu_status_name(files[i].want), err);
  }
  tap_ok(infini_model_load(NULL, NULL, &loaded, err, sizeof err) == INFINI_ERR_NULL &&
             infini_model_load(weights, NULL, NULL, err, sizeof err) ==
                 INFINI_ERR_NULL,
         "infini_model_load: NULL path or out -> INFINI_ERR_NULL");
  free(good);

  /* Checkpoints: the same hostile files, and one of another model. */
  infini_model_state *s = NULL;
  uint64_t pos = 0;
  const int32_t toks[4] = {1, 2, 3, 4};
  if (!tap_ok(infini_model_state_create(mdl, &s) == INFINI_OK &&
                  infini_model_forward(mdl, s, toks, 4, NULL, NULL) ==
                      INFINI_OK,
              "a stream of 4 tokens"))
    return;
  const char *ck = model_file("good.ckpt", NULL, 0);
  tap_ok(infini_model_checkpoint_save(mdl, s, ck, err, sizeof err) == INFINI_OK,
         "infini_model_checkpoint_save -> INFINI_OK");
  good = slurp(ck, &len);
  const struct {
    const char *what, *name;
    const void *data;
    size_t len;
    unsigned want;
  } cks[] = {
      {"a missing file", "missing.ckpt", NULL, 0, ST(INFINI_ERR_IO)},
      {"a directory", ".", NULL, 0, ST(INFINI_ERR_IO) | ST(INFINI_ERR_FORMAT)},
      {"an empty file", "empty.ckpt", "", 0, ST(INFINI_ERR_FORMAT)},
      {"a truncated file", "cut.ckpt", good, len - 1, ST(INFINI_ERR_FORMAT)},
      {"garbage", "garbage.ckpt", "not a checkpoint, just text", 27,
       ST(INFINI_ERR_FORMAT)},
      {"the magic then garbage", "magic.ckpt", "INFINICK and nothing else", 25,
       ST(INFINI_ERR_FORMAT) | ST(INFINI_ERR_VERSION)},
  };
  for (size_t i = 0; good && i < sizeof cks / sizeof cks[0]; i++) {
    const char *p = model_file(cks[i].name, cks[i].data, cks[i].len);
    err[0] = 0;
    const infini_status st =
        infini_model_checkpoint_load(mdl, s, p, err, sizeof err);
    pos = 0;
    infini_model_state_position(s, &pos);
    tap_ok((cks[i].want & ST(st)) && pos == 4 && err[0] && !strchr(err, '\n'),
           "infini_model_checkpoint_load: %s -> %s, stream unchanged: %s",
           cks[i].what, tu_status_name(st), err);
  }
  if (good) { /* one flipped byte in the middle: the checksum catches it */
    good[len / 2] ^= 0x40;
    const char *p = model_file("flipped.ckpt", good, len);
    tap_ok(infini_model_checkpoint_load(mdl, s, p, err, sizeof err) ==
                   INFINI_ERR_FORMAT &&
               infini_model_state_position(s, &pos) == INFINI_OK && pos == 4,
           "infini_model_checkpoint_load: one flipped bit -> "
           "INFINI_ERR_FORMAT, stream unchanged");
  }
  free(good);
  tap_ok(infini_model_checkpoint_load(NULL, s, ck, err, sizeof err) ==
                 INFINI_ERR_NULL &&
             infini_model_checkpoint_load(mdl, NULL, ck, err, sizeof err) ==
                 INFINI_ERR_NULL &&
             infini_model_checkpoint_load(mdl, s, NULL, err, sizeof err) ==
                 INFINI_ERR_NULL &&
             infini_model_checkpoint_save(NULL, s, ck, err, sizeof err) ==
                 INFINI_ERR_NULL &&
             infini_model_checkpoint_save(mdl, NULL, ck, err, sizeof err) ==
                 INFINI_ERR_NULL &&
             infini_model_checkpoint_save(mdl, s, NULL, err, sizeof err) ==
                 INFINI_ERR_NULL,
         "infini_model_checkpoint_load / _save: NULL model, state or path -> "
         "INFINI_ERR_NULL");
  /* A save that cannot be written leaves nothing, and keeps the old file. */
  const char *bad = model_file("no-such-dir/x.ckpt", NULL, 0);
  tap_ok(infini_model_checkpoint_save(mdl, s, bad, err, sizeof err) ==
             INFINI_ERR_IO,
         "infini_model_checkpoint_save into a missing directory -> "
         "INFINI_ERR_IO: %s", err);
  infini_model_state_free(s);
}

/* Checkpoints and streams of another model are refused. */
static void test_model_mismatch(infini_model *mdl) {
  char err[256] = "";
  infini_model_config c = tiny_config();
  c.segment_len = 4; /* another config */
  const char *w2 = model_file("other.safetensors", NULL, 0);
  const char *w3 = model_file("reseeded.safetensors", NULL, 0);
  infini_model *m2 = NULL, *m3 = NULL;
  const infini_model_config c1 = tiny_config();
  if (!tap_ok(infini_model_write_random(&c, 1, w2, err, sizeof err) ==
                      INFINI_OK &&
                  infini_model_write_random(&c1, 2, w3, err, sizeof err) ==
                      INFINI_OK &&
                  infini_model_load(w2, NULL, &m2, err, sizeof err) ==
                      INFINI_OK &&
                  infini_model_load(w3, NULL, &m3, err, sizeof err) ==
                      INFINI_OK,
              "two other models: another config, other weights (%s)", err))
    return;
  infini_model_state *s1 = NULL, *s2 = NULL, *s3 = NULL;
  const int32_t t[2] = {1, 2};
  float logits[2 * 7];
  infini_model_state_create(mdl, &s1);
  infini_model_state_create(m2, &s2);
  infini_model_state_create(m3, &s3);
  infini_model_forward(m2, s2, t, 2, NULL, NULL);
  infini_model_forward(m3, s3, t, 2, NULL, NULL);
  uint64_t pos = 9;
  EXPECT(INFINI_ERR_SHAPE, infini_model_forward(mdl, s2, t, 2, NULL, NULL),
         "infini_model_forward: a stream of another model");
  EXPECT(INFINI_ERR_SHAPE, infini_model_step(mdl, s2, 1, NULL),
         "infini_model_step: a stream of another model");
  infini_model_state_position(s2, &pos);
  tap_ok(pos == 2, "the other model's stream did not move");
  const char *ck2 = model_file("other.ckpt", NULL, 0);
  const char *ck3 = model_file("reseeded.ckpt", NULL, 0);
  infini_model_checkpoint_save(m2, s2, ck2, err, sizeof err);
  infini_model_checkpoint_save(m3, s3, ck3, err, sizeof err);
  EXPECT(INFINI_ERR_MISMATCH, infini_model_checkpoint_load(mdl, s1, ck2, err, sizeof err),
         "infini_model_checkpoint_load: a checkpoint of another config");
  EXPECT(INFINI_ERR_MISMATCH, infini_model_checkpoint_load(mdl, s1, ck3, err, sizeof err),
         "infini_model_checkpoint_load: a checkpoint of other weights");
  EXPECT(INFINI_ERR_SHAPE, infini_model_checkpoint_load(mdl, s2, model_file("empty.ckpt", NULL, 0), err, sizeof err),
         "infini_model_checkpoint_load: a stream of another model");
  EXPECT(INFINI_ERR_SHAPE, infini_model_checkpoint_save(mdl, s2, ck2, err, sizeof err),
         "infini_model_checkpoint_save: a stream of another model");
  infini_model_state_position(s1, &pos);
  tap_ok(pos == 0, "refused checkpoints left the stream at position 0");

  /* Bad tokens: nothing consumed, no logits written. */
  const int32_t bad_tokens[3][2] = {{1, -1}, {7, 1}, {1, INT32_MAX}};
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 2 * 7; j++)
      logits[j] = -42.0f;
    const infini_status st =
        infini_model_forward(mdl, s1, bad_tokens[i], 2, logits, NULL);
    infini_model_state_position(s1, &pos);
    bool untouched = true;
    for (int j = 0; j < 2 * 7; j++)
      untouched = untouched && logits[j] == -42.0f;
    tap_ok(st == INFINI_ERR_PARAM && pos == 0 && untouched,
           "infini_model_forward: tokens {%d, %d} (V = 7) -> "
           "INFINI_ERR_PARAM, nothing consumed or written",
           (int)bad_tokens[i][0], (int)bad_tokens[i][1]);
  }
  EXPECT(INFINI_ERR_PARAM, infini_model_step(mdl, s1, 7, NULL),
         "infini_model_step: token V");
  EXPECT(INFINI_ERR_PARAM, infini_model_step(mdl, s1, -1, logits),
         "infini_model_step: token -1");
  EXPECT(INFINI_ERR_NULL, infini_model_forward(NULL, s1, t, 2, NULL, NULL),
         "infini_model_forward: NULL model");
  EXPECT(INFINI_ERR_NULL, infini_model_forward(mdl, NULL, t, 2, NULL, NULL),
         "infini_model_forward: NULL state");
  EXPECT(INFINI_ERR_NULL, infini_model_forward(mdl, s1, NULL, 2, NULL, NULL),
         "infini_model_forward: NULL tokens");
  EXPECT(INFINI_ERR_SIZE, infini_model_forward(mdl, s1, t, 0, NULL, NULL),
         "infini_model_forward: n = 0");
  EXPECT(INFINI_ERR_SIZE, infini_model_forward(mdl, s1, t, -1, NULL, NULL),
         "infini_model_forward: n = -1");
  EXPECT_SET(ST(INFINI_ERR_OVERFLOW), 
             infini_model_forward(mdl, s1, t, PTRDIFF_MAX / 2, logits, NULL),
             "infini_model_forward: n = PTRDIFF_MAX/2 with logits");
  EXPECT(INFINI_ERR_ALIAS,
         infini_model_forward(mdl, s1, t, 2, (float *)(void *)t, NULL),
         "infini_model_forward: logits over the tokens");
  EXPECT(INFINI_ERR_NULL, infini_model_state_create(NULL, &s3),
         "infini_model_state_create: NULL model");
  EXPECT(INFINI_ERR_NULL, infini_model_state_create(mdl, NULL),
         "infini_model_state_create: NULL out");
  EXPECT(INFINI_ERR_NULL, infini_model_state_reset(NULL),
         "infini_model_state_reset: NULL");
  EXPECT(INFINI_ERR_NULL, infini_model_state_position(NULL, &pos),
         "infini_model_state_position: NULL state");
  EXPECT(INFINI_ERR_NULL, infini_model_state_position(s1, NULL),
         "infini_model_state_position: NULL out");
  infini_model_state_free(NULL);
  infini_model_free(NULL);
  tap_ok(infini_model_get_config(NULL) == NULL &&
             infini_model_backend(NULL) == NULL,
         "infini_model_free(NULL), state_free(NULL) are no-ops; "
         "get_config(NULL), backend(NULL) = NULL");
  infini_model_state_free(s1);
  infini_model_state_free(s2);
  infini_model_state_free(s3);
  infini_model_free(m2);
  infini_model_free(m3);
}

static void test_model(void) {
  snprintf(model_dir, sizeof model_dir, "%s", "/tmp/test_badinput-XXXXXX");
  if (!mkdtemp(model_dir)) {
    tap_ok(false, "create a temporary directory");
    return;
  }
  test_model_config();
  char err[256] = "";
  infini_model_config c = tiny_config();
  const char *w = model_file("tiny.safetensors", NULL, 0);
  infini_model *mdl = NULL;
  /* write_random with a bad config or path: an error, nothing written, an
   * existing file kept. */
  const char *kept = model_file("kept.safetensors", "precious", 8);
  c.d_model = 0;
  EXPECT(INFINI_ERR_SIZE, infini_model_write_random(&c, 1, kept, err, sizeof err),
         "infini_model_write_random: d_model 0");
  size_t len = 0;
  unsigned char *b = slurp(kept, &len);
  tap_ok(b && len == 8 && memcmp(b, "precious", 8) == 0,
         "infini_model_write_random: an existing file survives a failed call");
  free(b);
  c = tiny_config();
  EXPECT(INFINI_ERR_NULL, infini_model_write_random(NULL, 1, w, err, sizeof err),
         "infini_model_write_random: NULL config");
  EXPECT(INFINI_ERR_NULL, infini_model_write_random(&c, 1, NULL, err, sizeof err),
         "infini_model_write_random: NULL path");
  EXPECT(INFINI_ERR_IO,
         infini_model_write_random(&c, 1, model_file("none/x", NULL, 0), err,
                                   sizeof err),
         "infini_model_write_random: a missing directory");
  if (tap_ok(infini_model_write_random(&c, 1, w, err, sizeof err) == INFINI_OK &&
                 infini_model_load(w, NULL, &mdl, err, sizeof err) == INFINI_OK,
             "the tiny model: written and loaded (%s)", err)) {
    test_model_files(mdl, w);
    test_model_mismatch(mdl);
    infini_model_free(mdl);
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", model_dir);
  if (system(cmd) != 0)
    tap_diag("could not remove %s", model_dir);
}

int main(void) {
  unsetenv("INFINI_BACKEND");
  test_strerror();
  test_backends();
  test_context();
  test_env();

  ctx = tu_ref_context();
  if (infini_context_create(&be_fail, &fail_ctx) != INFINI_OK ||
      infini_context_create(&be_fail_comp, &fail_comp_ctx) != INFINI_OK ||
      infini_context_create(&be_huge, &huge_ctx) != INFINI_OK ||
      infini_state_create(HKV, DK, DV, &state) != INFINI_OK) {
    printf("Bail out! cannot set up the fixture\n");
    return 99;
  }
  ptrdiff_t ldm;
  infini_state_head(state, 0, &state_m, &ldm, &state_z);
  fill_fixture();

  test_state();
  test_feature_map();
  test_retrieve();
  test_update(0);
  test_update(1);
  test_mix();
  test_local_attention();
  test_segment_step();
  test_layer_step();
  test_kernel_status();
  test_workspace_overflow();
  test_composition();
  test_plugins();
  test_full_registry();
  test_nonfinite_params();
  test_huge_shapes();
  test_misaligned();
  test_model();

  infini_state_free(state);
  infini_context_free(ctx);
  infini_context_free(fail_ctx);
  infini_context_free(fail_comp_ctx);
  infini_context_free(huge_ctx);
  return tap_done();
}
