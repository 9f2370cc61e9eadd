// SPDX-License-Identifier: GPL-2.0
/*
 * llama2.c's algorithm, re-expressed for tests.  See ref_llama2c.h.
 * Straightforward on purpose: libm, float accumulation in index order,
 * RoPE angles computed per position as run.c does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_llama2c.h"

struct cfg {
	int dim, hidden, layers, heads, kv_heads, vocab, seq;
};

struct ref_model {
	struct cfg c;
	float *data;
	int shared;
	/* weights (views into data) */
	float *emb, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3,
	      *rms_final, *wcls;
	/* state */
	float *x, *xb, *xb2, *hb, *hb2, *q, *att, *logits, *kc, *vc;
	/* tokenizer */
	char **vocab;
	float *scores;
	int max_tok_len;
	int *sorted;
	char byte_pieces[512];
	char piece_buf[8];
};

static struct ref_model *g_sort_model;

static int cmp_vocab(const void *a, const void *b)
{
	return strcmp(g_sort_model->vocab[*(const int *)a],
		      g_sort_model->vocab[*(const int *)b]);
}

static int load_tokenizer(struct ref_model *m, const char *path)
{
	FILE *f = fopen(path, "rb");
	int i, len;

	if (!f)
		return -1;
	m->vocab = calloc(m->c.vocab, sizeof(char *));
	m->scores = calloc(m->c.vocab, sizeof(float));
	if (fread(&m->max_tok_len, 4, 1, f) != 1)
		goto bad;
	for (i = 0; i < m->c.vocab; i++) {
		if (fread(&m->scores[i], 4, 1, f) != 1 ||
		    fread(&len, 4, 1, f) != 1 || len < 0 || len > 1 << 16)
			goto bad;
		m->vocab[i] = malloc(len + 1);
		if (fread(m->vocab[i], 1, len, f) != (size_t)len)
			goto bad;
		m->vocab[i][len] = 0;
	}
	fclose(f);
	for (i = 0; i < 256; i++) {
		m->byte_pieces[i * 2] = (char)i;
		m->byte_pieces[i * 2 + 1] = 0;
	}
	m->sorted = malloc(m->c.vocab * sizeof(int));
	for (i = 0; i < m->c.vocab; i++)
		m->sorted[i] = i;
	g_sort_model = m;
	qsort(m->sorted, m->c.vocab, sizeof(int), cmp_vocab);
	return 0;
bad:
	fclose(f);
	return -1;
}

struct ref_model *ref_open(const char *checkpoint, const char *tokenizer)
{
	struct ref_model *m = calloc(1, sizeof(*m));
	FILE *f = fopen(checkpoint, "rb");
	long size;
	float *p;
	int hs, kvd, L;

	if (!f || !m)
		goto fail;
	if (fread(&m->c, sizeof(m->c), 1, f) != 1)
		goto fail;
	m->shared = m->c.vocab > 0;
	m->c.vocab = abs(m->c.vocab);
	fseek(f, 0, SEEK_END);
	size = ftell(f) - (long)sizeof(m->c);
	fseek(f, sizeof(m->c), SEEK_SET);
	m->data = malloc(size);
	if (fread(m->data, 1, size, f) != (size_t)size)
		goto fail;
	fclose(f);
	f = NULL;

	hs = m->c.dim / m->c.heads;
	kvd = m->c.kv_heads * hs;
	L = m->c.layers;
	p = m->data;
	m->emb = p;		p += m->c.vocab * m->c.dim;
	m->rms_att = p;		p += L * m->c.dim;
	m->wq = p;		p += L * m->c.dim * m->c.dim;
	m->wk = p;		p += L * m->c.dim * kvd;
	m->wv = p;		p += L * m->c.dim * kvd;
	m->wo = p;		p += L * m->c.dim * m->c.dim;
	m->rms_ffn = p;		p += L * m->c.dim;
	m->w1 = p;		p += L * m->c.dim * m->c.hidden;
	m->w2 = p;		p += L * m->c.hidden * m->c.dim;
	m->w3 = p;		p += L * m->c.dim * m->c.hidden;
	m->rms_final = p;	p += m->c.dim;
	p += m->c.seq * hs / 2;	/* the old RoPE tables, unused */
	p += m->c.seq * hs / 2;
	m->wcls = m->shared ? m->emb : p;

	m->x = calloc(m->c.dim, 4);
	m->xb = calloc(m->c.dim, 4);
	m->xb2 = calloc(m->c.dim, 4);
	m->q = calloc(m->c.dim, 4);
	m->hb = calloc(m->c.hidden, 4);
	m->hb2 = calloc(m->c.hidden, 4);
	m->att = calloc((size_t)m->c.heads * m->c.seq, 4);
	m->logits = calloc(m->c.vocab, 4);
	m->kc = calloc((size_t)L * m->c.seq * kvd, 4);
	m->vc = calloc((size_t)L * m->c.seq * kvd, 4);
	if (load_tokenizer(m, tokenizer))
		goto fail;
	return m;
fail:
	if (f)
		fclose(f);
	ref_close(m);
	return NULL;
}

void ref_close(struct ref_model *m)
{
	int i;

	if (!m)
		return;
	if (m->vocab)
		for (i = 0; i < m->c.vocab; i++)
			free(m->vocab[i]);
	free(m->vocab);
	free(m->scores);
	free(m->sorted);
	free(m->data);
	free(m->x);
	free(m->xb);
	free(m->xb2);
	free(m->q);
	free(m->hb);
	free(m->hb2);
	free(m->att);
	free(m->logits);
	free(m->kc);
	free(m->vc);
	free(m);
}

static void rmsnorm(float *o, const float *x, const float *w, int n)
{
	float ss = 0.0f;
	int j;

	for (j = 0; j < n; j++)
		ss += x[j] * x[j];
	ss /= n;
	ss += 1e-5f;
	ss = 1.0f / sqrtf(ss);
	for (j = 0; j < n; j++)
		o[j] = w[j] * (ss * x[j]);
}

static void softmax(float *x, int n)
{
	float maxv = x[0], sum = 0.0f;
	int i;

	for (i = 1; i < n; i++)
		if (x[i] > maxv)
			maxv = x[i];
	for (i = 0; i < n; i++) {
		x[i] = expf(x[i] - maxv);
		sum += x[i];
	}
	for (i = 0; i < n; i++)
		x[i] /= sum;
}

static void matmul(float *out, const float *x, const float *w, int n, int d)
{
	int i, j;

	for (i = 0; i < d; i++) {
		float v = 0.0f;

		for (j = 0; j < n; j++)
			v += w[(size_t)i * n + j] * x[j];
		out[i] = v;
	}
}

const float *ref_forward(struct ref_model *m, int token, int pos)
{
	const struct cfg *c = &m->c;
	int dim = c->dim, hs = dim / c->heads, kvd = c->kv_heads * hs;
	int kvmul = c->heads / c->kv_heads, l, i, h, t;

	memcpy(m->x, m->emb + (size_t)token * dim, dim * sizeof(float));
	for (l = 0; l < c->layers; l++) {
		size_t loff = (size_t)l * c->seq * kvd;
		float *k = m->kc + loff + (size_t)pos * kvd;
		float *v = m->vc + loff + (size_t)pos * kvd;

		rmsnorm(m->xb, m->x, m->rms_att + l * dim, dim);
		matmul(m->q, m->xb, m->wq + (size_t)l * dim * dim, dim, dim);
		matmul(k, m->xb, m->wk + (size_t)l * dim * kvd, dim, kvd);
		matmul(v, m->xb, m->wv + (size_t)l * dim * kvd, dim, kvd);
		for (i = 0; i < dim; i += 2) {
			int hd = i % hs;
			float freq = 1.0f / powf(10000.0f, hd / (float)hs);
			float val = pos * freq, fcr = cosf(val), fci = sinf(val);
			int rot = i < kvd ? 2 : 1, r;

			for (r = 0; r < rot; r++) {
				float *vec = r == 0 ? m->q : k;
				float v0 = vec[i], v1 = vec[i + 1];

				vec[i] = v0 * fcr - v1 * fci;
				vec[i + 1] = v0 * fci + v1 * fcr;
			}
		}
		for (h = 0; h < c->heads; h++) {
			float *q = m->q + h * hs, *att = m->att + h * c->seq;
			float *xb = m->xb + h * hs;

			for (t = 0; t <= pos; t++) {
				float *kk = m->kc + loff + (size_t)t * kvd +
					    (h / kvmul) * hs, s = 0.0f;

				for (i = 0; i < hs; i++)
					s += q[i] * kk[i];
				att[t] = s / sqrtf(hs);
			}
			softmax(att, pos + 1);
			memset(xb, 0, hs * sizeof(float));
			for (t = 0; t <= pos; t++) {
				float *vv = m->vc + loff + (size_t)t * kvd +
					    (h / kvmul) * hs, a = att[t];

				for (i = 0; i < hs; i++)
					xb[i] += a * vv[i];
			}
		}
		matmul(m->xb2, m->xb, m->wo + (size_t)l * dim * dim, dim, dim);
		for (i = 0; i < dim; i++)
			m->x[i] += m->xb2[i];
		rmsnorm(m->xb, m->x, m->rms_ffn + l * dim, dim);
		matmul(m->hb, m->xb, m->w1 + (size_t)l * dim * c->hidden, dim,
		       c->hidden);
		matmul(m->hb2, m->xb, m->w3 + (size_t)l * dim * c->hidden, dim,
		       c->hidden);
		for (i = 0; i < c->hidden; i++) {
			float val = m->hb[i];

			val *= 1.0f / (1.0f + expf(-val));
			val *= m->hb2[i];
			m->hb[i] = val;
		}
		matmul(m->xb, m->hb, m->w2 + (size_t)l * dim * c->hidden,
		       c->hidden, dim);
		for (i = 0; i < dim; i++)
			m->x[i] += m->xb[i];
	}
	rmsnorm(m->x, m->x, m->rms_final, dim);
	matmul(m->logits, m->x, m->wcls, dim, c->vocab);
	return m->logits;
}

static int lookup(struct ref_model *m, const char *s)
{
	int lo = 0, hi = m->c.vocab - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		int r = strcmp(s, m->vocab[m->sorted[mid]]);

		if (!r)
			return m->sorted[mid];
		if (r < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

int ref_encode(struct ref_model *m, const char *text, int bos, int *out,
	       int cap)
{
	char *buf = malloc(m->max_tok_len * 2 + 3);
	const char *c;
	int n = 0, len = 0, i;

	if (bos)
		out[n++] = 1;
	if (text[0])
		out[n++] = lookup(m, " ");
	for (c = text; *c; c++) {
		if ((*c & 0xC0) != 0x80)
			len = 0;
		buf[len++] = *c;
		buf[len] = 0;
		if ((c[1] & 0xC0) == 0x80 && len < 4)
			continue;
		i = lookup(m, buf);
		if (i != -1) {
			out[n++] = i;
		} else {
			for (i = 0; i < len; i++)
				out[n++] = (unsigned char)buf[i] + 3;
		}
		len = 0;
	}
	for (;;) {
		float best = -1e10f;
		int best_id = -1, best_i = -1;

		for (i = 0; i < n - 1; i++) {
			int id;

			snprintf(buf, m->max_tok_len * 2 + 3, "%s%s",
				 m->vocab[out[i]], m->vocab[out[i + 1]]);
			id = lookup(m, buf);
			if (id != -1 && m->scores[id] > best) {
				best = m->scores[id];
				best_id = id;
				best_i = i;
			}
		}
		if (best_i == -1)
			break;
		out[best_i] = best_id;
		for (i = best_i + 1; i < n - 1; i++)
			out[i] = out[i + 1];
		n--;
	}
	free(buf);
	(void)cap;
	return n;
}

static unsigned int rng_u32(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 0x2545F4914F6CDD1Dull) >> 32;
}

static float rng_f32(unsigned long long *s)
{
	return (rng_u32(s) >> 8) / 16777216.0f;
}

struct pi {
	float p;
	int i;
};

static int cmp_pi(const void *a, const void *b)
{
	const struct pi *x = a, *y = b;

	return x->p > y->p ? -1 : x->p < y->p ? 1 : 0;
}

static int sample(struct ref_model *m, float temp, float topp,
		  unsigned long long *rng)
{
	int n = m->c.vocab, i, best = 0;
	float *p = m->logits, coin;

	if (temp == 0.0f) {
		for (i = 1; i < n; i++)
			if (p[i] > p[best])
				best = i;
		return best;
	}
	for (i = 0; i < n; i++)
		p[i] /= temp;
	softmax(p, n);
	coin = rng_f32(rng);
	if (topp <= 0 || topp >= 1) {
		float cdf = 0.0f;

		for (i = 0; i < n; i++) {
			cdf += p[i];
			if (coin < cdf)
				return i;
		}
		return n - 1;
	} else {
		struct pi *c = malloc(n * sizeof(*c));
		float cutoff = (1.0f - topp) / (n - 1), cum = 0.0f, r,
		      cdf = 0.0f;
		int k = 0, last, res;

		for (i = 0; i < n; i++)
			if (p[i] >= cutoff) {
				c[k].p = p[i];
				c[k].i = i;
				k++;
			}
		qsort(c, k, sizeof(*c), cmp_pi);
		last = k - 1;
		for (i = 0; i < k; i++) {
			cum += c[i].p;
			if (cum > topp) {
				last = i;
				break;
			}
		}
		r = coin * cum;
		res = c[last].i;
		for (i = 0; i <= last; i++) {
			cdf += c[i].p;
			if (r < cdf) {
				res = c[i].i;
				break;
			}
		}
		free(c);
		return res;
	}
}

int ref_generate(struct ref_model *m, const char *prompt, int steps,
		 float temp, float topp, unsigned long long seed, int *out,
		 int cap)
{
	int *pt = malloc((strlen(prompt) + 3) * sizeof(int));
	int np = ref_encode(m, prompt, 1, pt, 0), pos = 0, tok = pt[0], n = 0;
	unsigned long long rng = seed;

	while (pos < steps) {
		int next;

		ref_forward(m, tok, pos);
		if (pos < np - 1) {
			next = pt[pos + 1];
		} else {
			next = sample(m, temp, topp, &rng);
			if (next == 1)
				break;
			if (n < cap)
				out[n++] = next;
		}
		pos++;
		tok = next;
	}
	free(pt);
	return n;
}

const char *ref_piece(struct ref_model *m, int prev, int tok)
{
	const char *piece = m->vocab[tok];
	unsigned char b;

	if (prev == 1 && piece[0] == ' ')
		piece++;
	if (sscanf(piece, "<0x%02hhX>", &b) == 1)
		piece = m->byte_pieces + b * 2;
	return piece;
}

const float *ref_logits(struct ref_model *m)
{
	return m->logits;
}

int ref_vocab_size(struct ref_model *m)
{
	return m->c.vocab;
}
