// optim.h: optimizers and gradient clipping on flat float arrays.
//
// A model keeps all its parameters in one block and all its gradients in a
// parallel block of the same length n; an optimizer keeps its state (moments,
// accumulators) in blocks of that length too. The update formulas are
// PyTorch's (torch.optim, 1.13), step for step, so that a run here and a run
// there can be compared:
//
//     SGD       p -= lr * g                      (g += wd * p first when wd > 0)
//     momentum  b = mu * b + g;  p -= lr * (nesterov ? g + mu * b : b)
//     Adagrad   s += g^2;  p -= lr * g / (sqrt(s) + eps)
//     RMSProp   v = alpha * v + (1 - alpha) * g^2;  p -= lr * g / (sqrt(v) + eps)
//     Adam      m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
//               p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//     AdamW     p *= 1 - lr * wd, then Adam without the L2 term
//
//     OptimConfig cfg = optim_defaults(OPTIM_ADAM);
//     cfg.lr = 1e-3f;
//     Optim *opt = optim_create(&cfg, n);
//     ... compute grads ...;  clip_grad_norm(grads, n, 1.0f);  optim_step(opt, params, grads);
//     optim_destroy(opt);
#ifndef GRADLAB_OPTIM_H
#define GRADLAB_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

typedef enum OptimKind {
    OPTIM_SGD,
    OPTIM_MOMENTUM,
    OPTIM_ADAGRAD,
    OPTIM_RMSPROP,
    OPTIM_ADAM,
    OPTIM_ADAMW,
    OPTIM_COUNT
} OptimKind;

// Names for messages and command lines: "sgd", "momentum", ... (indexed by kind).
extern const char *const optim_names[OPTIM_COUNT];

typedef struct OptimConfig {
    OptimKind kind;
    float lr;            // learning rate
    float momentum;      // OPTIM_MOMENTUM: mu
    bool nesterov;       // OPTIM_MOMENTUM: Nesterov's variant
    float alpha;         // OPTIM_RMSPROP: decay of the squared-gradient average
    float beta1, beta2;  // OPTIM_ADAM(W): moment decays
    float eps;           // OPTIM_ADAGRAD/RMSPROP/ADAM(W): added to the denominator
    float weight_decay;  // L2 added to the gradient; for OPTIM_ADAMW decoupled decay
} OptimConfig;

typedef struct Optim {
    OptimConfig cfg;
    size_t n;            // number of parameters
    long t;              // steps taken so far
    float *m;            // (n) momentum buffer / first moment / Adagrad sum; NULL if unused
    float *v;            // (n) second moment (Adam, RMSProp); NULL if unused
} Optim;

// PyTorch's defaults for kind: lr 0.01 (SGD, momentum, Adagrad, RMSProp) or
// 1e-3 (Adam, AdamW), momentum 0.9, alpha 0.99, betas (0.9, 0.999), eps 1e-8
// (1e-10 for Adagrad), weight decay 0 (1e-2 for AdamW).
OptimConfig optim_defaults(OptimKind kind);

// An optimizer for n parameters with zeroed state. Returns NULL when out of
// memory. The caller owns it and frees it with optim_destroy.
Optim *optim_create(const OptimConfig *cfg, size_t n);

// Free an optimizer. NULL is a no-op.
void optim_destroy(Optim *opt);

// Forget the state (moments, step count), keeping the configuration.
void optim_reset(Optim *opt);

// One update of params[0..n) from grads[0..n). grads is not modified.
void optim_step(Optim *opt, float *params, const float *grads);

// The L2 norm of g[0..n), accumulated in double.
double grad_norm(const float *g, size_t n);

// Clip by global norm (Pascanu, Mikolov and Bengio 2013, Algorithm 1): when
// the norm of g is >= max_norm, scale g by max_norm / norm. Returns the norm
// before clipping.
double clip_grad_norm(float *g, size_t n, float max_norm);

// Clip every element of g[0..n) into [-limit, limit], as min-char-rnn does.
void clip_grad_value(float *g, size_t n, float limit);

#endif
