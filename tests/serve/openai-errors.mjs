// SPDX-License-Identifier: GPL-2.0
// OpenAI's own node client (the npm package openai) against llmctl serve
// on this machine, where no module answers: its errors must reach the
// client as OpenAI's do (status, code, param, message), the API key as
// the client sends it, streams included.  Prints PASS/FAIL lines.
//   node openai-errors.mjs NODE_MODULES BASE_URL KEY
import { createRequire } from 'node:module';

const [modules, baseURL, key] = process.argv.slice(2);
const require = createRequire(modules + '/');
const OpenAI = require('openai');

let failed = 0;
function check(what, ok, why) {
	if (ok) {
		console.log(`PASS serve-openai: ${what}`);
	} else {
		failed++;
		console.log(`FAIL serve-openai: ${what}: ${why}`);
	}
}

// expect(WHAT, STATUS, CODE, PROMISE): the call fails with an APIError so
async function expect(what, status, code, call) {
	try {
		const r = await call();
		check(what, false, `it succeeded: ${JSON.stringify(r).slice(0, 200)}`);
	} catch (e) {
		const ok = e instanceof OpenAI.APIError && e.status === status &&
			e.code === code && typeof e.message === 'string' &&
			e.error && typeof e.error.type === 'string';
		check(`${what}: ${status} ${code}`, ok,
		      `got ${e.constructor.name} status ${e.status} code ${e.code}: ${e.message}`);
	}
}

const client = new OpenAI({ apiKey: key, baseURL, maxRetries: 0, timeout: 20000 });
const wrong = new OpenAI({ apiKey: key + 'x', baseURL, maxRetries: 0, timeout: 20000 });

await expect('a wrong API key is an AuthenticationError', 401, 'invalid_api_key',
	() => wrong.completions.create({ model: 'm', prompt: 'x' }));
check('... of the class the client has for it', await wrong.models.list()
	.then(() => false, (e) => e instanceof OpenAI.AuthenticationError), 'another class');
await expect('completions with no module', 503, 'module_not_loaded',
	() => client.completions.create({ model: 'm', prompt: 'Once', max_tokens: 4 }));
await expect('chat completions with no module', 503, 'module_not_loaded',
	() => client.chat.completions.create({ model: 'm',
		messages: [{ role: 'user', content: 'Hi' }] }));
await expect('a stream with no module fails before its first event', 503, 'module_not_loaded',
	async () => {
		const s = await client.completions.create({ model: 'm', prompt: 'x', stream: true });
		for await (const ev of s)
			;
		return 'streamed';
	});
await expect('a body over --max-body', 413, 'request_too_large',
	() => client.completions.create({ model: 'm', prompt: 'x'.repeat(100000) }));
const e = await client.completions.create({ model: 'm', prompt: 'x' }).catch((x) => x);
check('the error message is the server\'s sentence', /llm kernel module is not loaded/.test(e.message),
      e.message);
process.exit(failed ? 1 : 0);
