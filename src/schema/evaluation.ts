import type { EvaluationItem } from '../upstream/model.js';
import { builder } from './builder.js';

const EvaluationTypeEnum = builder.enumType('EvaluationType', {
  description:
    'The type of an evaluation value: as declared by the upstream (`bool`, `int`, `float` … are mapped) for ' +
    'list-shaped evaluations, inferred from the value for object-shaped ones.',
  values: {
    BOOLEAN: { description: 'true or false.' },
    STRING: { description: 'Text.' },
    INTEGER: { description: 'A whole number.' },
    NUMBER: { description: 'A number with a fraction.' },
    OBJECT: { description: 'A JSON object.' },
    LIST: { description: 'A JSON array.' },
    UNKNOWN: { description: 'Undeclared, unrecognised, or null.' },
  } as const,
});

export const EvaluationItemRef = builder.objectRef<EvaluationItem>('EvaluationItem').implement({
  description:
    'One result of the ' +
    "assistant's " +
    'post-call evaluation (e.g. `status`: was the goal reached, `summary`). Values are extracted by a language model ' +
    'and may not match their declared type.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The evaluation field name, e.g. `summary`.' }),
    type: t.expose('type', { type: EvaluationTypeEnum, description: 'The declared or inferred type of `value`.' }),
    value: t.expose('value', { type: 'JSON', nullable: true, description: 'The value as the upstream sent it.' }),
    description: t.exposeString('description', {
      nullable: true,
      description: 'What the field means, as configured on the assistant; null when the upstream sent none.',
    }),
  }),
});
