// palette.c: piecewise-linear colour maps through fixed control points.
// The sequential points are samples of matplotlib's viridis (public domain,
// CC0); the diverging points follow ColorBrewer's RdBu.
#include "views/widgets/palette.h"

static Color lerp_table(const Color *table, int n, float t)
{
    if (!(t > 0)) // also catches NaN
        return table[0];
    if (t >= 1)
        return table[n - 1];
    float pos = t * (float)(n - 1);
    int i = (int)pos;
    return color_mix(table[i], table[i + 1], pos - (float)i);
}

Color palette_viridis(float t)
{
    static const Color table[] = {
        {0x44, 0x01, 0x54, 255}, {0x48, 0x28, 0x78, 255}, {0x3e, 0x4a, 0x89, 255},
        {0x31, 0x68, 0x8e, 255}, {0x26, 0x82, 0x8e, 255}, {0x1f, 0x9e, 0x89, 255},
        {0x35, 0xb7, 0x79, 255}, {0x6e, 0xce, 0x58, 255}, {0xb5, 0xde, 0x2b, 255},
        {0xfd, 0xe7, 0x25, 255},
    };
    return lerp_table(table, (int)(sizeof(table) / sizeof(table[0])), t);
}

Color palette_diverging(float t)
{
    static const Color table[] = {
        {0x05, 0x30, 0x61, 255}, {0x21, 0x66, 0xac, 255}, {0x43, 0x93, 0xc3, 255},
        {0x92, 0xc5, 0xde, 255}, {0xf7, 0xf7, 0xf7, 255}, {0xf4, 0xa5, 0x82, 255},
        {0xd6, 0x60, 0x4d, 255}, {0xb2, 0x18, 0x2b, 255}, {0x67, 0x00, 0x1f, 255},
    };
    return lerp_table(table, (int)(sizeof(table) / sizeof(table[0])), (t + 1) / 2);
}
