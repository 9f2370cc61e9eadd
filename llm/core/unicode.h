/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the byte-level BPE pre-tokenizers ask of Unicode: UTF-8 decoding
 * and three classes of code points, from tables generated at build time
 * from Debian's unicode-data (scripts/gen-unicode.sh).  Integer only.
 */
#ifndef LLM_UNICODE_H
#define LLM_UNICODE_H

#include "platform.h"

enum llm_ucd_class {
	LLM_UCD_OTHER = 0,
	LLM_UCD_LETTER = 1,	/* general category L* */
	LLM_UCD_NUMBER = 2,	/* N* */
	LLM_UCD_SPACE = 3,	/* the White_Space property */
};

struct llm_ucd_range {
	u32 lo, hi;
	u8 cls;
};

u32 llm_ucd_class(u32 cp);

/*
 * The code point at @s (@len > 0 bytes left) into *@cp; returns its
 * length.  A byte that does not start a valid, shortest-form sequence
 * (or a surrogate, or past U+10FFFF) is one code point of its own, 0xFFFD.
 */
u32 llm_utf8_decode(const u8 *s, u32 len, u32 *cp);

/* @cp as UTF-8 into @out (4 bytes of room); returns its length. */
u32 llm_utf8_encode(u32 cp, u8 *out);

#endif /* LLM_UNICODE_H */
