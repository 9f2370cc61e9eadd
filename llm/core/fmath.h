/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few elementary functions the forward pass and sampler need, because
 * the kernel has no libm.  Include only from FPU objects.  Each works in
 * double and rounds once to float, so results are the correctly rounded
 * float in all but the rarest cases, and identical in kernel and userspace.
 */
#ifndef LLM_FMATH_H
#define LLM_FMATH_H

#include "platform.h"

static inline double llm_bits_to_double(u64 b)
{
	union { u64 u; double d; } v = { .u = b };

	return v.d;
}

static inline u64 llm_double_to_bits(double d)
{
	union { u64 u; double d; } v = { .d = d };

	return v.u;
}

static inline float llm_bits_to_float(u32 b)
{
	union { u32 u; float f; } v = { .u = b };

	return v.f;
}

static inline u32 llm_float_to_bits(float f)
{
	union { u32 u; float f; } v = { .f = f };

	return v.u;
}

/* Nearest integer, halves away from zero; |x| < 2^52. */
static inline double llm_round_d(double x)
{
	s64 i = (s64)(x + (x < 0 ? -0.5 : 0.5));

	return (double)i;
}

/* 2^k for -1074 <= k <= 1023. */
static inline double llm_pow2i(int k)
{
	if (k >= -1022)
		return llm_bits_to_double((u64)(k + 1023) << 52);
	return llm_bits_to_double((u64)1 << (k + 1074));
}

static inline double llm_exp_d(double x)
{
	static const double ln2_hi = 6.93147180369123816490e-01;
	static const double ln2_lo = 1.90821492927058770002e-10;
	/* 1/n!: the Taylor series of e^r to r^13 is exact to 1e-17 here */
	static const double c[14] = {
		1.00000000000000000e+00, 1.00000000000000000e+00,
		5.00000000000000000e-01, 1.66666666666666657e-01,
		4.16666666666666644e-02, 8.33333333333333322e-03,
		1.38888888888888894e-03, 1.98412698412698413e-04,
		2.48015873015873016e-05, 2.75573192239858925e-06,
		2.75573192239858883e-07, 2.50521083854417202e-08,
		2.08767569878681002e-09, 1.60590438368216133e-10,
	};
	double k, r, p;
	int i, ki;

	if (x != x)
		return x;
	if (x > 709.78)
		return llm_bits_to_double(0x7ff0000000000000ull);
	if (x < -745.2)
		return 0.0;
	k = llm_round_d(x * 1.44269504088896338700);
	r = (x - k * ln2_hi) - k * ln2_lo;	/* |r| <= ln2 / 2 */
	p = c[13];
	for (i = 12; i >= 0; i--)		/* Horner */
		p = p * r + c[i];
	ki = (int)k;
	if (ki < -1000)	/* keep 2^k normal: scale in two steps */
		return p * llm_pow2i(ki + 60) * llm_pow2i(-60);
	if (ki > 1000)
		return p * llm_pow2i(ki - 60) * llm_pow2i(60);
	return p * llm_pow2i(ki);
}

static inline float llm_expf(float x)
{
	return (float)llm_exp_d(x);
}

/* Natural log for finite x > 0. */
static inline double llm_log_d(double x)
{
	static const double ln2 = 6.93147180559945286227e-01;
	u64 b = llm_double_to_bits(x);
	int e = (int)((b >> 52) & 0x7ff);
	double m, s, s2, t, sum;
	int i;

	if (!e) {	/* subnormal: normalise first */
		x *= llm_pow2i(60);
		b = llm_double_to_bits(x);
		e = (int)((b >> 52) & 0x7ff) - 60;
	}
	e -= 1023;
	m = llm_bits_to_double((b & 0x000fffffffffffffull) |
			       0x3ff0000000000000ull);	/* [1, 2) */
	if (m > 1.41421356237309504880) {
		m *= 0.5;
		e++;
	}
	/* log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172 */
	s = (m - 1.0) / (m + 1.0);
	s2 = s * s;
	t = s;
	sum = 0.0;
	for (i = 1; i <= 25; i += 2) {
		sum += t / i;
		t *= s2;
	}
	return 2.0 * sum + e * ln2;
}

/* sin and cos of x, |x| < 2^20. */
static inline void llm_sincos_d(double x, double *sn, double *cs)
{
	/* pi/2 in three parts, so k * part is exact for k < 2^20 */
	static const double p1 = 1.57079632673412561417e+00;
	static const double p2 = 6.07710050630396597660e-11;
	static const double p3 = 2.02226624879595063154e-21;
	double k = llm_round_d(x * 6.36619772367581382433e-01);
	double r = ((x - k * p1) - k * p2) - k * p3;
	double r2 = r * r, s = 1.0, c = 1.0;
	int i, q;

	for (i = 19; i >= 3; i -= 2)	/* Taylor, |r| <= pi/4 */
		s = 1.0 - s * r2 / (i * (i - 1));
	s *= r;
	for (i = 20; i >= 2; i -= 2)
		c = 1.0 - c * r2 / (i * (i - 1));
	q = (int)((s64)k & 3);
	switch (q) {
	case 0:
		*sn = s;
		*cs = c;
		break;
	case 1:
		*sn = c;
		*cs = -s;
		break;
	case 2:
		*sn = -s;
		*cs = -c;
		break;
	default:
		*sn = -c;
		*cs = s;
		break;
	}
}

static inline float llm_sqrtf(float x)
{
#ifdef __CHECKER__
	return x;	/* sparse does not know the builtin; never compiled */
#else
	return __builtin_sqrtf(x);	/* one sqrtss, no libm */
#endif
}

#endif /* LLM_FMATH_H */
