// graph.h: the computational-graph widget. Draws a scalar Graph as boxes
// (value and gradient) joined by edges, laid out in layers from left to
// right, for graphs from a single neuron to an unrolled RNN of 500+ nodes.
//
// A tiny tutorial, drawing the graph of f and letting the user explore it:
//
//     GraphLayout *lay = graph_layout_create();          // once, with the view
//     GraphParams p = {.x = 0, .y = 0, .w = 1280, .h = 720, .unit = 1,
//                      .theme = theme_get(THEME_DARK), .graph = g, .out = f};
//     graph_layout_update(lay, &p);                      // then frame the graph:
//     p.view = graph_view_fit(lay, &p);
//     // every frame:
//     p.hover = true, p.mouse_x = mx, p.mouse_y = my;
//     graph_build(scene, lay, &p);                       // lays out only if needed
//     // on a click:
//     int k = graph_hit_group(scene, mx, my, p.id);      // a group box or tab?
//     if (k >= 0) collapsed[k] = !collapsed[k];
//     // on the wheel / a drag:
//     graph_view_zoom(&p.view, &p, 1.25f, mx, my);
//     graph_view_pan(&p.view, dx, dy);
//     graph_layout_destroy(lay);
//
// Layout (Sugiyama style, in layout units = pixels at scale 1): each node
// gets a column (layer) one right of its latest source; leaves and side
// branches (U * x_t) then move right next to the node that uses them, while
// what the main flow feeds (a loss term) stays next to it. Edges that skip
// columns get invisible bend points, one per skipped column. Columns are
// reordered by barycentre sweeps down and up plus swaps of neighbours,
// keeping the order with the fewest edge crossings (input slots count: the
// left operand enters a box above the right one). Heights follow the
// neighbours' heights with the order kept and boxes kept apart. A leaf used
// far away (a weight shared by every time step) is drawn as a short
// labelled stub at the far consumers instead of a long line across the
// picture, and placed at the mean height of its uses.
//
// Groups: the caller may give each node a group (a time step t, -1 = none)
// and a collapsed flag per group. A collapsed group is one box ("step 7",
// "25 nodes") and the edges into and out of it are merged, labelled with
// how many values they carry ("×4"); the stubs of shared leaves into it
// become one ("W00 +17"). Every group gets columns of its own, right of
// the groups that feed it (step 0's loss terms before step 1's first
// gate), so an expanded group's faint frame never overlaps another's; its
// tab sits above the frame (in a sticky strip at the top of the widget
// while that is scrolled away) and collapses it again. Giving the shared
// weights a group of their own ("parameters", see group_names) tidies a
// large graph further: a group of leaves only is laid out as a block of
// columns before the group it feeds.
// Groups should be convex (no path leaves a group and comes back), as the
// steps of an unrolled network are.
//
// Boxes: the name (a constant: its number) at the top left, the operator
// at the top right, the value and gradient at the bottom; numbers between
// 0.1 and 10 with 3 decimals, so a gate's inputs and result read alike
// (-6 + 6.881 = 0.881), others with 4 significant digits (the tooltip
// gives 6). In a lesson (GraphParams.reveal) a number appears only once
// the step has reached it, as in the circuit view; the step's node
// (GraphParams.current) has an accent glow.
//
// Names: text says what the program says. A named value is its name; an
// unnamed one is its formula over its sources' names ("x1 × w1",
// "tanh(n)"), never an internal number.
//
// Level of detail: boxes show name, value and gradient while that text is
// at least ~9 px; then the name or operator over the value and the
// gradient (a collapsed group: its name), or the value alone when that does
// not fit; then only shapes (a fitted long graph is then stretched
// vertically to use the box's height, see GraphView.stretch). No text is
// drawn below 8 px, and the legend names only what is drawn. Anything
// outside the widget's box is culled or clipped, so a zoomed-in graph stays
// inside it.
//
// Shared weights: a value read by several iterations of a loop
// (Value.flags VALUE_SHARED) gets a second frame ("ID:shared:INDEX") in the
// series colour of inputs, and its edges that colour, so that one weight
// reads as the same one at every time step.
//
// Ids (ID = GraphParams.id, default "graph"): "ID:node:INDEX" on each box
// (INDEX = Value.index), "ID:value:INDEX" and "ID:grad:INDEX" on its
// numbers, "ID:current" on the current node's glow, "ID:group:K" on a
// collapsed group's box and an expanded group's tab, "ID:nan" on a NaN/Inf
// marker, "ID:tooltip" on each tooltip line and "ID:tooltip-box" on its
// frame, "ID:legend".
//
// Memory: the layout lives in the GraphLayout the caller owns and is
// recomputed only when the graph's structure, the groups or the collapsed
// flags change (a hash is checked every frame), never on pan or zoom.
// graph_build allocates only from the scene's arena, so a steady frame
// mallocs nothing. Use one GraphLayout per widget on screen: two views of
// one graph with different collapsed flags would lay out every frame.
#ifndef GRADLAB_GRAPH_WIDGET_H
#define GRADLAB_GRAPH_WIDGET_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/value.h"
#include "views/scene.h"
#include "views/theme.h"

// The view transform: a layout point (lx, ly) is drawn at
// (x + ox + lx * scale * unit, y + oy + ly * scale * stretch * unit), where
// x, y, unit come from GraphParams. scale 0 means "fit the graph into the
// box".
//
// A view remembers what it was made for, so that it survives a change of
// text scale (Ctrl +) or of window size: a fitted view (graph_view_fit, not
// zoomed or panned since) is fitted again to the new box and unit; a zoomed
// or panned view keeps the layout point at the box's centre where it was
// and grows with the unit, kept in view. graph_build does this on the fly;
// graph_view_current returns the view it drew, for the caller to keep.
typedef struct GraphView {
    float scale;
    float ox, oy;       // pixels, relative to the widget's top-left corner
    float stretch;      // vertical stretch of a fitted long graph (shapes only); 0 or 1 = none
    bool fitted;        // made by graph_view_fit and not zoomed or panned since
    float unit;         // GraphParams.unit it was made for; 0 = unknown (taken as the current one)
    float w, h;         // GraphParams.w and h it was made for
    float lw, lh;       // the layout's size in layout units when it was made; 0 = unknown
    bool follow;        // made in place of a fitted view too small to read (GraphParams.min_scale):
                        // it follows the current node until zoomed or panned
} GraphView;

typedef struct GraphParams {
    float x, y, w, h;           // the widget's box; nothing is drawn outside it
    float unit;                 // 1 at 1280x720 and scale 1
    const Theme *theme;
    const Graph *graph;
    const Value *out;           // draw out and its ancestors; NULL = every node
    const int *group;           // (graph->n) group of each node, -1 = none; NULL = no groups
    const bool *collapsed;      // (ngroups) which groups are drawn as one box; NULL = none
    int ngroups;                // groups are 0 .. ngroups-1; other numbers count as -1
    const char *group_format;   // printf format of a group's name, given K ("step %d"); NULL = "group %d"
    const char *const *group_names; // (ngroups) names that override the format, each may be NULL; or NULL
    GraphView view;
    bool hover;                 // show the tooltip of the box under the mouse
    float mouse_x, mouse_y;
    bool legend;                // a small "value  gradient" key in the corner
    const char *id;             // prefix of item ids (at most 95 bytes are used); NULL = "graph"
    const Value *current;       // the node a lesson step is at: highlighted (glow, accent border); NULL = none
    float min_scale;            // a fitted view is never smaller (0: no floor): a graph that would
                                // be is shown at min_scale around the current node (else the
                                // output), and follows it from step to step
    bool reveal;                // lesson steps: draw a value only when its Value.mark has
                                // LESSON_SHOWN_VALUE, a gradient only with LESSON_SHOWN_GRAD
                                // (lessons/lesson.h); the others are blank, never 0. false = every number
} GraphParams;

typedef struct GraphLayout GraphLayout;

// Create an empty layout cache. NULL when out of memory. Free with
// graph_layout_destroy.
GraphLayout *graph_layout_create(void);

// Free the layout. NULL is a no-op.
void graph_layout_destroy(GraphLayout *lay);

// Lay out p->graph for p's out, groups and collapsed flags, unless the
// layout already matches them. Returns true when it recomputed, false when
// nothing had changed or memory ran out (then graph_layout_ok is false).
bool graph_layout_update(GraphLayout *lay, const GraphParams *p);

// Whether the last update succeeded.
bool graph_layout_ok(const GraphLayout *lay);

// The laid-out size in layout units (width, height of everything).
void graph_layout_size(const GraphLayout *lay, float *w, float *h);

// The number of boxes (nodes and collapsed groups) in the layout.
int graph_layout_boxes(const GraphLayout *lay);

// Edge crossings between adjacent layers of the current order, and of the
// first (creation) order the sweeps started from. For tests and tuning.
long graph_layout_crossings(const GraphLayout *lay);
long graph_layout_crossings_initial(const GraphLayout *lay);

// Append the widget for p to s, updating lay first when needed. A zero
// view.scale fits the graph into the box.
void graph_build(Scene *s, GraphLayout *lay, const GraphParams *p);

// The view that shows the whole layout centred in p's box with a margin,
// never magnified past 1.5; a long graph small enough to be drawn as shapes
// only is also stretched vertically (up to 4 times) to use the box's
// height. Call after graph_layout_update.
GraphView graph_view_fit(const GraphLayout *lay, const GraphParams *p);

// The view graph_build draws p with: p->view brought up to p's box and unit
// (fitted when its scale is 0; see GraphView). Keep it in place of p->view
// after a build, so zoom and pan start from what is on screen.
GraphView graph_view_current(const GraphLayout *lay, const GraphParams *p);

// Zoom view by factor about the screen point (mx, my), which stays put.
// The scale is kept within [0.02, 8]; a fitted stretch shrinks as the view
// zooms in (the vertical scale holds until it is gone).
void graph_view_zoom(GraphView *view, const GraphParams *p, float factor, float mx, float my);

// Move the drawing by (dx, dy) pixels.
void graph_view_pan(GraphView *view, float dx, float dy);

// How text names node v: its name, a constant's number, or for an unnamed
// gate a short formula over its sources' names ("x1 × w1", "tanh(q)"; at
// most two levels of unnamed gates, "…" below). Compound formulas come in
// parentheses when in_formula is set ("∂f/∂(x1 × w1)"). Returns buf.
char *graph_node_name(const Value *v, bool in_formula, char *buf, size_t n);

// The group whose collapsed box or expanded tab is at (mx, my) in a scene
// built with id prefix id (NULL = "graph"), or -1.
int graph_hit_group(const Scene *s, float mx, float my, const char *id);

// The Value.index of the node box at (mx, my), or -1.
int graph_hit_node(const Scene *s, float mx, float my, const char *id);

#endif
