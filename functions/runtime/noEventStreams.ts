/**
 * Bundles only (infra/bundling.ts aliases `@smithy/core/event-streams` to this file): the S3
 * client wires an event-stream marshaller at construction for the one S3 operation that streams
 * events (SelectObjectContent), which Forklift never calls; the real codec is about 15 KiB of
 * every bundle that holds an S3 client. Construction works as with the SDK's resolver; an
 * event-stream operation fails with an error that names the reason. The tests and the local
 * stack never use a bundle and keep the SDK's own module.
 */

const unsupported = (): never => {
  throw new Error('event streams are not bundled in Forklift functions (infra/bundling.ts)');
};

/** Same contract as the SDK's resolver: the marshaller the provider builds, on the config. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (input: T) => unknown }>(input: T) =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

/** A marshaller that refuses to serialize or deserialize. */
export const eventStreamSerdeProvider = () => ({ serialize: unsupported, deserialize: unsupported });

/** What the protocol loads for an event-stream operation: refused. */
export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}
