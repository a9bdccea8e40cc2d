// drive.h: the pictures of lesson 11 (steering through time), drawn from
// published arrays: a strip of camera frames with what happened to each,
// one image of a stack shown large (a frame's feature maps), and steering
// wheels turned to the predicted angles with the true one marked.
#ifndef GRADLAB_DRIVE_H
#define GRADLAB_DRIVE_H

#include "views/scene.h"
#include "views/theme.h"

// Names of the frame kinds a strip labels (0 clean, 1 shadow, 2 noise, 3 dropped).
#define DRIVE_KIND_COUNT 4
extern const char *const drive_kind_names[DRIVE_KIND_COUNT];

typedef struct FrameStripParams {
    float x, y, w, h;
    float unit;
    const Theme *theme;
    const double *pixels;   // (n * ih, iw) the images stacked, 0 black .. 1 white; borrowed
    int n, ih, iw;
    const double *kinds;    // (n) each image's kind, labelled when not 0; or NULL
    const char *labels;     // "w0,w1,...": each image captioned with the word for its kind
                            // (0 included) instead of "t = k" and the kind; or NULL
    int selected;           // framed in the accent colour; -1 for none
    const char *title;      // drawn above, or NULL
    const char *id;         // prefix for item ids ("ID:frame", "ID:selected")
} FrameStripParams;

// The smallest side, in pixels, an image of a strip or a stack is drawn
// at: smaller shows no road. A box that cannot hold that gets a notice
// (notice.h, tagged "ID:too-small") instead of the pictures.
#define FRAME_MIN_PX 16.0f

// Append the images in as many rows as make them largest, each labelled
// "t = k" and with its kind when it is not clean (or with its word of
// p->labels). A short box draws the labels smaller (never under 9 px)
// before it gives up the images for the notice.
void frame_strip_build(Scene *s, const FrameStripParams *p);

typedef struct StackImageParams {
    float x, y, w, h;
    float unit;
    const Theme *theme;
    const double *pixels;   // (ih, iw) one image; NaN cells are gaps (drawn as the panel); borrowed
    int ih, iw;
    const char *title;      // drawn above, or NULL
    const char *id;         // prefix for item ids ("ID:image")
} StackImageParams;

// Append the image as large as fits with square cells, gray from its
// smallest finite value (black) to its largest (white); the notice when it
// would be under FRAME_MIN_PX.
void stack_image_build(Scene *s, const StackImageParams *p);

#define WHEEL_MAX 4

typedef struct WheelParams {
    float x, y, w, h;
    float unit;
    const Theme *theme;
    int n;                          // wheels, 1..WHEEL_MAX
    double angle[WHEEL_MAX];        // each wheel's predicted angle (NaN: not yet)
    const char *label[WHEEL_MAX];   // under each wheel
    Color color[WHEEL_MAX];
    double truth;                   // the true angle, marked on every rim (NaN: none)
    Color truth_color;
    const char *title;              // drawn above, or NULL
    const char *id;                 // prefix for item ids ("ID:wheel", "ID:truth")
} WheelParams;

// Degrees a wheel turns per unit of steering angle (clockwise for positive).
#define WHEEL_DEGREES_PER_UNIT 90.0

// Append one steering wheel per prediction, turned by angle x
// WHEEL_DEGREES_PER_UNIT, with a mark outside the rim where the true angle
// would put the wheel's top, and the numbers under it; the notice when no
// wheel fits.
void wheel_build(Scene *s, const WheelParams *p);

#endif
