// graph_layout.c: the graph widget's layout: the cache and its hash;
// building the merged graph (nodes and collapsed groups); layering; bend
// points; ordering (barycentre sweeps and the crossing count); heights.
// See graph.h for the method, graph_layout.h for the data.
#include "views/widgets/graph_layout.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

GraphLayout *graph_layout_create(void)
{
    GraphLayout *lay = calloc(1, sizeof(*lay));
    if (!lay)
        return NULL;
    arena_init(&lay->arena, 256 * 1024, 0);
    return lay;
}

void graph_layout_destroy(GraphLayout *lay)
{
    if (!lay)
        return;
    arena_destroy(&lay->arena);
    free(lay);
}

bool graph_layout_ok(const GraphLayout *lay) { return lay->ok; }

void graph_layout_size(const GraphLayout *lay, float *w, float *h)
{
    *w = lay->ok ? lay->width : 0;
    *h = lay->ok ? lay->height : 0;
}

int graph_layout_boxes(const GraphLayout *lay) { return lay->ok ? lay->nreal : 0; }
long graph_layout_crossings(const GraphLayout *lay) { return lay->cross; }
long graph_layout_crossings_initial(const GraphLayout *lay) { return lay->cross0; }

static int group_of(const GraphParams *p, size_t i)
{
    if (!p->group)
        return -1;
    int k = p->group[i];
    return k >= 0 && k < p->ngroups ? k : -1;
}

static bool is_collapsed(const GraphParams *p, int k)
{
    return k >= 0 && p->collapsed && p->collapsed[k];
}

static uint64_t fnv(uint64_t h, uint64_t x)
{
    for (int i = 0; i < 8; i++) {
        h ^= (x >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

// Everything the layout depends on: the nodes, their sources, the output,
// the groups and which of them are collapsed. Values, names and the view
// are not in it.
static uint64_t structure_hash(const GraphParams *p)
{
    const Graph *g = p->graph;
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, g->n);
    h = fnv(h, p->out ? p->out->index : UINT64_MAX);
    h = fnv(h, (uint64_t)(p->group ? p->ngroups : 0));
    for (size_t i = 0; i < g->n; i++) {
        const Value *v = g->nodes[i];
        uint64_t a = v->src[0] ? v->src[0]->index : 0xffffffffu;
        uint64_t b = v->src[1] ? v->src[1]->index : 0xffffffffu;
        int k = group_of(p, i);
        h = fnv(h, a | b << 32);
        h = fnv(h, (uint64_t)v->op | (uint64_t)(uint32_t)k << 8 | (uint64_t)is_collapsed(p, k) << 40);
    }
    return h;
}

// ---------------------------------------------------------------------------
// The merged graph: one vnode per drawn node or collapsed group

static int cmp_edge(const void *a, const void *b)
{
    const VEdge *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return x->src < y->src ? -1 : x->src > y->src;
}

static bool build_vgraph(GraphLayout *lay, const GraphParams *p)
{
    const Graph *g = p->graph;
    Arena *A = &lay->arena;
    size_t n = g->n;
    lay->n = (int)n;
    lay->ngroups = p->group ? p->ngroups : 0;
    lay->vmap = arena_alloc(A, (n ? n : 1) * sizeof(int));
    unsigned char *incl = arena_calloc(A, n ? n : 1, 1);
    lay->groups = arena_alloc(A, (size_t)(lay->ngroups ? lay->ngroups : 1) * sizeof(GroupBox));
    if (!lay->vmap || !incl || !lay->groups)
        return false;
    for (int k = 0; k < lay->ngroups; k++)
        lay->groups[k] = (GroupBox){.vnode = -1};
    if (p->out) {
        incl[p->out->index] = 1;
        for (size_t i = p->out->index + 1; i-- > 0;)
            if (incl[i])
                for (int k = 0; k < 2 && g->nodes[i]->src[k]; k++)
                    incl[g->nodes[i]->src[k]->index] = 1;
    } else {
        memset(incl, 1, n);
    }

    // Real vnodes, and how many edges to expect.
    size_t nreal = 0, nraw = 0;
    for (size_t i = 0; i < n; i++) {
        lay->vmap[i] = -1;
        if (!incl[i])
            continue;
        int k = group_of(p, i);
        nreal += !(is_collapsed(p, k) && lay->groups[k].count > 0);
        if (k >= 0)
            lay->groups[k].count++;
        nraw += (g->nodes[i]->src[0] != NULL) + (g->nodes[i]->src[1] != NULL);
    }
    // Bend points are added to a bigger copy once layers are known.
    lay->v = arena_alloc(A, (nreal + 1) * sizeof(VNode));
    lay->e = arena_alloc(A, (nraw ? nraw : 1) * sizeof(VEdge));
    if (!lay->v || !lay->e)
        return false;
    int nv = 0;
    for (size_t i = 0; i < n; i++) {
        if (!incl[i])
            continue;
        int k = group_of(p, i);
        if (is_collapsed(p, k) && lay->groups[k].vnode >= 0) {
            lay->vmap[i] = lay->groups[k].vnode;
            continue;
        }
        VNode *vn = &lay->v[nv];
        memset(vn, 0, sizeof(*vn));
        vn->key = (double)i;
        vn->node = (int)i;
        vn->group = k;
        if (is_collapsed(p, k)) {
            vn->kind = VN_GROUP;
            vn->count = lay->groups[k].count;
            vn->h = GROUP_H;
            lay->groups[k].vnode = nv;
        } else {
            vn->kind = VN_NODE;
            vn->h = NODE_H;
        }
        lay->vmap[i] = nv++;
    }
    lay->nreal = lay->nv = nv;

    // Edges, with the ones between the same boxes merged when a group is
    // involved (x * x keeps its two edges: they go to different slots).
    int ne = 0;
    for (size_t i = 0; i < n; i++) {
        if (!incl[i])
            continue;
        const Value *c = g->nodes[i];
        for (int k = 0; k < 2 && c->src[k]; k++) {
            int a = lay->vmap[c->src[k]->index], b = lay->vmap[i];
            if (a == b || a < 0)
                continue;
            lay->e[ne++] = (VEdge){.from = a, .to = b, .src = (int)c->src[k]->index,
                                   .port = lay->v[b].kind == VN_GROUP ? -1 : k, .count = 1};
        }
    }
    qsort(lay->e, (size_t)ne, sizeof(VEdge), cmp_edge);
    // count = the distinct values an edge carries (h used by three gates
    // inside a collapsed step is one value).
    int m = 0, last_src = -1;
    for (int j = 0; j < ne; j++) {
        VEdge *last = m ? &lay->e[m - 1] : NULL;
        bool grouped = lay->v[lay->e[j].from].kind == VN_GROUP || lay->v[lay->e[j].to].kind == VN_GROUP;
        if (last && grouped && last->from == lay->e[j].from && last->to == lay->e[j].to &&
            last->port == lay->e[j].port) {
            last->count += lay->e[j].src != last_src;
            last_src = lay->e[j].src;
            continue;
        }
        lay->e[m++] = lay->e[j];
        last_src = lay->e[j].src;
    }
    lay->ne = m;
    lay->in_start = arena_calloc(A, (size_t)nv + 1, sizeof(int));
    lay->out_start = arena_calloc(A, (size_t)nv + 1, sizeof(int));
    lay->in_edge = arena_alloc(A, (size_t)(m ? m : 1) * sizeof(int));
    lay->out_edge = arena_alloc(A, (size_t)(m ? m : 1) * sizeof(int));
    if (!lay->in_start || !lay->out_start || !lay->in_edge || !lay->out_edge)
        return false;
    for (int j = 0; j < m; j++) {
        lay->v[lay->e[j].from].nout++;
        lay->v[lay->e[j].to].nin++;
    }
    for (int i = 0; i < nv; i++) {
        lay->in_start[i + 1] = lay->in_start[i] + lay->v[i].nin;
        lay->out_start[i + 1] = lay->out_start[i] + lay->v[i].nout;
    }
    for (int j = 0; j < m; j++) { // edges are sorted by source, so fill in order
        lay->out_edge[lay->out_start[lay->e[j].from]++] = j;
        lay->in_edge[lay->in_start[lay->e[j].to]++] = j;
    }
    for (int i = nv; i > 0; i--) {
        lay->in_start[i] = lay->in_start[i - 1];
        lay->out_start[i] = lay->out_start[i - 1];
    }
    lay->in_start[0] = lay->out_start[0] = 0;
    return true;
}

// ---------------------------------------------------------------------------
// Layers: the longest path from the sources (as early as possible), then
// everything but the sinks moved as late as its consumers allow, so a leaf
// or a side branch (U * x_t) sits right before the node that uses it; then
// the nodes fed by the main flow move back left (see below).

// Shift the layers to start at 0 and count them.
static void normalize_layers(GraphLayout *lay)
{
    VNode *v = lay->v;
    int nv = lay->nreal;
    int lo = INT32_MAX, hi = 0;
    for (int i = 0; i < nv; i++) {
        lo = v[i].layer < lo ? v[i].layer : lo;
        hi = v[i].layer > hi ? v[i].layer : hi;
    }
    if (nv == 0)
        lo = hi = 0;
    for (int i = 0; i < nv; i++)
        v[i].layer -= lo;
    lay->nlayers = nv ? hi - lo + 1 : 0;
}

static void assign_layers(GraphLayout *lay)
{
    VNode *v = lay->v;
    int nv = lay->nreal;
    for (int i = 0; i < nv; i++)
        v[i].layer = 0;
    // Relax until stable; a cycle (only possible with non-convex groups)
    // stops after nv passes.
    for (int pass = 0; pass <= nv; pass++) {
        bool changed = false;
        for (int j = 0; j < lay->ne; j++) {
            const VEdge *e = &lay->e[j];
            if (v[e->to].layer < v[e->from].layer + 1 && v[e->from].layer + 1 <= nv) {
                v[e->to].layer = v[e->from].layer + 1;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
    for (int i = 0; i < nv; i++)
        if (v[i].nout > 0)
            v[i].layer = INT32_MAX;
    for (int pass = 0; pass <= nv; pass++) {
        bool changed = false;
        for (int j = lay->ne; j-- > 0;) {
            const VEdge *e = &lay->e[j];
            if (v[e->to].layer != INT32_MAX && v[e->from].layer > v[e->to].layer - 1) {
                v[e->from].layer = v[e->to].layer - 1;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
    for (int i = 0; i < nv; i++)
        if (v[i].layer == INT32_MAX) // only on a cycle
            v[i].layer = 0;
    // Then a node fed by the main flow (a non-leaf source) that has at least
    // as many inputs as outputs moves back left as far as its non-leaf
    // sources allow: that shortens more edges than it lengthens, and keeps a
    // loss term next to the step it measures instead of at the far end.
    for (int pass = 0; pass <= nv; pass++) {
        bool changed = false;
        for (int i = 0; i < nv; i++) {
            if (v[i].nin < v[i].nout || v[i].nin == 0)
                continue;
            int want = -1;
            for (int q = lay->in_start[i]; q < lay->in_start[i + 1]; q++) {
                const VNode *src = &v[lay->e[lay->in_edge[q]].from];
                if (src->nin > 0 && src->layer + 1 > want)
                    want = src->layer + 1;
            }
            if (want >= 0 && want < v[i].layer) {
                v[i].layer = want;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
    // Leaves right before their first consumer.
    for (int i = 0; i < nv; i++) {
        if (v[i].nin > 0 || v[i].nout == 0)
            continue;
        int first = INT32_MAX;
        for (int q = lay->out_start[i]; q < lay->out_start[i + 1]; q++)
            if (v[lay->e[lay->out_edge[q]].to].layer < first)
                first = v[lay->e[lay->out_edge[q]].to].layer;
        v[i].layer = first - 1;
    }
    normalize_layers(lay);
}

// Groups in column ranges of their own: every box of a group sits right of
// every box of a group that feeds it, so the frames of two expanded groups
// never overlap (step 0's loss terms no longer share columns with step 1).
// Boxes are only moved right, then their consumers with them; a leaf of a
// group then moves back next to its consumer if that stays in the group's
// columns. Groups that feed each other both ways (not convex) keep the
// layers they had.
static bool separate_groups(GraphLayout *lay)
{
    VNode *v = lay->v;
    int nv = lay->nreal, G = lay->ngroups;
    if (G < 2 || nv == 0)
        return true;
    int *saved = arena_alloc(&lay->arena, (size_t)nv * sizeof(int));
    int *gmin = arena_alloc(&lay->arena, (size_t)G * sizeof(int)); // over non-leaves
    int *gmax = arena_alloc(&lay->arena, (size_t)G * sizeof(int));
    int *floor_ = arena_alloc(&lay->arena, (size_t)G * sizeof(int));
    if (!saved || !gmin || !gmax || !floor_)
        return false;
    for (int i = 0; i < nv; i++)
        saved[i] = v[i].layer;
    bool done = false;
    for (int outer = 0; outer <= G + 1 && !done; outer++) {
        for (int k = 0; k < G; k++)
            gmax[k] = -1, floor_[k] = 0;
        for (int i = 0; i < nv; i++)
            if (v[i].group >= 0 && v[i].layer > gmax[v[i].group])
                gmax[v[i].group] = v[i].layer;
        for (int j = 0; j < lay->ne; j++) {
            int ga = v[lay->e[j].from].group, gb = v[lay->e[j].to].group;
            if (ga >= 0 && gb >= 0 && ga != gb && gmax[ga] + 1 > floor_[gb])
                floor_[gb] = gmax[ga] + 1;
        }
        done = true;
        for (int i = 0; i < nv; i++)
            if (v[i].group >= 0 && v[i].layer < floor_[v[i].group]) {
                v[i].layer = floor_[v[i].group];
                done = false;
            }
        if (done)
            break;
        // Consumers follow (edges are sorted by source, mostly in order).
        bool settled = false;
        for (int pass = 0; pass <= nv && !settled; pass++) {
            settled = true;
            for (int j = 0; j < lay->ne; j++) {
                const VEdge *e = &lay->e[j];
                if (v[e->to].layer < v[e->from].layer + 1) {
                    v[e->to].layer = v[e->from].layer + 1;
                    settled = false;
                }
            }
        }
        if (!settled)
            break;
    }
    if (!done) {
        for (int i = 0; i < nv; i++)
            v[i].layer = saved[i];
        return true;
    }
    for (int k = 0; k < G; k++)
        floor_[k] = gmax[k], gmin[k] = INT32_MAX, gmax[k] = -1;
    for (int i = 0; i < nv; i++) {
        int k = v[i].group;
        if (k >= 0 && v[i].nin > 0) {
            gmin[k] = v[i].layer < gmin[k] ? v[i].layer : gmin[k];
            gmax[k] = v[i].layer > gmax[k] ? v[i].layer : gmax[k];
        }
    }
    // A group of leaves only (the parameters) becomes a block of columns
    // ending right before the group it feeds (floor_ holds each group's
    // last column), no taller than the tallest other column: the leaves
    // used earliest in the last column, so their edges stay short.
    int maxl = 0;
    for (int i = 0; i < nv; i++)
        maxl = v[i].layer > maxl ? v[i].layer : maxl;
    int *cnt = arena_calloc(&lay->arena, (size_t)maxl + 1, sizeof(int));
    int *leaf = arena_alloc(&lay->arena, (size_t)nv * sizeof(int));
    if (!cnt || !leaf)
        return false;
    int rows = 1;
    for (int i = 0; i < nv; i++) {
        int k = v[i].kind == VN_NODE ? v[i].group : -1;
        if ((k < 0 || gmin[k] != INT32_MAX) && v[i].layer >= 0 && ++cnt[v[i].layer] > rows)
            rows = cnt[v[i].layer];
    }
    for (int k = 0; k < G; k++) {
        if (gmin[k] != INT32_MAX)
            continue;
        int m = 0;
        for (int i = 0; i < nv; i++) {
            if (v[i].kind != VN_NODE || v[i].group != k)
                continue;
            int j = m++; // by where it stood before: next to its first consumer
            while (j > 0 && saved[leaf[j - 1]] > saved[i]) {
                leaf[j] = leaf[j - 1];
                j--;
            }
            leaf[j] = i;
        }
        for (int j = 0; j < m; j++) {
            v[leaf[j]].layer = floor_[k] - j / rows;
            v[leaf[j]].block = true;
        }
    }
    for (int i = 0; i < nv; i++) {
        if (v[i].nin > 0 || v[i].nout == 0)
            continue;
        int first = INT32_MAX, k = v[i].kind == VN_NODE ? v[i].group : -1;
        for (int q = lay->out_start[i]; q < lay->out_start[i + 1]; q++)
            if (v[lay->e[lay->out_edge[q]].to].layer < first)
                first = v[lay->e[lay->out_edge[q]].to].layer;
        if (first - 1 > v[i].layer && (k < 0 || first - 1 >= gmin[k]))
            v[i].layer = first - 1;
    }
    normalize_layers(lay);
    return true;
}

// Stubs and bend points. A leaf's edges beyond its nearest consumers, and
// any very long or backward edge, are stubs; the rest get one bend point
// per layer they skip. The stubs into one group box merge into one, which
// counts the values it carries ("W00 +17").
static bool add_bends(GraphLayout *lay)
{
    size_t total = (size_t)lay->nreal;
    for (int j = 0; j < lay->ne; j++) {
        VEdge *e = &lay->e[j];
        int span = lay->v[e->to].layer - lay->v[e->from].layer;
        // Into a collapsed group (a summary already) a leaf's second use is a stub.
        // From a block of parameters, only the column next to the consumer
        // draws lines.
        int leaf_span = lay->v[e->to].kind == VN_GROUP || lay->v[e->from].block ? 1 : STUB_SPAN;
        e->stub = span <= 0 || span > MAX_SPAN || (lay->v[e->from].nin == 0 && span > leaf_span);
        total += e->stub ? 0 : (size_t)(span - 1);
    }
    VNode *v = arena_alloc(&lay->arena, (total + 1) * sizeof(VNode));
    int *first = arena_alloc(&lay->arena, (size_t)(lay->nreal ? lay->nreal : 1) * sizeof(int));
    if (!v || !first)
        return false;
    memcpy(v, lay->v, (size_t)lay->nreal * sizeof(VNode));
    lay->v = v;
    for (int i = 0; i < lay->nreal; i++)
        first[i] = -1;
    for (int j = 0; j < lay->ne; j++) {
        VEdge *e = &lay->e[j];
        e->dummy0 = lay->nv;
        e->ndummy = e->stub ? 0 : v[e->to].layer - v[e->from].layer - 1;
        if (e->stub && e->port < 0) {
            if (first[e->to] >= 0) {
                lay->e[first[e->to]].count += e->count;
                e->count = 0; // merged: not drawn
            } else {
                first[e->to] = j;
            }
        }
        for (int d = 0; d < e->ndummy; d++) {
            VNode *dn = &v[lay->nv++];
            memset(dn, 0, sizeof(*dn));
            dn->kind = VN_DUMMY;
            dn->node = j;
            dn->group = -1;
            dn->layer = v[e->from].layer + 1 + d;
            dn->key = v[e->from].key + 0.5;
            dn->h = DUMMY_H;
        }
    }
    return true;
}

// The segments between adjacent layers, as up and down adjacency lists.
static bool build_adjacency(GraphLayout *lay, const Graph *g)
{
    Arena *A = &lay->arena;
    int nv = lay->nv;
    lay->up_start = arena_calloc(A, (size_t)nv + 1, sizeof(int));
    lay->down_start = arena_calloc(A, (size_t)nv + 1, sizeof(int));
    int nseg = 0;
    for (int j = 0; j < lay->ne; j++)
        nseg += lay->e[j].stub ? 0 : lay->e[j].ndummy + 1;
    lay->up_list = arena_alloc(A, (size_t)(nseg ? nseg : 1) * sizeof(int));
    lay->down_list = arena_alloc(A, (size_t)(nseg ? nseg : 1) * sizeof(int));
    lay->down_slot = arena_alloc(A, (size_t)(nseg ? nseg : 1));
    int *fill_up = arena_calloc(A, (size_t)nv + 1, sizeof(int));
    int *fill_down = arena_calloc(A, (size_t)nv + 1, sizeof(int));
    if (!lay->up_start || !lay->down_start || !lay->up_list || !lay->down_list || !lay->down_slot ||
        !fill_up || !fill_down)
        return false;
    // Two passes over the segments: count, then fill.
    for (int pass = 0; pass < 2; pass++) {
        for (int j = 0; j < lay->ne; j++) {
            const VEdge *e = &lay->e[j];
            if (e->stub)
                continue;
            int prev = e->from;
            for (int d = 0; d <= e->ndummy; d++) {
                int next = d < e->ndummy ? e->dummy0 + d : e->to;
                if (pass == 0) {
                    lay->down_start[prev + 1]++;
                    lay->up_start[next + 1]++;
                } else {
                    const VNode *t = &lay->v[next];
                    bool two = next == e->to && t->kind == VN_NODE && g->nodes[t->node]->src[1];
                    lay->down_slot[lay->down_start[prev] + fill_down[prev]] =
                        (unsigned char)(two ? 2 * e->port : 1);
                    lay->down_list[lay->down_start[prev] + fill_down[prev]++] = next;
                    lay->up_list[lay->up_start[next] + fill_up[next]++] = prev;
                }
                prev = next;
            }
        }
        if (pass == 0)
            for (int i = 0; i < nv; i++) {
                lay->down_start[i + 1] += lay->down_start[i];
                lay->up_start[i + 1] += lay->up_start[i];
            }
    }
    return true;
}

// ---------------------------------------------------------------------------
// Ordering: barycentre sweeps, keeping the order with the fewest crossings,
// then swaps of neighbours that remove crossings

typedef struct Ranked {
    float key;
    int pos, node;
} Ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const Ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

// Sort a layer's nodes by key, ties kept in their current order. tmp holds m.
static void sort_layer_by(int *nodes, int m, const float *key, const VNode *v, Ranked *tmp)
{
    for (int i = 0; i < m; i++)
        tmp[i] = (Ranked){key[nodes[i]], v[nodes[i]].pos, nodes[i]};
    qsort(tmp, (size_t)m, sizeof(Ranked), cmp_ranked);
    for (int i = 0; i < m; i++)
        nodes[i] = tmp[i].node;
}

static void renumber(GraphLayout *lay)
{
    for (int l = 0; l < lay->nlayers; l++)
        for (int i = lay->lay_start[l]; i < lay->lay_start[l + 1]; i++)
            lay->v[lay->lay_nodes[i]].pos = i - lay->lay_start[l];
}

// Crossings between layers l and l+1: list the segments by the rank of
// their left end, then of their right end, and count the inversions of the
// right ranks with a Fenwick tree. A right end's rank counts the input slot
// (3 * pos + slot), so two edges into one gate in the wrong slots cross.
// scratch needs segments + 3 * nodes + 1 ints.
static long count_crossings(const GraphLayout *lay, int *scratch)
{
    long total = 0;
    const VNode *v = lay->v;
    for (int l = 0; l + 1 < lay->nlayers; l++) {
        int *seq = scratch, k = 0;
        for (int i = lay->lay_start[l]; i < lay->lay_start[l + 1]; i++) {
            int u = lay->lay_nodes[i], k0 = k;
            for (int q = lay->down_start[u]; q < lay->down_start[u + 1]; q++) {
                int r = 3 * v[lay->down_list[q]].pos + lay->down_slot[q], j = k++;
                while (j > k0 && seq[j - 1] > r) { // keep each node's targets sorted
                    seq[j] = seq[j - 1];
                    j--;
                }
                seq[j] = r;
            }
        }
        int width = 3 * (lay->lay_start[l + 2] - lay->lay_start[l + 1]);
        int *tree = scratch + k;
        memset(tree, 0, (size_t)(width + 1) * sizeof(int));
        for (int j = 0; j < k; j++) {
            int le = 0; // earlier segments whose right end is <= seq[j]
            for (int x = seq[j] + 1; x > 0; x -= x & -x)
                le += tree[x];
            total += j - le;
            for (int x = seq[j] + 1; x <= width; x += x & -x)
                tree[x]++;
        }
    }
    return total;
}

// Crossings between the segments of a and those of b when a sits just
// left of (above) b in their layer: only these change when they swap.
static long pair_crossings(const GraphLayout *lay, int a, int b)
{
    const VNode *v = lay->v;
    long c = 0;
    for (int p = lay->up_start[a]; p < lay->up_start[a + 1]; p++)
        for (int q = lay->up_start[b]; q < lay->up_start[b + 1]; q++)
            c += v[lay->up_list[p]].pos > v[lay->up_list[q]].pos;
    for (int p = lay->down_start[a]; p < lay->down_start[a + 1]; p++)
        for (int q = lay->down_start[b]; q < lay->down_start[b + 1]; q++)
            c += 3 * v[lay->down_list[p]].pos + lay->down_slot[p] > 3 * v[lay->down_list[q]].pos + lay->down_slot[q];
    return c;
}

// Swap neighbours in a layer while that removes crossings ("transpose").
static void transpose(GraphLayout *lay)
{
    for (int round = 0; round < 8; round++) {
        bool better = false;
        for (int l = 0; l < lay->nlayers; l++) {
            int *nodes = lay->lay_nodes + lay->lay_start[l], m = lay->lay_start[l + 1] - lay->lay_start[l];
            for (int i = 0; i + 1 < m; i++) {
                int a = nodes[i], b = nodes[i + 1];
                if (pair_crossings(lay, a, b) > pair_crossings(lay, b, a)) {
                    nodes[i] = b, nodes[i + 1] = a;
                    lay->v[b].pos = i, lay->v[a].pos = i + 1;
                    better = true;
                }
            }
        }
        if (!better)
            break;
    }
}

static bool order_layers(GraphLayout *lay)
{
    Arena *A = &lay->arena;
    int nv = lay->nv, L = lay->nlayers;
    VNode *v = lay->v;
    lay->lay_start = arena_calloc(A, (size_t)L + 2, sizeof(int));
    lay->lay_nodes = arena_alloc(A, (size_t)(nv ? nv : 1) * sizeof(int));
    int *best = arena_alloc(A, (size_t)(nv ? nv : 1) * sizeof(int));
    float *key = arena_alloc(A, (size_t)(nv ? nv : 1) * sizeof(float));
    int nseg = lay->down_start[nv];
    int *scratch = arena_alloc(A, (size_t)(nseg + 3 * nv + L + 8) * sizeof(int));
    Ranked *tmp = arena_alloc(A, (size_t)(nv ? nv : 1) * sizeof(Ranked));
    if (!lay->lay_start || !lay->lay_nodes || !best || !key || !scratch || !tmp)
        return false;
    // Initial order: creation order of each box's first member.
    for (int i = 0; i < nv; i++)
        lay->lay_start[v[i].layer + 1]++;
    for (int l = 0; l < L; l++)
        lay->lay_start[l + 1] += lay->lay_start[l];
    lay->lay_start[L + 1] = lay->lay_start[L];
    for (int l = 0; l <= L; l++)
        scratch[l] = lay->lay_start[l];
    for (int i = 0; i < nv; i++)
        lay->lay_nodes[scratch[v[i].layer]++] = i;
    for (int i = 0; i < nv; i++) {
        key[i] = (float)v[i].key;
        v[i].pos = i; // ties in creation order
    }
    for (int l = 0; l < L; l++)
        sort_layer_by(lay->lay_nodes + lay->lay_start[l], lay->lay_start[l + 1] - lay->lay_start[l], key, v, tmp);
    renumber(lay);
    long bestc = lay->cross0 = count_crossings(lay, scratch);
    memcpy(best, lay->lay_nodes, (size_t)nv * sizeof(int));

    int stale = 0;
    for (int sweep = 0; sweep < SWEEPS && bestc > 0 && stale < 6; sweep++) {
        bool down = sweep % 2 == 0;
        for (int s = 1; s < L; s++) {
            int l = down ? s : L - 1 - s;
            const int *st = down ? lay->up_start : lay->down_start;
            const int *li = down ? lay->up_list : lay->down_list;
            int *nodes = lay->lay_nodes + lay->lay_start[l], m = lay->lay_start[l + 1] - lay->lay_start[l];
            for (int i = 0; i < m; i++) {
                int x = nodes[i], cnt = st[x + 1] - st[x];
                float sum = 0;
                for (int q = st[x]; q < st[x + 1]; q++) // towards the input slot it feeds
                    sum += (float)v[li[q]].pos + (down ? 0 : 0.3f * (float)(lay->down_slot[q] - 1));
                // No neighbours on that side: stay where it is.
                key[x] = cnt ? sum / (float)cnt : (float)v[x].pos;
            }
            sort_layer_by(nodes, m, key, v, tmp);
            for (int i = 0; i < m; i++)
                v[nodes[i]].pos = i;
        }
        transpose(lay);
        long c = count_crossings(lay, scratch);
        if (c < bestc) {
            bestc = c;
            memcpy(best, lay->lay_nodes, (size_t)nv * sizeof(int));
            stale = 0;
        } else {
            stale++;
        }
    }
    memcpy(lay->lay_nodes, best, (size_t)nv * sizeof(int));
    renumber(lay);
    if (bestc > 0) {
        transpose(lay);
        bestc = count_crossings(lay, scratch);
    }
    lay->cross = bestc;
    return true;
}

// ---------------------------------------------------------------------------
// Heights: each node moves towards its neighbours' mean height, and each
// layer is then fitted in order with boxes kept apart (least squares under
// the order constraint: pool adjacent violators).

static float gap_between(const VNode *a, const VNode *b)
{
    return (a->h + b->h) / 2 + (a->kind == VN_DUMMY || b->kind == VN_DUMMY ? GAP_DUMMY : GAP_BOX);
}

// want: (nv) desired heights. blk: 4 * m floats of scratch.
static void fit_layer(GraphLayout *lay, int l, const float *want, float *blk)
{
    const int *nodes = lay->lay_nodes + lay->lay_start[l];
    int m = lay->lay_start[l + 1] - lay->lay_start[l];
    float *sum = blk, *cnt = blk + m, *off = blk + 2 * m;
    int *start = (int *)(void *)(blk + 3 * m);
    int nb = 0;
    float c = 0;
    for (int i = 0; i < m; i++) {
        if (i > 0)
            c += gap_between(&lay->v[nodes[i - 1]], &lay->v[nodes[i]]);
        off[i] = c;
        float w = lay->v[nodes[i]].kind == VN_DUMMY ? 0.5f : 1.0f;
        sum[nb] = (want[nodes[i]] - c) * w;
        cnt[nb] = w;
        start[nb] = i;
        nb++;
        while (nb > 1 && sum[nb - 2] / cnt[nb - 2] > sum[nb - 1] / cnt[nb - 1]) {
            sum[nb - 2] += sum[nb - 1];
            cnt[nb - 2] += cnt[nb - 1];
            nb--;
        }
    }
    for (int b = 0; b < nb; b++) {
        int end = b + 1 < nb ? start[b + 1] : m;
        float z = sum[b] / cnt[b];
        for (int i = start[b]; i < end; i++)
            lay->v[nodes[i]].y = z + off[i];
    }
}

static bool place(GraphLayout *lay)
{
    Arena *A = &lay->arena;
    int nv = lay->nv, L = lay->nlayers;
    VNode *v = lay->v;
    int maxm = 1;
    for (int l = 0; l < L; l++)
        if (lay->lay_start[l + 1] - lay->lay_start[l] > maxm)
            maxm = lay->lay_start[l + 1] - lay->lay_start[l];
    float *want = arena_alloc(A, (size_t)(nv ? nv : 1) * sizeof(float));
    float *blk = arena_alloc(A, (size_t)maxm * 4 * sizeof(float));
    if (!want || !blk)
        return false;
    for (int i = 0; i < nv; i++) {
        v[i].x = (float)v[i].layer * COL_PITCH + BOX_W / 2;
        want[i] = 0;
    }
    for (int l = 0; l < L; l++) // compact and centred on 0
        fit_layer(lay, l, want, blk);
    for (int it = 0; it < 10; it++) {
        // Down, up, down, ...; the last two passes look both ways.
        bool both = it >= 8, down = it % 2 == 0;
        for (int s = 0; s < L; s++) {
            int l = down ? s : L - 1 - s;
            for (int i = lay->lay_start[l]; i < lay->lay_start[l + 1]; i++) {
                int x = lay->lay_nodes[i];
                float sum = 0;
                int cnt = 0;
                if (down || both)
                    for (int q = lay->up_start[x]; q < lay->up_start[x + 1]; q++, cnt++)
                        sum += v[lay->up_list[q]].y;
                if (!down || both)
                    for (int q = lay->down_start[x]; q < lay->down_start[x + 1]; q++, cnt++)
                        sum += v[lay->down_list[q]].y;
                want[x] = cnt ? sum / (float)cnt : v[x].y;
            }
            fit_layer(lay, l, want, blk);
        }
    }
    // Take out the slope the passes leave in a long chain (each step a
    // little lower than the last): a shear by the least-squares slope of
    // height over layer moves whole layers, so order and gaps stay.
    double sl = 0, sll = 0, sy_ = 0, sly = 0, cnt = 0;
    for (int i = 0; i < lay->nreal; i++) {
        double l = v[i].layer, y = v[i].y;
        sl += l, sll += l * l, sy_ += y, sly += l * y, cnt += 1;
    }
    if (cnt > 1 && sll * cnt - sl * sl > 0) {
        float slope = (float)((sly * cnt - sl * sy_) / (sll * cnt - sl * sl));
        for (int i = 0; i < nv; i++)
            v[i].y -= slope * (float)v[i].layer;
    }
    // A box with only stubs (a parameter used far away) goes towards the
    // mean height of where it is used; the rest of its layer stays.
    for (int l = 0; l < L; l++) {
        bool any = false;
        for (int i = lay->lay_start[l]; i < lay->lay_start[l + 1]; i++) {
            int x = lay->lay_nodes[i];
            want[x] = v[x].y;
            if (x >= lay->nreal || lay->up_start[x + 1] > lay->up_start[x] ||
                lay->down_start[x + 1] > lay->down_start[x] || lay->out_start[x + 1] == lay->out_start[x])
                continue;
            float sum = 0;
            for (int q = lay->out_start[x]; q < lay->out_start[x + 1]; q++)
                sum += v[lay->e[lay->out_edge[q]].to].y;
            want[x] = sum / (float)(lay->out_start[x + 1] - lay->out_start[x]);
            any = true;
        }
        if (any)
            fit_layer(lay, l, want, blk);
    }
    // Shift to start at (0, 0) and measure.
    float y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < nv; i++) {
        y0 = fminf(y0, v[i].y - v[i].h / 2);
        y1 = fmaxf(y1, v[i].y + v[i].h / 2);
    }
    // Room above for the tabs of expanded groups and left for stub labels.
    float top = lay->ngroups ? GROUP_TAB + GROUP_PAD : 0;
    float left = 0;
    for (int j = 0; j < lay->ne; j++)
        if (lay->e[j].stub && v[lay->e[j].to].layer == 0)
            left = STUB_LEN + 40;
    if (nv == 0)
        y0 = y1 = 0;
    for (int i = 0; i < nv; i++) {
        v[i].y += top - y0;
        v[i].x += left;
    }
    lay->width = left + (L ? (float)(L - 1) * COL_PITCH + BOX_W : 0);
    lay->height = top + (y1 - y0);
    // Expanded groups' frames.
    for (int k = 0; k < lay->ngroups; k++) {
        GroupBox *gb = &lay->groups[k];
        gb->x0 = gb->y0 = INFINITY;
        gb->x1 = gb->y1 = -INFINITY;
    }
    for (int i = 0; i < lay->nreal; i++) {
        if (v[i].kind != VN_NODE || v[i].group < 0)
            continue;
        GroupBox *gb = &lay->groups[v[i].group];
        gb->x0 = fminf(gb->x0, v[i].x - BOX_W / 2 - GROUP_PAD);
        gb->x1 = fmaxf(gb->x1, v[i].x + BOX_W / 2 + GROUP_PAD);
        gb->y0 = fminf(gb->y0, v[i].y - v[i].h / 2 - GROUP_PAD);
        gb->y1 = fmaxf(gb->y1, v[i].y + v[i].h / 2 + GROUP_PAD);
    }
    return true;
}

bool graph_layout_update(GraphLayout *lay, const GraphParams *p)
{
    uint64_t h = structure_hash(p);
    if (lay->have && h == lay->hash)
        return false;
    arena_reset(&lay->arena);
    lay->have = true;
    lay->hash = h;
    lay->ok = false;
    lay->nv = lay->nreal = lay->ne = lay->nlayers = lay->ngroups = 0;
    lay->cross = lay->cross0 = 0;
    if (!build_vgraph(lay, p))
        return false;
    assign_layers(lay);
    if (!separate_groups(lay) || !add_bends(lay) || !build_adjacency(lay, p->graph) || !order_layers(lay) || !place(lay))
        return false;
    lay->ok = true;
    return true;
}
