// notice.c: the "too small at this size" line; see notice.h.
#include "views/widgets/notice.h"

#include <math.h>
#include <stdio.h>

void notice_too_small(Scene *s, const Theme *t, float x, float y, float w, float h, float px, const char *id)
{
    float fs = fmaxf(px, NOTICE_MIN_PX);
    float lh = scene_line_height(fs);
    if (!(w > 0) || !(h > 0))
        return;
    if (lh > h) // a little smaller still rather than nothing, but never under the floor
        fs = fmaxf(NOTICE_MIN_PX, h / (lh / fs)), lh = scene_line_height(fs);
    if (lh > h + 1)
        return;
    const char *text = scene_text_width(s, FONT_REGULAR, fs, NOTICE_TOO_SMALL) <= w ? NOTICE_TOO_SMALL
                                                                                    : NOTICE_TOO_SMALL_SHORT;
    char tag[96];
    snprintf(tag, sizeof(tag), "%s:too-small", id ? id : "");
    scene_tag(s, scene_text_fit(s, x + w / 2, y + (h - lh) / 2, FONT_REGULAR, fs, ALIGN_CENTER, t->muted, text, w),
              id ? tag : "too-small");
}
