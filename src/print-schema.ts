/**
 * `npm run schema`: writes the public contract, schema.graphql, and the Federation 2 subgraph SDL,
 * subgraph.graphql (what routers compose), from the Pothos schema.
 */
import { writeFileSync } from 'node:fs';
import { printSubgraphSchema } from '@apollo/subgraph';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema, subgraphSchema } from './schema/index.js';

export function printPublicSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

export function printSubgraphSdl(): string {
  return `${printSubgraphSchema(subgraphSchema).trim()}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../schema.graphql', import.meta.url), printPublicSchema());
  writeFileSync(new URL('../subgraph.graphql', import.meta.url), printSubgraphSdl());
  console.log('wrote schema.graphql and subgraph.graphql');
}
