import { UpstreamBadResponseError } from '../errors.js';
import { type Checked, Malformed } from '../upstream/model.js';

/**
 * Unwraps a field the normaliser could not read into an error at that field's path, so one bad value
 * costs one null field and not the record or the page (../shared/docs/clarifications.md: "Malformed upstream values").
 */
export function checked<T>(value: Checked<T>): T {
  if (value instanceof Malformed) {
    throw new UpstreamBadResponseError(`The upstream sent an unreadable value for "${value.field}".`, { cause: value });
  }
  return value;
}
