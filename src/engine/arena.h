// arena.h: a bump allocator for short-lived objects such as graph nodes.
//
// Objects are carved from large blocks and never freed one by one.
// arena_reset() makes all of them invalid at once and keeps their memory
// as one block, so a loop that builds and drops a graph of the same size
// every iteration stops calling malloc after its first pass.
#ifndef GRADLAB_ARENA_H
#define GRADLAB_ARENA_H

#include <stddef.h>

typedef struct ArenaBlock ArenaBlock;

typedef struct Arena {
    ArenaBlock *head;      // newest block; blocks form a singly linked list
    size_t block_size;     // default size of a new block, in bytes
    size_t used_total;     // bytes handed out since the last reset
    size_t limit;          // 0 = unlimited; otherwise arena_alloc fails past it
} Arena;

// Initialise an arena whose blocks are at least block_size bytes (0 = 64 KiB).
// limit caps the bytes handed out between resets (0 = no cap). Allocates nothing.
void arena_init(Arena *a, size_t block_size, size_t limit);

// Return size bytes aligned to 16, or NULL when malloc fails or the limit is
// reached. The memory is uninitialised and lives until arena_reset/destroy.
void *arena_alloc(Arena *a, size_t size);

// Like arena_alloc but the memory is zeroed.
void *arena_calloc(Arena *a, size_t count, size_t size);

// Copy the n bytes at s into the arena and NUL-terminate them. NULL on failure.
char *arena_strndup(Arena *a, const char *s, size_t n);

// Invalidate every allocation. When the last run needed several blocks they
// become one block of their total size; otherwise the block is kept.
void arena_reset(Arena *a);

// Free every block. The arena may be re-initialised afterwards. NULL is a no-op.
void arena_destroy(Arena *a);

#endif
