import { readFileSync } from 'node:fs';
import { generate } from '@graphql-codegen/cli';
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import codegenConfig from '../codegen.js';
import { printPublicSchema, printSubgraphSdl } from '../src/print-schema.js';
import { schema } from '../src/schema/index.js';

describe('the public contract', () => {
  it('schema.graphql is what `npm run schema` prints from the code', () => {
    expect(readFileSync('schema.graphql', 'utf8'), 'schema.graphql is stale: run `npm run schema` and commit it').toBe(
      printPublicSchema(),
    );
  });

  it('subgraph.graphql, the SDL routers compose, is what `npm run schema` prints from the code', () => {
    const sdl = printSubgraphSdl();
    expect(
      readFileSync('subgraph.graphql', 'utf8'),
      'subgraph.graphql is stale: run `npm run schema` and commit it',
    ).toBe(sdl);
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@shareable"])');
    expect(sdl).toContain('@key(fields: "callId")');
  });

  it('the generated typed documents are what `npm run codegen` produces', async () => {
    const outputs = await generate({ ...codegenConfig, silent: true, verbose: false }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const { filename, content } of outputs) {
      expect(readFileSync(filename, 'utf8'), `${filename} is stale: run \`npm run codegen\` and commit it`).toBe(
        content,
      );
    }
  }, 60_000);

  it('describes every type, field, argument and enum value', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || (isScalarType(type) && isSpecifiedScalarType(type))) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : [])
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isEnumType(type))
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
    }
    expect(missing).toEqual([]);
  });
});
