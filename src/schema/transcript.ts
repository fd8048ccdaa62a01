import type { TranscriptSegment } from '../upstream/model.js';
import { builder } from './builder.js';

const TranscriptSenderEnum = builder.enumType('TranscriptSender', {
  description: 'Who spoke a transcript segment.',
  values: {
    BOT: { description: 'The voice assistant (upstream `bot`, or an `AI:`/`Assistant:`/`Bot:`/`Agent:` prefix).' },
    HUMAN: {
      description: 'The person on the call (upstream `human`, or a `Customer:`/`User:`/`Caller:`/`Kunde:` … prefix).',
    },
    UNKNOWN: { description: 'The upstream did not say, or said something this gateway does not know.' },
  } as const,
});

export const TranscriptSegmentRef = builder.objectRef<TranscriptSegment>('TranscriptSegment').implement({
  description:
    'One utterance of a call transcript. Upstreams that send the transcript as one string are split at speaker ' +
    'prefixes; without prefixes the whole text is one segment with sender UNKNOWN.',
  fields: (t) => ({
    text: t.exposeString('text', { description: 'What was said.' }),
    sender: t.expose('sender', { type: TranscriptSenderEnum, description: 'Who said it.' }),
    kind: t.exposeString('kind', {
      nullable: true,
      description: 'The upstream segment type as sent (only `transcript` is documented); null for string transcripts.',
    }),
    timestamp: t.expose('timestamp', {
      type: 'DateTime',
      nullable: true,
      description: 'When the segment was spoken; null when the upstream gave no time (string transcripts).',
    }),
    offsetSeconds: t.exposeFloat('offsetSeconds', {
      nullable: true,
      description: "Seconds from the call's first timed segment to this one; null without timestamps.",
    }),
  }),
});
