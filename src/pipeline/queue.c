/*
 * queue.c - a bounded ring of pointers with a mutex and two condition variables.
 *
 * The bound is what keeps memory flat: the decoder can run ahead of inference by at most `cap`
 * frames (each a few hundred KB of scaled RGB), and blocks otherwise. Closing wakes both sides
 * so a cancelled or failed run never leaves a thread waiting.
 */
#include <stdlib.h>

#include "queue.h"

int pipeline_queue_init(struct queue *q, size_t cap)
{
    q->slots = calloc(cap ? cap : 1, sizeof *q->slots);
    if (!q->slots)
        return -1;
    q->cap = cap ? cap : 1;
    q->head = q->n = 0;
    q->closed = 0;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return 0;
}

void pipeline_queue_destroy(struct queue *q)
{
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->slots);
    q->slots = NULL;
}

int pipeline_queue_push(struct queue *q, void *item)
{
    int rc = 0;

    pthread_mutex_lock(&q->lock);
    while (q->n == q->cap && !q->closed)
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed) {
        rc = -1;
    } else {
        q->slots[(q->head + q->n) % q->cap] = item;
        q->n++;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static void *take_locked(struct queue *q)
{
    void *item = q->slots[q->head];

    q->head = (q->head + 1) % q->cap;
    q->n--;
    pthread_cond_signal(&q->not_full);
    return item;
}

void *pipeline_queue_pop(struct queue *q)
{
    void *item = NULL;

    pthread_mutex_lock(&q->lock);
    while (q->n == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->lock);
    if (q->n)
        item = take_locked(q);
    pthread_mutex_unlock(&q->lock);
    return item;
}

void *pipeline_queue_try_pop(struct queue *q)
{
    void *item = NULL;

    pthread_mutex_lock(&q->lock);
    if (q->n)
        item = take_locked(q);
    pthread_mutex_unlock(&q->lock);
    return item;
}

void pipeline_queue_close(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}
