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

#include "infini.h"

typedef struct pool pool;
typedef void (*pool_task)(void *arg, int task);

/* A pool of `threads` (>= 2) threads, the caller included. */
infini_status pool_create(int threads, pool **out);
/* Stop and join the workers (NULL is ignored). */
void pool_free(pool *p);
/* Run fn(arg, t) for t = 0..n_tasks-1 and return when all are done. */
void pool_run(pool *p, int n_tasks, pool_task fn, void *arg);

#endif
