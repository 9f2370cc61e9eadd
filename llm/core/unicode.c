// SPDX-License-Identifier: GPL-2.0
/*
 * Unicode classes and UTF-8 for the byte-level BPE tokenizer.  See
 * unicode.h; the tables are llm/core/unicode_tables.h, which the Makefile
 * generates with scripts/gen-unicode.sh.
 */
#include "unicode.h"
#include "unicode_tables.h"

u32 llm_ucd_class(u32 cp)
{
	u32 lo = 0, hi = LLM_UCD_RANGES;

	/* ASCII first: most text is */
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
			return LLM_UCD_LETTER;
		if (cp >= '0' && cp <= '9')
			return LLM_UCD_NUMBER;
		if (cp == ' ' || (cp >= 9 && cp <= 13))
			return LLM_UCD_SPACE;
		return LLM_UCD_OTHER;
	}
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (cp < llm_ucd_ranges[mid].lo)
			hi = mid;
		else if (cp > llm_ucd_ranges[mid].hi)
			lo = mid + 1;
		else
			return llm_ucd_ranges[mid].cls;
	}
	return LLM_UCD_OTHER;
}

u32 llm_utf8_decode(const u8 *s, u32 len, u32 *cp)
{
	u32 n, c, i, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		goto bad;
	}
	if (n > len)
		goto bad;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = 0xfffd;
	return 1;
}

u32 llm_utf8_encode(u32 cp, u8 *out)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | (cp >> 6 & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | (cp >> 12 & 0x3f);
	out[2] = 0x80 | (cp >> 6 & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}
