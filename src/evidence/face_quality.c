/*
 * face_quality.c - how good a face is to recognise someone by, from what the detector said.
 *
 * The score is computed when a face is stored (no pixels are at hand then, so no sharpness
 * term: the embedding of a blurred face is what the clustering's distance judges) from three
 * signals, each in 0..1, multiplied so that any one of them can veto a face:
 *   size: the smaller side of the box in pixels of the displayed frame, 0 at QUALITY_MIN_PX
 *         and below, rising linearly to 1 at QUALITY_FULL_PX (faceres reads a 224 px crop of
 *         1.5 times the box: a 24 px face is upsampled six times and loses the identity);
 *   pose: 1 - |o| / QUALITY_MAX_YAW, where o is the nose tip's offset from the middle of the
 *         eyes along the line through the eyes, as a fraction of the eye distance (BlazeFace
 *         keypoints 0, 1 and 2): 0 for a frontal face, about 0.5 when the nose is in front of
 *         an eye (a near profile);
 *   detector: the detector's score (the face item's confidence).
 * docs/people.md ("How people are found") gives the values measured on the sample photos.
 */
#include <math.h>

#include "aitag/evidence.h"

#define QUALITY_MIN_PX 16.0f
#define QUALITY_FULL_PX 64.0f
#define QUALITY_MAX_YAW 0.6f

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

float aitag_face_yaw(const struct aitag_evidence *face, int frame_w, int frame_h)
{
    const float *k = face->keypoints;
    int d = face->kp_dims;
    float ex, ey, mx, my, nx, ny, len2;

    if (!k || face->n_keypoints < 3 || d < 2 || frame_w <= 0 || frame_h <= 0)
        return 0.0f;
    ex = (k[d] - k[0]) * (float)frame_w, ey = (k[d + 1] - k[1]) * (float)frame_h;
    mx = (k[d] + k[0]) * 0.5f * (float)frame_w, my = (k[d + 1] + k[1]) * 0.5f * (float)frame_h;
    nx = k[2 * d] * (float)frame_w - mx, ny = k[2 * d + 1] * (float)frame_h - my;
    len2 = ex * ex + ey * ey;
    if (len2 < 1e-6f)
        return 1.0f; /* eyes on one point: nothing frontal about it */
    return fabsf((nx * ex + ny * ey) / len2);
}

float aitag_face_quality(const struct aitag_evidence *face, int frame_w, int frame_h)
{
    float side, size_q, pose_q;

    if (!face->has_box || frame_w <= 0 || frame_h <= 0)
        return 0.0f;
    side = fminf(face->box.w * (float)frame_w, face->box.h * (float)frame_h);
    size_q = clamp01((side - QUALITY_MIN_PX) / (QUALITY_FULL_PX - QUALITY_MIN_PX));
    pose_q = clamp01(1.0f - aitag_face_yaw(face, frame_w, frame_h) / QUALITY_MAX_YAW);
    return size_q * pose_q * clamp01(face->confidence);
}
