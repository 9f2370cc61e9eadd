/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An independent test oracle: the llama2.c reference algorithm (run.c's
 * forward pass, encoder and sampler, in plain float C with libm) over a
 * llama2.c checkpoint and tokenizer.  Written separately from the core so
 * that the core's tokens can be checked against it.
 */
#ifndef LLM_TEST_REF_LLAMA2C_H
#define LLM_TEST_REF_LLAMA2C_H

struct ref_model;

struct ref_model *ref_open(const char *checkpoint, const char *tokenizer);
void ref_close(struct ref_model *m);
/* llama2.c's encode(): returns the number of tokens written to @out. */
int ref_encode(struct ref_model *m, const char *text, int bos, int *out,
	       int cap);
/*
 * llama2.c's generate() for @steps positions: the tokens it samples after
 * the prompt go to @out (at most @cap); returns how many.  temp 0 is
 * greedy.  Stops early where run.c does (a sampled BOS).
 */
int ref_generate(struct ref_model *m, const char *prompt, int steps,
		 float temp, float topp, unsigned long long seed, int *out,
		 int cap);
/* The piece llama2.c prints for @tok after @prev (NUL-terminated). */
const char *ref_piece(struct ref_model *m, int prev, int tok);
/* The last logits computed (vocab_size floats) and the vocabulary size. */
const float *ref_logits(struct ref_model *m);
int ref_vocab_size(struct ref_model *m);
/* Run the forward pass for @token at @pos; returns the logits. */
const float *ref_forward(struct ref_model *m, int token, int pos);

#endif /* LLM_TEST_REF_LLAMA2C_H */
