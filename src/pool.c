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
 * The spin is timed (POOL_SPIN_NS), not counted: the caller's serial work
 * between two runs (norms, RoPE, residual adds) takes 10-20 us at the
 * small preset, longer than the 256 pauses spun before, so the workers
 * slept and every run began with a futex wake-up (a fifth of the CPU time
 * of a 2-thread run in the kernel; 1.09x from 2 threads on a 16-core
 * Xeon). As in OpenMP runtimes, a worker waits spinning for a while
 * (GOMP_SPINCOUNT's default is longer still) and only then sleeps.
 * The spin only decides when to take the lock; every decision is made
 * under it, so the spinning reads are atomic loads of fields written
 * atomically under the lock.
 *
 * pool_board, at the end, is for the tasks of one run that wait on each
 * other (the model's pipeline stages): counters raised under a lock,
 * waited for with the same spin, then a condition variable.
 */
#include "config.h"
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "src/pool.h"

/* Spin with pause instructions for up to POOL_SPIN_NS, then a few yields
 * (on a machine with more threads than free cores, the thread waited for
 * may be the one that needs this core), then sleep. */
#define POOL_SPIN_NS 200000
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

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait, without the lock, until done(a, b) or the spin and the yields are
 * over; the clock is read once every 64 pauses. */
static void spin_until(int (*done)(const void *, const void *), const void *a,
                       const void *b) {
  const int64_t until = now_ns() + POOL_SPIN_NS;
  for (int i = 0;; i++) {
    if (done(a, b))
      return;
    cpu_relax();
    if (i % 64 == 63 && now_ns() > until)
      break;
  }
  for (int i = 0; i < POOL_YIELDS && !done(a, b); i++)
    sched_yield();
}

/* A worker's wait: a new generation, or the stop flag. */
static int generation_moved(const void *pool_, const void *seen_) {
  const pool *p = pool_;
  return __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE) !=
             *(const unsigned long *)seen_ ||
         __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE);
}

/* The caller's wait: every worker out of the run. */
static int run_finished(const void *pool_, const void *unused) {
  (void)unused;
  return __atomic_load_n(&((const pool *)pool_)->busy, __ATOMIC_ACQUIRE) == 0;
}

static void *worker(void *arg) {
  pool *p = arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    if (!p->stop && p->generation == seen) {
      pthread_mutex_unlock(&p->lock);
      spin_until(generation_moved, p, &seen);
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
    spin_until(run_finished, p, NULL);
    pthread_mutex_lock(&p->lock);
  }
  while (p->busy > 0)
    pthread_cond_wait(&p->done, &p->lock);
  pthread_mutex_unlock(&p->lock);
}

/* ---- pool_board ----------------------------------------------------------- */

bool pool_board_init(pool_board *b) {
  if (pthread_mutex_init(&b->lock, NULL) != 0)
    return false;
  if (pthread_cond_init(&b->moved, NULL) != 0) {
    pthread_mutex_destroy(&b->lock);
    return false;
  }
  for (int i = 0; i < POOL_BOARD_MAX; i++)
    b->count[i] = 0;
  b->failed = 0;
  return true;
}

void pool_board_destroy(pool_board *b) {
  pthread_cond_destroy(&b->moved);
  pthread_mutex_destroy(&b->lock);
}

void pool_board_raise(pool_board *b, int i, long value) {
  pthread_mutex_lock(&b->lock);
  __atomic_store_n(&b->count[i], value, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&b->moved);
  pthread_mutex_unlock(&b->lock);
}

void pool_board_fail(pool_board *b) {
  pthread_mutex_lock(&b->lock);
  __atomic_store_n(&b->failed, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&b->moved);
  pthread_mutex_unlock(&b->lock);
}

typedef struct board_wait {
  int i;
  long at_least;
} board_wait;

/* The wait is over: the counter is there, or the board failed. */
static int board_settled(const void *board_, const void *wait_) {
  const pool_board *b = board_;
  const board_wait *w = wait_;
  return __atomic_load_n(&b->count[w->i], __ATOMIC_ACQUIRE) >= w->at_least ||
         __atomic_load_n(&b->failed, __ATOMIC_ACQUIRE);
}

bool pool_board_wait(pool_board *b, int i, long at_least) {
  const board_wait w = {i, at_least};
  if (!board_settled(b, &w))
    spin_until(board_settled, b, &w);
  pthread_mutex_lock(&b->lock);
  while (!board_settled(b, &w))
    pthread_cond_wait(&b->moved, &b->lock);
  const bool ok = !b->failed;
  pthread_mutex_unlock(&b->lock);
  return ok;
}
