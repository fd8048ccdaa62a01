/**
 * graphql-schema-linter, an outside suite (issue 11, "Proof"): every rule it has, the Relay ones
 * (connection types, connection arguments, PageInfo) and the description ones included, finds nothing in
 * the committed public contract, schema.graphql. Its CLI runs as users run it; a broken schema proves that
 * the rules are really applied.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LINTER = fileURLToPath(new URL('../node_modules/.bin/graphql-schema-linter', import.meta.url));
const RELAY_RULES = ['relay-connection-types-spec', 'relay-connection-arguments-spec', 'relay-page-info-spec'];
/** Every rule of graphql-schema-linter 3.0.1, named so that a later version's new rules are a decision. */
const RULES = [
  ...RELAY_RULES,
  'types-have-descriptions',
  'fields-have-descriptions',
  'arguments-have-descriptions',
  'enum-values-have-descriptions',
  'input-object-values-have-descriptions',
  'descriptions-are-capitalized',
  'deprecations-have-a-reason',
  'defined-types-are-used',
  'enum-values-all-caps',
  'enum-values-sorted-alphabetically',
  'fields-are-camel-cased',
  'input-object-fields-sorted-alphabetically',
  'input-object-values-are-camel-cased',
  'interface-fields-sorted-alphabetically',
  'type-fields-sorted-alphabetically',
  'types-are-capitalized',
];

interface Violation {
  message: string;
  rule: string;
}

/** Runs the linter's CLI with RULES over `files`, or over `stdin`; its JSON report. */
function lint(files: string[], stdin?: string): { status: number | null; errors: Violation[] } {
  const run = spawnSync(LINTER, ['--format', 'json', '--rules', RULES.join(','), ...(stdin ? ['--stdin'] : files)], {
    cwd: ROOT,
    input: stdin,
    encoding: 'utf8',
  });
  return { status: run.status, errors: (JSON.parse(run.stdout) as { errors: Violation[] }).errors };
}

describe('graphql-schema-linter', () => {
  it('finds no violation of any rule in schema.graphql', () => {
    const { status, errors } = lint(['schema.graphql']);
    expect(errors.map((e) => `${e.rule}: ${e.message}`)).toEqual([]);
    expect(status).toBe(0);
  });

  it('does apply the Relay rules: a schema that breaks each one is reported', () => {
    const broken = `
      """Entry points."""
      type Query {
        """Things, without after, edges or PageInfo."""
        things(
          """How many."""
          first: Int
        ): ThingConnection
      }
      """A connection that is not one."""
      type ThingConnection {
        """The things."""
        items: [Int]
      }
    `;
    const { status, errors } = lint([], broken);
    expect(status).toBe(1);
    expect(new Set(errors.map((e) => e.rule))).toEqual(new Set(RELAY_RULES));
  });
});
