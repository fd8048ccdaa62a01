/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment CallFields on Call {\n  id\n  callId\n  assistantName\n  campaignName\n  type\n  durationSeconds\n  assistantPhoneNumber\n  clientPhoneNumber\n  status\n  transcript {\n    text\n    sender\n    kind\n    timestamp\n    offsetSeconds\n  }\n  transcriptText\n  variables\n  evaluation {\n    name\n    type\n    value\n    description\n  }\n  webhookResponse\n  carrierCost\n  totalCost\n  answeredBy\n  recordingUrl\n  createdAt\n  updatedAt\n}\n\nfragment PageInfoFields on PageInfo {\n  hasNextPage\n  hasPreviousPage\n  startCursor\n  endCursor\n}\n\nquery CallsPage($filter: CallFilter, $first: Int, $after: String) {\n  calls(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...CallFields\n      }\n    }\n  }\n}\n\nquery CallIdsPage($filter: CallFilter, $first: Int, $after: String, $last: Int, $before: String) {\n  calls(\n    filter: $filter\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        callId\n        createdAt\n      }\n    }\n  }\n}\n\nquery CallsTotal($filter: CallFilter) {\n  calls(filter: $filter) {\n    totalCount\n  }\n}\n\nquery CallById($callId: Int!) {\n  call(callId: $callId) {\n    ...CallFields\n  }\n}\n\nquery NodeById($id: ID!) {\n  node(id: $id) {\n    __typename\n    id\n    ... on Call {\n      callId\n      status\n    }\n  }\n}": typeof types.CallFieldsFragmentDoc,
    "subscription CallEvents($filter: CallFilter) {\n  callEvents(filter: $filter) {\n    kind\n    cursor\n    call {\n      callId\n      status\n      type\n      createdAt\n      updatedAt\n    }\n  }\n}": typeof types.CallEventsDocument,
};
const documents: Documents = {
    "fragment CallFields on Call {\n  id\n  callId\n  assistantName\n  campaignName\n  type\n  durationSeconds\n  assistantPhoneNumber\n  clientPhoneNumber\n  status\n  transcript {\n    text\n    sender\n    kind\n    timestamp\n    offsetSeconds\n  }\n  transcriptText\n  variables\n  evaluation {\n    name\n    type\n    value\n    description\n  }\n  webhookResponse\n  carrierCost\n  totalCost\n  answeredBy\n  recordingUrl\n  createdAt\n  updatedAt\n}\n\nfragment PageInfoFields on PageInfo {\n  hasNextPage\n  hasPreviousPage\n  startCursor\n  endCursor\n}\n\nquery CallsPage($filter: CallFilter, $first: Int, $after: String) {\n  calls(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...CallFields\n      }\n    }\n  }\n}\n\nquery CallIdsPage($filter: CallFilter, $first: Int, $after: String, $last: Int, $before: String) {\n  calls(\n    filter: $filter\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        callId\n        createdAt\n      }\n    }\n  }\n}\n\nquery CallsTotal($filter: CallFilter) {\n  calls(filter: $filter) {\n    totalCount\n  }\n}\n\nquery CallById($callId: Int!) {\n  call(callId: $callId) {\n    ...CallFields\n  }\n}\n\nquery NodeById($id: ID!) {\n  node(id: $id) {\n    __typename\n    id\n    ... on Call {\n      callId\n      status\n    }\n  }\n}": types.CallFieldsFragmentDoc,
    "subscription CallEvents($filter: CallFilter) {\n  callEvents(filter: $filter) {\n    kind\n    cursor\n    call {\n      callId\n      status\n      type\n      createdAt\n      updatedAt\n    }\n  }\n}": types.CallEventsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment CallFields on Call {\n  id\n  callId\n  assistantName\n  campaignName\n  type\n  durationSeconds\n  assistantPhoneNumber\n  clientPhoneNumber\n  status\n  transcript {\n    text\n    sender\n    kind\n    timestamp\n    offsetSeconds\n  }\n  transcriptText\n  variables\n  evaluation {\n    name\n    type\n    value\n    description\n  }\n  webhookResponse\n  carrierCost\n  totalCost\n  answeredBy\n  recordingUrl\n  createdAt\n  updatedAt\n}\n\nfragment PageInfoFields on PageInfo {\n  hasNextPage\n  hasPreviousPage\n  startCursor\n  endCursor\n}\n\nquery CallsPage($filter: CallFilter, $first: Int, $after: String) {\n  calls(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...CallFields\n      }\n    }\n  }\n}\n\nquery CallIdsPage($filter: CallFilter, $first: Int, $after: String, $last: Int, $before: String) {\n  calls(\n    filter: $filter\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        callId\n        createdAt\n      }\n    }\n  }\n}\n\nquery CallsTotal($filter: CallFilter) {\n  calls(filter: $filter) {\n    totalCount\n  }\n}\n\nquery CallById($callId: Int!) {\n  call(callId: $callId) {\n    ...CallFields\n  }\n}\n\nquery NodeById($id: ID!) {\n  node(id: $id) {\n    __typename\n    id\n    ... on Call {\n      callId\n      status\n    }\n  }\n}"): (typeof documents)["fragment CallFields on Call {\n  id\n  callId\n  assistantName\n  campaignName\n  type\n  durationSeconds\n  assistantPhoneNumber\n  clientPhoneNumber\n  status\n  transcript {\n    text\n    sender\n    kind\n    timestamp\n    offsetSeconds\n  }\n  transcriptText\n  variables\n  evaluation {\n    name\n    type\n    value\n    description\n  }\n  webhookResponse\n  carrierCost\n  totalCost\n  answeredBy\n  recordingUrl\n  createdAt\n  updatedAt\n}\n\nfragment PageInfoFields on PageInfo {\n  hasNextPage\n  hasPreviousPage\n  startCursor\n  endCursor\n}\n\nquery CallsPage($filter: CallFilter, $first: Int, $after: String) {\n  calls(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...CallFields\n      }\n    }\n  }\n}\n\nquery CallIdsPage($filter: CallFilter, $first: Int, $after: String, $last: Int, $before: String) {\n  calls(\n    filter: $filter\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        callId\n        createdAt\n      }\n    }\n  }\n}\n\nquery CallsTotal($filter: CallFilter) {\n  calls(filter: $filter) {\n    totalCount\n  }\n}\n\nquery CallById($callId: Int!) {\n  call(callId: $callId) {\n    ...CallFields\n  }\n}\n\nquery NodeById($id: ID!) {\n  node(id: $id) {\n    __typename\n    id\n    ... on Call {\n      callId\n      status\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription CallEvents($filter: CallFilter) {\n  callEvents(filter: $filter) {\n    kind\n    cursor\n    call {\n      callId\n      status\n      type\n      createdAt\n      updatedAt\n    }\n  }\n}"): (typeof documents)["subscription CallEvents($filter: CallFilter) {\n  callEvents(filter: $filter) {\n    kind\n    cursor\n    call {\n      callId\n      status\n      type\n      createdAt\n      updatedAt\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;