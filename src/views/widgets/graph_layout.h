// graph_layout.h: the graph widget's layout cache, shared by its two
// halves: graph_layout.c computes it (layers, bend points, order, heights),
// graph.c draws it. Internal to src/views/widgets; the public API is graph.h.
#ifndef GRADLAB_GRAPH_LAYOUT_H
#define GRADLAB_GRAPH_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/arena.h"
#include "views/widgets/graph.h"

// Sizes in layout units (pixels at scale 1).
#define BOX_W 132.0f        // every box is this wide, so columns line up
#define NODE_H 56.0f
#define GROUP_H 62.0f
#define DUMMY_H 4.0f
#define COL_PITCH 204.0f    // layer to layer
#define GAP_BOX 22.0f       // vertical gap between boxes in a layer
#define GAP_DUMMY 10.0f     // ... when a bend point is involved
#define GROUP_PAD 12.0f     // an expanded group's frame around its boxes
#define GROUP_TAB 24.0f     // the tab above the frame
#define STUB_LEN 38.0f      // a shared leaf's stub at a far consumer
#define STUB_SPAN 2         // leaf edges longer than this many layers become stubs (1 into a group)
#define MAX_SPAN 16         // any edge longer than this becomes a stub
#define SWEEPS 24           // barycentre sweeps (down and up alternate)

// ---------------------------------------------------------------------------
// The layout cache

enum { VN_NODE, VN_GROUP, VN_DUMMY };

typedef struct VNode {
    int kind;           // VN_NODE, VN_GROUP, VN_DUMMY
    int node;           // NODE: Value.index; GROUP: first member; DUMMY: its edge
    int group;          // NODE: its group or -1; GROUP: K; DUMMY: -1
    int count;          // GROUP: members
    int layer, pos;     // column, and rank inside the column
    double key;         // initial order: creation order of the first member
    float x, y, h;      // centre and height (layout units)
    int nin, nout;      // merged in- and out-degree
    bool block;         // NODE: in a group of leaves only, laid out as a block of columns
} VNode;

typedef struct VEdge {
    int from, to;       // vnodes
    int src;            // Value.index of the (first) source node merged in
    int port;           // input slot at a node (0, 1); -1 into a group box
    int count;          // value edges merged into this one
    int stub;           // drawn as a short labelled stub at the consumer
    int dummy0, ndummy; // bend points, left to right
} VEdge;

typedef struct GroupBox {
    int vnode;          // its box when collapsed, else -1
    int count;          // members drawn
    float x0, y0, x1, y1; // expanded: frame around the members (layout units)
} GroupBox;

struct GraphLayout {
    Arena arena;        // every array below; reset on each relayout
    uint64_t hash;      // of the structure the layout was made for
    bool have, ok;
    int n;              // graph nodes at layout time
    int *vmap;          // (n) vnode of each value node, -1 = not drawn
    VNode *v;           // (nv) real vnodes first (nreal), then bend points
    int nv, nreal;
    VEdge *e;
    int ne;
    int nlayers;
    int *lay_start;     // (nlayers + 1) into lay_nodes
    int *lay_nodes;     // (nv) vnodes by layer, in order
    int *in_start, *in_edge;     // (nreal + 1), (ne): each box's incoming edges, CSR
    int *out_start, *out_edge;   // ... and outgoing edges
    int *up_start, *up_list;     // neighbours one layer left, CSR
    int *down_start, *down_list; // neighbours one layer right, CSR
    unsigned char *down_slot;    // (segments) where each arrives: 0 upper input, 1 middle, 2 lower
    GroupBox *groups;
    int ngroups;
    float width, height;
    long cross0, cross;
};

#endif
