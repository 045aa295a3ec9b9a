// Regenerates expected.json: promptfoo's own verdicts on cases.json.
//
//   dir=$(mktemp -d) && (cd "$dir" && npm install --no-save --no-audit --no-fund promptfoo@0.123.1)
//   PROMPTFOO_DIR="$dir" node gen.cjs > expected.json
//
// Only deterministic checks are here: no model, no network.
const fs = require('fs');
const os = require('os');
const path = require('path');

process.env.PROMPTFOO_CONFIG_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'pf-config-'));
process.env.PROMPTFOO_DISABLE_TELEMETRY = '1';
process.env.PROMPTFOO_DISABLE_UPDATE = '1';
const base = process.env.PROMPTFOO_DIR ? path.join(process.env.PROMPTFOO_DIR, 'node_modules', 'promptfoo') : 'promptfoo';
const pf = require(base);
const version = require(path.join(path.dirname(require.resolve(base)), '..', '..', 'package.json')).version;

const cases = JSON.parse(fs.readFileSync(path.join(__dirname, 'cases.json'), 'utf8'));
const tools = JSON.parse(fs.readFileSync(path.join(__dirname, 'tools.json'), 'utf8'));

(async () => {
  const out = [];
  for (const c of cases) {
    const assertion = { type: c.type };
    if (c.value !== undefined) assertion.value = c.value;
    if (c.threshold !== undefined) assertion.threshold = c.threshold;
    const provider = { id: () => 'fake', config: { tools: c.tools ? tools[c.tools] : undefined } };
    let r;
    try {
      r = await pf.assertions.runAssertion({
        assertion,
        test: { vars: {}, assert: [assertion] },
        provider,
        providerResponse: { output: c.output },
      });
      out.push({ name: c.name, pass: r.pass, score: r.score, reason: r.reason });
    } catch (e) {
      out.push({ name: c.name, error: String(e.message || e).split('\n')[0] });
    }
  }
  process.stdout.write(JSON.stringify({ promptfoo: version, results: out }, null, 1) + '\n');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
