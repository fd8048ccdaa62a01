/** Loads every type module, then builds the schema. Defines nothing itself. */
import { builder } from './builder.js';
import './transcript.js';
import './evaluation.js';
import './call.js';
import './stats.js';

/** The public schema served at /graphql: no federation fields or directives. */
export const schema = builder.toSchema({ sortSchema: true });

/** The same types as a Federation 2 subgraph (`_service`, `_entities`, `@key`), served to routers only. */
export const subgraphSchema = builder.toSubGraphSchema({
  sortSchema: true,
  linkUrl: 'https://specs.apollo.dev/federation/v2.6',
  federationDirectives: ['@key', '@shareable'],
});
