// chartext.h: the text a character-level model trains on, and sampling from
// a trained CharRnn (charrnn.h).
//
// A text is UTF-8; each distinct code point becomes one id 0..V-1 (sorted by
// code point), so the ids fit the byte-sized vocabulary charrnn uses and a
// sample can always be written back as valid UTF-8:
//
//     CharText t;
//     if (!chartext_load("corpus.txt", &t, err, sizeof err)) ... err says where and why
//     CharRnn *m = charrnn_create(t.ids, t.len, 100, 25, 0.1f, 5.0f, seed);
//     ... charrnn_step(m) ...
//     charrnn_sample(m, NULL, t.ids[0], 200, 1.0, &rng, out, 5, top, prob);
//     chartext_free(&t);
#ifndef GRADLAB_MODELS_CHARTEXT_H
#define GRADLAB_MODELS_CHARTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/charrnn.h"
#include "models/rng.h"

#define CHARTEXT_MAX_BYTES ((size_t)4 << 20) // a text file is at most 4 MiB
#define CHARTEXT_MIN_CHARS 100               // and has at least 100 characters
#define CHARTEXT_MAX_VOCAB 256               // and at most 256 distinct ones

typedef struct CharText {
    unsigned char *ids;   // (len) each character's id; owned
    size_t len;           // characters ("\r\n" counts as one "\n")
    int V;                // distinct characters, 2..256
    uint32_t cps[CHARTEXT_MAX_VOCAB]; // cps[id] = its code point, ascending
} CharText;

// Read the UTF-8 text data[0..n) into t (its ids owned by t). file names it
// in messages. False with a message in err, nothing to free, when the text
// is not UTF-8 or holds a NUL ("FILE:LINE:COL: error: ..."), is empty, has
// fewer than CHARTEXT_MIN_CHARS characters or fewer than 2 distinct ones,
// more than CHARTEXT_MAX_VOCAB distinct ones, or is larger than
// CHARTEXT_MAX_BYTES.
bool chartext_parse(const char *data, size_t n, const char *file, CharText *t, char *err, size_t errn);

// chartext_parse on the file at path (a regular file of at most
// CHARTEXT_MAX_BYTES). False with a message naming path in err.
bool chartext_load(const char *path, CharText *t, char *err, size_t errn);

// Free t's ids. NULL is a no-op; t is left empty.
void chartext_free(CharText *t);

// Write code point cp as UTF-8 into buf (at least 5 bytes), NUL-terminated;
// returns its length in bytes.
int chartext_utf8(uint32_t cp, char *buf);

// Generate n characters from m, min-char-rnn's way: start from the hidden
// state h0 (H; NULL for zeros) and the character id first; at each step
// h = tanh(W_ih x + W_hh h + b), p = softmax((W_hy h + b_y) / temperature),
// draw the next id from p with rng, feed it back. out (n) gets the ids;
// when k > 0, top (n, k) gets at each step the k most probable ids, most
// probable first, and prob (n, k) their probabilities, and chosen (n) (may
// be NULL) the probability of the id drawn. temperature > 0; k <= m->V.
// The model is not changed. False when out of memory (nothing written).
bool charrnn_sample(const CharRnn *m, const float *h0, int first, int n, double temperature, Pcg *rng,
                    int *out, int k, int *top, float *prob, float *chosen);

// What the char models (charrnn.c, charlstm.c) share. head is their
// read-out: W_hy (V, H), then b_y (V).

// Step t of a sample (charrnn_sample, charlstm_sample) from the hidden state
// h (H): p (V, the caller's scratch) = softmax((W_hy h + b_y) / temperature),
// in double; draws the next id from p with rng into out[t] and returns it;
// chosen[t] (chosen may be NULL) gets its probability; when k > 0, top[t*k ..]
// and prob[t*k ..] get the k most probable ids, most probable first, and
// their probabilities.
int chartext_draw(const float *head, const double *h, int V, int H, double temperature, Pcg *rng,
                  double *p, int t, int *out, int k, int *top, float *prob, float *chosen);

// logits (T, V) = h (T, H) @ W_hy^T + b_y.
void chartext_logits(const float *head, const float *h, int T, int V, int H, float *logits);

// The read-out's backward from dz (T, V) = dL/dlogits: head_grad (V*H + V)
// = dW_hy = dz^T @ h, then db_y = dz's column sums (both overwritten); dh
// (T, H) = dz @ W_hy.
void chartext_logits_backward(const float *head, const float *h, const float *dz, int T, int V, int H,
                              float *head_grad, float *dh);

#endif
