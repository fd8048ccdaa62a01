/** `npm run schema`: writes the public contract, schema.graphql, from the Pothos schema. */
import { writeFileSync } from 'node:fs';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './schema/index.js';

export function printPublicSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../schema.graphql', import.meta.url), printPublicSchema());
  console.log('wrote schema.graphql');
}
