// SPDX-License-Identifier: GPL-2.0
// node tests/hf/margins.js RUN.json [OTHER.json]
//
// RUN.json: llama-server's /completion reply (n_probs >= 2,
// return_tokens) for a greedy run.  Prints the greedy margins: over the
// steps, the minimum and mean of top-1 minus top-2 log-probability (the
// logit gap).  With OTHER.json (the same prompt on another file: the
// model quantized, or its layers zeroed) also how many leading tokens the
// two runs share and, over those steps, the largest difference of a
// log-probability both list.  One line of "key=value"s; exit status 0.
"use strict";
const fs = require("fs");
const load = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const run = load(process.argv[2]);
const probs = run.completion_probabilities || [];
const gaps = probs.map((p) => p.top_logprobs[0].logprob - p.top_logprobs[1].logprob);
const out = [`steps=${run.tokens.length}`];
if (gaps.length) {
	out.push(`gap_min=${Math.min(...gaps).toFixed(2)}`);
	out.push(`gap_mean=${(gaps.reduce((a, b) => a + b, 0) / gaps.length).toFixed(2)}`);
}
if (process.argv[3]) {
	const other = load(process.argv[3]);
	const op = other.completion_probabilities || [];
	let same = 0, dmax = 0;
	while (same < run.tokens.length && run.tokens[same] === other.tokens[same])
		same++;
	for (let i = 0; i < Math.min(same, probs.length, op.length); i++) {
		const theirs = new Map(op[i].top_logprobs.map((t) => [t.id, t.logprob]));
		for (const t of probs[i].top_logprobs)
			if (theirs.has(t.id))
				dmax = Math.max(dmax, Math.abs(t.logprob - theirs.get(t.id)));
	}
	out.push(`same=${same}`, `dlogprob_max=${dmax.toFixed(3)}`);
}
console.log(out.join(" "));
