/**
 * The one place that decides what an error tells a client: our own GatewayErrors become their public
 * message and code, argument errors from Pothos become BAD_USER_INPUT, GraphQL errors raised on purpose
 * pass through, and everything else is masked by yoga ("Unexpected error.").
 */
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { GatewayError } from './errors.js';

export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  if (error instanceof GraphQLError) {
    const original = error.originalError;
    if (original instanceof GatewayError || original instanceof PothosValidationError) {
      const publicError = original instanceof GatewayError ? original : null;
      return new GraphQLError(original.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        extensions: { code: publicError?.code ?? 'BAD_USER_INPUT', ...publicError?.details },
      });
    }
  }
  return yogaMaskError(error, message, isDev);
}
