// SPDX-License-Identifier: GPL-2.0
// OpenAI's node client asking llmctl serve in a QEMU guest (forwarded to
// BASE_URL) for completions of the kernel's stories260K: plain and
// streamed alike, usage, stop strings, seeds, concurrent clients, a
// stream given up mid-way.  Prints PASS/FAIL lines.
//   node openai-guest.mjs NODE_MODULES BASE_URL KEY
import { createRequire } from 'node:module';

const [modules, baseURL, key] = process.argv.slice(2);
const require = createRequire(modules + '/');
const OpenAI = require('openai');

let failed = 0;
function check(what, ok, why) {
	console.log(ok ? `PASS serve-openai: guest: ${what}` :
		`FAIL serve-openai: guest: ${what}: ${why}`);
	if (!ok)
		failed++;
}
const eq = (what, want, got) =>
	check(what, JSON.stringify(want) === JSON.stringify(got),
	      `expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);

const client = new OpenAI({ apiKey: key, baseURL, maxRetries: 0, timeout: 120000 });

try {
	const models = await client.models.list();
	eq('models.list names the kernel\'s model', ['llama'], models.data.map((m) => m.id));

	const req = { model: 'llama', prompt: 'Once upon a time', max_tokens: 24, temperature: 0 };
	const c = await client.completions.create(req);
	check('completions.create: text', /^, there was a little girl named Lily/.test(c.choices[0].text),
	      c.choices[0].text);
	eq('... usage', { prompt_tokens: 5, completion_tokens: 24, total_tokens: 29 }, c.usage);
	eq('... finish_reason', 'length', c.choices[0].finish_reason);

	const s = await client.completions.create({ ...req, stream: true });
	let text = '', events = 0, usage = null, finish = null;
	for await (const ev of s) {
		events++;
		text += ev.choices[0].text;
		if (ev.choices[0].finish_reason)
			finish = ev.choices[0].finish_reason;
		if (ev.usage)
			usage = ev.usage;
	}
	eq('a stream: the same text', c.choices[0].text, text);
	eq('... an event per token and the last', 25, events);
	eq('... usage and finish_reason in the last', [c.usage, 'length'], [usage, finish]);

	const st = await client.completions.create({ ...req, max_tokens: 60, stop: ['Lily'] });
	eq('a stop string', [c.choices[0].text.split('Lily')[0], 'stop'],
	   [st.choices[0].text, st.choices[0].finish_reason]);

	const seeded = { model: 'llama', prompt: 'Tom had', max_tokens: 30, temperature: 1, seed: 42 };
	const a = await client.completions.create(seeded);
	const b = await client.completions.create(seeded);
	eq('the same seed twice: the same text', a.choices[0].text, b.choices[0].text);

	const prompts = ['Lily', 'Tom', 'The cat', 'A dog'];
	const alone = [];
	for (const p of prompts)
		alone.push((await client.completions.create({ ...seeded, prompt: p })).choices[0].text);
	const together = await Promise.all(prompts.map((p) =>
		client.completions.create({ ...seeded, prompt: p }).then((r) => r.choices[0].text)));
	eq('4 clients at once get what each gets alone', alone, together);

	// a stream given up after 2 events: the server closes its session
	const ac = new AbortController();
	const g = await client.completions.create({ ...req, max_tokens: 500, stream: true },
						  { signal: ac.signal });
	let n = 0;
	try {
		for await (const ev of g) {
			if (++n === 2)
				ac.abort();
		}
	} catch (e) {
		/* the abort */
	}
	check('a stream aborted after 2 events ends', n === 2, `${n} events`);

	const chat = await client.chat.completions.create({ model: 'llama',
		messages: [{ role: 'user', content: 'Hi' }] }).catch((e) => e);
	eq('chat on a model with no template: BadRequestError no_chat_template',
	   [true, 400, 'no_chat_template'],
	   [chat instanceof OpenAI.BadRequestError, chat.status, chat.code]);
} catch (e) {
	check('the client\'s calls', false, `${e.constructor.name}: ${e.message}`);
}
process.exit(failed ? 1 : 0);
