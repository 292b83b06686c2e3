/**
 * @file infini_conform.h
 * @brief Judging an implementation in memory: the golden vectors, their
 * cases, and the conformance verdict, for any language (libinfini-conform).
 *
 * The same judge as `infini-conform` (docs/conformance.md, the tolerance
 * model of docs/tolerances.md, the diagnoser of docs/mutants.md), without
 * the detour through files: open a vector set, select cases, read each
 * case's inputs and parameters, hand back the outputs your implementation
 * computed, and get the verdict, the worst ratio, the element where it is
 * and, for a failure, the known bug it looks like.
 *
 *     char err[256];
 *     infini_conform_set *s = infini_conform_open(NULL, err, sizeof err);
 *     infini_conform_select(s, "op", "retrieve", err, sizeof err);
 *     ptrdiff_t n = infini_conform_load(s, "fp32", err, sizeof err);
 *     for (ptrdiff_t i = 0; i < n; i++) {
 *       const char *json = infini_conform_case_json(s, i);  // params, shapes
 *       const float *q = infini_conform_case_input(s, i, "q");
 *       ... compute "a" ...
 *       infini_conform_verdict v;
 *       infini_conform_judge(s, i, "fp32", 1, names, data, ndims, dims,
 *                            INFINI_CONFORM_DIAGNOSE, &v);
 *     }
 *     infini_conform_close(s);
 *
 * Link with `pkg-config --libs infini-conform`. The Python package
 * (python/infini) binds this API through ctypes. A set is not thread-safe;
 * different sets are independent. Out of memory ends the process with a
 * message (as the tools do).
 */
#ifndef INFINI_CONFORM_H
#define INFINI_CONFORM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An opened golden vector set and the cases selected from it. */
typedef struct infini_conform_set infini_conform_set;

/** Flags of infini_conform_judge(). */
enum {
  /** Name the catalogue bug a failure looks like (about a second on a
   *  model-sized case, milliseconds on the small ones). */
  INFINI_CONFORM_DIAGNOSE = 1
};

/** The verdict on one case (docs/conformance.md, "Reading a report"). */
typedef struct infini_conform_verdict {
  int passed;          /**< 1 when every output is within tolerance */
  double ratio;        /**< worst error / allowed error (NaN: not judged) */
  char tensor[24];     /**< output holding the worst ratio ("" if none) */
  char index[64];      /**< its element, e.g. "[1][2]" */
  double got;          /**< the implementation's value there */
  double expected;     /**< the golden value there */
  double allowed;      /**< the tolerance there */
  char message[2048];  /**< why it failed, one or more lines; "" on a pass */
  char diagnosis[512]; /**< "looks like NAME: ..." or "" (none, or not asked) */
  char bugs[128];      /**< the catalogue names it names, "a+b" or "a|b"; "" if none */
} infini_conform_verdict;

/**
 * Open a golden vector set: a directory of manifests or one manifest.
 * @param vectors the set, or NULL for the default ($INFINI_VECTORS, else the
 *        source tree's vectors/v2, else the installed one)
 * @param err receives one line on failure (may be NULL)
 * @param errlen the size of err
 * @return the set, or NULL with one line in err
 */
infini_conform_set *infini_conform_open(const char *vectors, char *err, size_t errlen);

/** Close a set (NULL is a no-op); its case pointers become invalid. */
void infini_conform_close(infini_conform_set *set);

/** The directory the set was opened from. */
const char *infini_conform_vectors(const infini_conform_set *set);

/**
 * Restrict the selection before infini_conform_load() (OR within a kind,
 * AND across kinds, as infini-conform's --op, --id and --flag).
 * @param set the set
 * @param kind "op", "id" (FILE:TCID, FILE:*, TCID) or "flag"
 * @param pattern an operator name, a case pattern or a flag
 * @param err receives one line on failure (may be NULL)
 * @param errlen the size of err
 * @return 0, or -1 with one line in err (bad kind or pattern, already loaded)
 */
int infini_conform_select(infini_conform_set *set, const char *kind, const char *pattern,
                          char *err, size_t errlen);

/**
 * Declare what the implementation cannot take (infini-conform --declare:
 * default-scale, square, no-gqa, one-beta, packed, eps=E, rule=R; repeatable);
 * infini_conform_load() then marks the cases that need what is missing as
 * not applicable (their JSON's "skip" says why). Before
 * infini_conform_load(). @return 0, or -1 with one line in err
 */
int infini_conform_declare(infini_conform_set *set, const char *list, char *err,
                           size_t errlen);

/**
 * Select the cases and read their tensors (checking every file's SHA-256).
 * @param set the set
 * @param profile the profile the applicability of a case is decided under
 *        (a declared eps, and float16's range: docs/conformance.md); NULL
 *        for fp32
 * @param err receives one line on failure (may be NULL)
 * @param errlen the size of err
 * @return the number of selected cases, or -1 with one line in err
 */
ptrdiff_t infini_conform_load(infini_conform_set *set, const char *profile, char *err,
                              size_t errlen);

/**
 * Case i described in JSON, the entry infini-conform export writes into
 * index.json without the file names: "case", "file", "version", "tcId",
 * "operator", "comment", "flags", "verdict", "params" (numbers; non-finite
 * ones as "inf", "-inf", "nan"), "inputs" {name: {"shape", "dtype"}} and
 * "outputs" {name: {"shape"}}, plus "skip": why the case is not
 * applicable, or null. NULL when i is out of range.
 */
const char *infini_conform_case_json(infini_conform_set *set, ptrdiff_t i);

/**
 * The data of input `name` of case i, C order, in the dtype the JSON
 * names (float32, or float64 for a double parameter). NULL when there is
 * no such input.
 */
const void *infini_conform_case_input(const infini_conform_set *set, ptrdiff_t i,
                                      const char *name);

/**
 * Judge the outputs an implementation computed for case i.
 * @param set the loaded set
 * @param i the case, 0 <= i < the count infini_conform_load() returned
 * @param profile fp32, tf32, bf16-fp32, fp16-fp32, bf16, fp16
 *        (docs/tolerances.md)
 * @param n number of outputs given. An expected output not given, or given
 *        with another shape, fails the case with a message saying so.
 * @param names names[k] names output k
 * @param data data[k]: its float32 values in C order
 * @param ndims ndims[k]: its number of dimensions
 * @param dims dims[k]: its shape
 * @param flags 0 or INFINI_CONFORM_DIAGNOSE
 * @param v receives the verdict
 * @return 0 with v filled (pass or fail), or -1 for a bad call (out-of-range
 *         i, unknown profile or output name, NULL), with the reason in
 *         v->message
 */
int infini_conform_judge(infini_conform_set *set, ptrdiff_t i, const char *profile,
                         int n, const char *const *names, const float *const *data,
                         const int *ndims, const size_t *const *dims, int flags,
                         infini_conform_verdict *v);

#ifdef __cplusplus
}
#endif

#endif
