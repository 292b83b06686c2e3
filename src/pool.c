/*
 * src/pool.c - see pool.h. One mutex and two condition variables: a
 * generation counter wakes the workers for a run; tasks are claimed one at
 * a time from a shared counter (the caller claims too); the last worker to
 * find none left wakes the caller.
 *
 * The model's runs are short (tens of microseconds: one dense layer's
 * blocks, one layer's heads) and come back to back, so a thread that
 * finds nothing to do first spins a while on the generation (workers) or
 * on the busy count (the caller) before it sleeps on a condition
 * variable: a wake-up through the kernel costs about as much as a task.
 * The spin only decides when to take the lock; every decision is made
 * under it, so the spinning reads are atomic loads of fields written
 * atomically under the lock.
 */
#include "config.h"
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include "src/pool.h"

/* About 10 microseconds of pause instructions, then a few yields (on a
 * machine with more threads than free cores, the thread waited for may be
 * the one that needs this core). */
#define POOL_SPIN 256
#define POOL_YIELDS 4

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

struct pool {
  pthread_mutex_t lock;
  pthread_cond_t wake, done;
  pthread_t *workers;
  int n_workers;
  unsigned long generation;
  int stop;
  pool_task fn;
  void *arg;
  int n_tasks, next, busy; /* busy: workers still in this run */
};

/* Claim and run tasks until none is left (lock held on entry and exit). */
static void drain(pool *p) {
  while (p->next < p->n_tasks) {
    const int t = p->next++;
    pthread_mutex_unlock(&p->lock);
    p->fn(p->arg, t);
    pthread_mutex_lock(&p->lock);
  }
}

/* Spin until *word != value (or a while passes); the lock is not held. */
static void spin_while_equal(const unsigned long *word, unsigned long value,
                             const int *stop) {
  for (int i = 0; i < POOL_SPIN + POOL_YIELDS; i++) {
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != value ||
        __atomic_load_n(stop, __ATOMIC_ACQUIRE))
      return;
    if (i < POOL_SPIN)
      cpu_relax();
    else
      sched_yield();
  }
}

static void *worker(void *arg) {
  pool *p = arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    if (!p->stop && p->generation == seen) {
      pthread_mutex_unlock(&p->lock);
      spin_while_equal(&p->generation, seen, &p->stop);
      pthread_mutex_lock(&p->lock);
    }
    while (!p->stop && p->generation == seen)
      pthread_cond_wait(&p->wake, &p->lock);
    if (p->stop)
      break;
    seen = p->generation;
    drain(p);
    if (__atomic_sub_fetch(&p->busy, 1, __ATOMIC_RELEASE) == 0)
      pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static void stop_workers(pool *p, int started) {
  pthread_mutex_lock(&p->lock);
  __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  for (int i = 0; i < started; i++)
    pthread_join(p->workers[i], NULL);
}

infini_status pool_create(int threads, pool **out) {
  pool *p = calloc(1, sizeof *p);
  if (!p)
    return INFINI_ERR_NOMEM;
  p->n_workers = threads - 1;
  p->workers = calloc((size_t)p->n_workers, sizeof *p->workers);
  if (!p->workers || pthread_mutex_init(&p->lock, NULL) != 0) {
    free(p->workers);
    free(p);
    return INFINI_ERR_NOMEM;
  }
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  for (int i = 0; i < p->n_workers; i++)
    if (pthread_create(&p->workers[i], NULL, worker, p) != 0) {
      p->n_workers = i; /* the ones started are joined by pool_free */
      pool_free(p);
      return INFINI_ERR_NOMEM;
    }
  *out = p;
  return INFINI_OK;
}

void pool_free(pool *p) {
  if (!p)
    return;
  stop_workers(p, p->n_workers);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->lock);
  free(p->workers);
  free(p);
}

void pool_run(pool *p, int n_tasks, pool_task fn, void *arg) {
  pthread_mutex_lock(&p->lock);
  p->fn = fn;
  p->arg = arg;
  p->n_tasks = n_tasks;
  p->next = 0;
  __atomic_store_n(&p->busy, p->n_workers, __ATOMIC_RELAXED);
  __atomic_store_n(&p->generation, p->generation + 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&p->wake);
  drain(p);
  if (__atomic_load_n(&p->busy, __ATOMIC_ACQUIRE) > 0) {
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < POOL_SPIN + POOL_YIELDS && __atomic_load_n(&p->busy, __ATOMIC_ACQUIRE) > 0;
         i++)
      if (i < POOL_SPIN)
        cpu_relax();
      else
        sched_yield();
    pthread_mutex_lock(&p->lock);
  }
  while (p->busy > 0)
    pthread_cond_wait(&p->done, &p->lock);
  pthread_mutex_unlock(&p->lock);
}
