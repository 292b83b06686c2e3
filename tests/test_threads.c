/*
 * tests/test_threads.c - include/infini_model.h promises that a model "is
 * immutable after loading and may be shared by threads", with one state
 * per thread. Two threads stream the same tokens through one shared model
 * on the default backend, each with its own state, while a third creates
 * and frees contexts (the backend registry and its dispatch); each thread's
 * logits must equal a single-threaded run's bit for bit. Under
 * ThreadSanitizer (.ci/run) a data race fails the run (TAP).
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infini.h"
#include "infini_model.h"
#include "tests/tap.h"

enum { V = 11, T = 40, THREADS = 2 };

static infini_model *model;
static int32_t tokens[T];

typedef struct job {
  float logits[T * V];
  infini_status st;
} job;

/* The whole stream, one token at a time (every segment-boundary path). */
static void *stream(void *arg) {
  job *j = arg;
  infini_model_state *s = NULL;
  j->st = infini_model_state_create(model, &s);
  for (int i = 0; i < T && j->st == INFINI_OK; i++)
    j->st = infini_model_step(model, s, tokens[i], j->logits + i * V);
  infini_model_state_free(s);
  return NULL;
}

/* Contexts on the default backend, created and freed in a loop. */
static void *contexts(void *arg) {
  infini_status *st = arg;
  for (int i = 0; i < 200 && *st == INFINI_OK; i++) {
    infini_context *c = NULL;
    *st = infini_context_create(NULL, &c);
    infini_context_free(c);
  }
  return NULL;
}

static bool load_model(void) {
  char path[128], err[256] = "";
  infini_model_config c;
  snprintf(path, sizeof path, "/tmp/test_threads-%ld.safetensors",
           (long)getpid());
  const bool ok =
      infini_model_config_init(&c, V, 8, 2, 2, 1, 4, 16, 5) == INFINI_OK &&
      infini_model_write_random(&c, 3, path, err, sizeof err) == INFINI_OK &&
      infini_model_load(path, NULL, &model, err, sizeof err) == INFINI_OK;
  unlink(path);
  if (!ok)
    tap_diag("%s", err);
  return ok;
}

int main(void) {
  for (int i = 0; i < T; i++)
    tokens[i] = (int32_t)((i * 7 + 3) % V);
  if (!tap_ok(load_model(), "a tiny model written and loaded"))
    return tap_done();
  static job alone, jobs[THREADS];
  stream(&alone);
  tap_ok(alone.st == INFINI_OK, "one thread: %d tokens -> INFINI_OK", T);

  pthread_t th[THREADS + 1];
  infini_status ctx_st = INFINI_OK;
  bool started = true;
  for (int i = 0; i < THREADS; i++)
    started = started && pthread_create(&th[i], NULL, stream, &jobs[i]) == 0;
  started = started && pthread_create(&th[THREADS], NULL, contexts, &ctx_st) == 0;
  if (!tap_ok(started, "%d streaming threads and a context thread started",
              THREADS))
    return tap_done();
  for (int i = 0; i <= THREADS; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < THREADS; i++)
    tap_ok(jobs[i].st == INFINI_OK &&
               memcmp(jobs[i].logits, alone.logits, sizeof alone.logits) == 0,
           "thread %d on the shared model: the single-threaded logits, bit "
           "for bit", i);
  tap_ok(ctx_st == INFINI_OK, "200 contexts created and freed meanwhile");
  infini_model_free(model);
  return tap_done();
}
