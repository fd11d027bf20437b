/* queue.h - a bounded, blocking queue of pointers between the decoder and inference threads. */
#ifndef AITAG_PIPELINE_QUEUE_H
#define AITAG_PIPELINE_QUEUE_H

#include <pthread.h>
#include <stddef.h>

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **slots;
    size_t cap, head, n;
    int closed;
};

int pipeline_queue_init(struct queue *q, size_t cap);
void pipeline_queue_destroy(struct queue *q);
/* Blocks while full. Returns 0, or -1 when the queue was closed (item not queued). */
int pipeline_queue_push(struct queue *q, void *item);
/* Blocks while empty. Returns the item, or NULL once closed and drained. */
void *pipeline_queue_pop(struct queue *q);
/* Returns an item if one is ready now, else NULL; never blocks. */
void *pipeline_queue_try_pop(struct queue *q);
/* Wakes everyone; pushes fail from now on, pops drain what is left. */
void pipeline_queue_close(struct queue *q);

#endif
