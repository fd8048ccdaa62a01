/** Loads every type module, then builds the schema. Defines nothing itself. */
import { builder } from './builder.js';
import './transcript.js';
import './evaluation.js';
import './call.js';

export const schema = builder.toSchema({ sortSchema: true });
