/**
 * Prints one plain closing line, "jest: N passed, N failed, N skipped", that CI systems
 * can read regardless of the test runner, preceded by each failed test's name and the
 * head of its error. CI logs are often cut to their last lines; the failures must be there.
 */
const path = require('node:path');

const MESSAGE_LINES = 12;
// eslint-disable-next-line no-control-regex
const stripAnsi = (text) => text.replace(/\u001b\[[0-9;]*m/g, '');

function head(message) {
  return stripAnsi(message)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, MESSAGE_LINES)
    .map((line) => `      ${line.trimEnd()}`)
    .join('\n');
}

function failuresOf(results) {
  const failures = [];
  for (const file of results.testResults) {
    const where = path.relative(process.cwd(), file.testFilePath);
    if (file.testExecError) failures.push({ name: `${where} (suite did not run)`, message: file.testExecError.message ?? String(file.testExecError) });
    for (const test of file.testResults) {
      if (test.status === 'failed') failures.push({ name: `${where} › ${test.fullName} (${test.duration ?? '?'} ms)`, message: test.failureMessages.join('\n') });
    }
  }
  return failures;
}

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failures = failuresOf(results);
    if (failures.length > 0) {
      process.stdout.write(`\njest: failed tests\n`);
      for (const { name, message } of failures) process.stdout.write(`  ✕ ${name}\n${head(message)}\n`);
    }
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\njest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
