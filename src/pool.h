/*
 * src/pool.h - a small fork-join thread pool for the model's forward pass
 * (infini_model_state_set_threads): the caller and threads - 1 workers
 * take the tasks of one pool_run between them. Which thread runs a task is
 * not fixed, so a task must compute the same bits whoever runs it (each
 * writes its own outputs), which is what makes the model's results the
 * same for every thread count.
 */
#ifndef INFINI_SRC_POOL_H
#define INFINI_SRC_POOL_H

#include <pthread.h>
#include <stdbool.h>

#include "infini.h"

typedef struct pool pool;
typedef void (*pool_task)(void *arg, int task);

/* A pool of `threads` (>= 2) threads, the caller included. */
infini_status pool_create(int threads, pool **out);
/* Stop and join the workers (NULL is ignored). */
void pool_free(pool *p);
/* Run fn(arg, t) for t = 0..n_tasks-1 and return when all are done. */
void pool_run(pool *p, int n_tasks, pool_task fn, void *arg);

/* Progress counters for the tasks of one pool_run that wait on each other
 * (the model's pipelined calls, src/model.c): task i raises counter i as
 * it goes, another waits until it reaches a value. A wait spins, yields,
 * then sleeps, as the pool's threads do. Raising a counter is a release
 * and a wait that returns true an acquire: what the raiser wrote before
 * is visible to the waiter. Once pool_board_fail is called every wait
 * returns false, so no task waits for one that gave up. */
#define POOL_BOARD_MAX 64
typedef struct pool_board {
  pthread_mutex_t lock;
  pthread_cond_t moved;
  long count[POOL_BOARD_MAX];
  int failed;
} pool_board;

/* Every counter 0, not failed; false when the lock cannot be made. */
bool pool_board_init(pool_board *b);
void pool_board_destroy(pool_board *b);
/* Counter i (0 <= i < POOL_BOARD_MAX) to `value` (never lowered). */
void pool_board_raise(pool_board *b, int i, long value);
/* Wait until counter i >= at_least: true, or false once the board failed. */
bool pool_board_wait(pool_board *b, int i, long at_least);
void pool_board_fail(pool_board *b);

#endif
