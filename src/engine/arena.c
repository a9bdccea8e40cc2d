// arena.c: bump allocation in linked blocks; see arena.h.
#include "engine/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ArenaBlock {
    ArenaBlock *next;
    size_t size;    // usable bytes in data[]
    size_t used;
    _Alignas(16) unsigned char data[];
};

void arena_init(Arena *a, size_t block_size, size_t limit)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->used_total = 0;
    a->limit = limit;
}

void *arena_alloc(Arena *a, size_t size)
{
    if (size > SIZE_MAX - 15 - sizeof(ArenaBlock))
        return NULL;
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    if (a->limit && (size > a->limit || a->used_total > a->limit - size))
        return NULL;
    ArenaBlock *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t want = size > a->block_size ? size : a->block_size;
        if (want > SIZE_MAX - sizeof(ArenaBlock))
            return NULL;
        ArenaBlock *nb = malloc(sizeof(ArenaBlock) + want);
        if (!nb)
            return NULL;
        nb->size = want;
        nb->used = 0;
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    a->used_total += size;
    return p;
}

void *arena_calloc(Arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void arena_reset(Arena *a)
{
    // Several blocks mean the last run outgrew the first one: replace them
    // all by one block of their total size, so the next run of the same
    // size fits in it and allocates nothing.
    size_t total = 0, nblocks = 0;
    for (ArenaBlock *b = a->head; b; b = b->next) {
        total += b->size;
        nblocks++;
    }
    if (nblocks > 1) {
        for (ArenaBlock *b = a->head, *next; b; b = next) {
            next = b->next;
            free(b);
        }
        a->head = malloc(sizeof(ArenaBlock) + total);
        if (a->head) {
            a->head->size = total;
            a->head->next = NULL;
        }
    }
    if (a->head)
        a->head->used = 0;
    a->used_total = 0;
}

void arena_destroy(Arena *a)
{
    if (!a)
        return;
    for (ArenaBlock *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
    a->used_total = 0;
}
