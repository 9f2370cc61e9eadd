// SPDX-License-Identifier: GPL-2.0
// node tests/hf/compare-logprobs.js OURS.txt LLAMA.json TOL
//
// llmctl generate --logprobs K (a line per generated token: its id, a
// tab, id:logprob of the step's K most likely tokens) against
// llama-server's /completion with n_probs (completion_probabilities).
// Greedy on both sides: step by step, while the chosen tokens agree, each
// of llama.cpp's top tokens must have our log-probability within TOL.  If
// the tokens part, it must be at a near-tie (llama.cpp's top two within
// 2 TOL of each other), and the comparison ends there.  Prints one line:
// "ok: ..." or "bad: ..."; exit status 0 or 1.
"use strict";
const fs = require("fs");
const [oursPath, llamaPath, tolArg] = process.argv.slice(2);
const tol = Number(tolArg);
const ours = fs.readFileSync(oursPath, "utf8").trim().split("\n").map((l) => {
	const [tok, rest] = l.split("\t");
	const top = new Map();
	for (const p of (rest || "").split(" ")) {
		const [id, lp] = p.split(":");
		top.set(Number(id), Number(lp));
	}
	return { tok: Number(tok), top };
});
const reply = JSON.parse(fs.readFileSync(llamaPath, "utf8"));
// the generated ids; completion_probabilities may leave out steps whose
// token ends inside a UTF-8 character, so its entries are matched to the
// steps by walking both in order
const tokens = reply.tokens;
const probs = reply.completion_probabilities;
let worst = 0, gap = Infinity, i, j = 0;
for (i = 0; i < Math.min(ours.length, tokens.length); i++) {
	const o = ours[i];
	let l = null;
	while (j < probs.length && probs[j].id !== tokens[i] &&
	       probs.slice(j).every((p) => p.id !== tokens[i]))
		break;
	if (j < probs.length && probs[j].id === tokens[i])
		l = probs[j++];
	if (o.tok !== tokens[i]) {
		const t = l ? l.top_logprobs : [];
		const margin = t.length > 1 ? t[0].logprob - t[1].logprob : 0;
		if (!l || margin <= 2 * tol) {
			console.log(`ok: ${i} steps the same, max |d logprob| ${worst.toExponential(2)} (tolerance ${tol}), then a near-tie (margin ${margin.toExponential(2)}): llm ${o.tok}, llama.cpp ${tokens[i]}`);
			process.exit(0);
		}
		console.log(`bad: step ${i}: llm chose ${o.tok}, llama.cpp ${tokens[i]} with a margin of ${margin.toFixed(4)}`);
		process.exit(1);
	}
	if (!l)
		continue;
	if (l.top_logprobs.length > 1)
		gap = Math.min(gap, l.top_logprobs[0].logprob - l.top_logprobs[1].logprob);
	for (const t of l.top_logprobs) {
		if (!o.top.has(t.id)) {
			if (t.logprob > Math.min(...o.top.values()) + tol) {
				console.log(`bad: step ${i}: llama.cpp's token ${t.id} (logprob ${t.logprob.toFixed(4)}) is not among ours`);
				process.exit(1);
			}
			continue;
		}
		const d = Math.abs(o.top.get(t.id) - t.logprob);
		worst = Math.max(worst, d);
		if (d > tol) {
			console.log(`bad: step ${i}: token ${t.id}: logprob ${o.top.get(t.id).toFixed(5)} vs llama.cpp ${t.logprob.toFixed(5)} (tolerance ${tol})`);
			process.exit(1);
		}
	}
}
// llama.cpp lists the end-of-generation token it stopped at; llmctl stops
// before printing it
const stoppedAtEos = reply.stop_type === "eos" &&
	tokens.length === ours.length + 1;
if (ours.length !== tokens.length && !stoppedAtEos) {
	console.log(`bad: ${ours.length} tokens from llm, ${tokens.length} from llama.cpp`);
	process.exit(1);
}
console.log(`ok: all ${i} steps the same${stoppedAtEos ? " (both stopped at EOS)" : ""}, max |d logprob| ${worst.toExponential(2)} (tolerance ${tol}), smallest top-1 lead ${gap.toFixed(2)}`);
