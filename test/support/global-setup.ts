/**
 * T6 of ../shared/docs/reliability.md §6: every log line a test gateway writes, over the whole suite, is collected in
 * one folder; after the last test this teardown fails the run if any holds a credential used in tests.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    logDir: string;
  }
}

/** Every credential the tests send, and any bearer value that escaped the scrub. */
export const FORBIDDEN_IN_LOGS = [
  /demo-token/,
  /tenant-b-token/,
  /sk-live-[\w-]+/,
  /tok-SECRET/,
  /frontend-key-\w+/,
  /router-shared-secret/,
  /bearer\s+(?!\[redacted\])\S+/i,
];

export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'calls-gateway-logs-'));
  project.provide('logDir', dir);
  return () => {
    const leaks: string[] = [];
    let lines = 0;
    for (const file of readdirSync(dir)) {
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
        if (!line) continue;
        lines++;
        const hit = FORBIDDEN_IN_LOGS.find((pattern) => pattern.test(line));
        if (hit) leaks.push(`${file}: ${hit} in ${line.slice(0, 200)}`);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    // vitest reports an error thrown here but still exits 0, so the exit code is set as well.
    if (leaks.length > 0) process.exitCode = 1;
    if (leaks.length > 0)
      throw new Error(`credentials found in ${leaks.length} of ${lines} log lines:\n${leaks.slice(0, 10).join('\n')}`);
    console.log(`log capture: ${lines} log lines from test gateways, no credential in any`);
  };
}
