/**
 * User projection (CQRS read side): builds every user's read model in the `users` store
 * (user_id → the user, schemas/user.avsc) from `user-events` (`UserCreated`, `UserUpdated`).
 * Optimistic concurrency: an event applies only when its version is exactly one more than the
 * user's (UserCreated is version 1), so a redelivered, duplicated, reordered or conflicting
 * event never changes a user twice or out of order; those events, and records that are not
 * valid user events, go to `user-events-dead-letter` with their original bytes and the reason.
 * Rebuild: `sluice reset` then run again, and the same log gives the same users.
 */
import { defineApplication, Serdes, type StreamsBuilder, type Table } from 'sluice';
import { checkAggregateEvent, type EventEnvelope, extraFields } from './lib/envelope.ts';

export const USER_EVENT_TYPES = ['UserCreated', 'UserUpdated'] as const;
export type UserEvent = EventEnvelope<(typeof USER_EVENT_TYPES)[number]>;

/** What the `users` store keeps per user. */
export interface User {
  user_id: string;
  email: string;
  name: string;
  status: string;
  version: number;
  /** The data's other fields: name → value as JSON text. */
  extra: Record<string, string>;
  created_at: string;
  updated_at: string;
  last_event_id: string;
}

export interface UserTopics {
  input: string;
  deadLetter: string;
}

export const USER_TOPICS: UserTopics = { input: 'user-events', deadLetter: 'user-events-dead-letter' };
export const USERS_STORE = 'users';

const KNOWN = new Set(['user_id', 'email', 'name', 'status']);

/** Thrown for a record that is not a user event, or one that does not fit the user's version. */
export class RejectedUserEventError extends Error {
  override name = 'RejectedUserEventError';
}

/** Checks a record as a user event: an envelope of a known type whose data names the user. */
export function toUserEvent(key: string | null, raw: Buffer | null): UserEvent {
  const event = checkAggregateEvent(key, raw, USER_EVENT_TYPES, 'user_id', (reason) => new RejectedUserEventError(reason));
  if (event.event_type === 'UserCreated' && (typeof event.data.email !== 'string' || typeof event.data.name !== 'string')) {
    throw new RejectedUserEventError('UserCreated needs data.email and data.name');
  }
  // With the version check, this makes UserCreated meet no user and UserUpdated meet one.
  if ((event.event_type === 'UserCreated') !== (event.version === 1)) {
    throw new RejectedUserEventError('UserCreated must be version 1, and only UserCreated');
  }
  return event;
}

const extraOf = (data: Record<string, unknown>, base: Record<string, string>) => extraFields(data, KNOWN, base);

/**
 * Folds one event into the user: the projection's `apply`. Validation and the version check
 * have made sure that UserCreated (version 1) meets no user and UserUpdated meets one.
 */
export function applyUserEvent(user: User | null, event: UserEvent): User {
  const data = event.data as Record<string, unknown>;
  const stamp = { version: event.version, updated_at: event.timestamp, last_event_id: event.event_id };
  if (user === null) {
    return { user_id: event.aggregate_id, email: data.email as string, name: data.name as string, status: 'active', extra: extraOf(data, {}), created_at: event.timestamp, ...stamp };
  }
  const text = (field: string) => (typeof data[field] === 'string' ? { [field]: data[field] as string } : {});
  return { ...user, ...text('email'), ...text('name'), ...text('status'), extra: extraOf(data, user.extra), ...stamp };
}

/** Builds the projection and returns its table of users (the `users` store). */
export function userProjection(builder: StreamsBuilder, topics: UserTopics = USER_TOPICS): Table<string, User> {
  const deadLetter = { deadLetterTopic: topics.deadLetter };
  return builder
    .stream<string, Buffer>(topics.input, { name: 'user-events', value: Serdes.bytes() })
    .mapValues((raw, key) => toUserEvent(key, raw), { name: 'validate-users', onError: deadLetter })
    .project<User>({
      name: 'project-users',
      store: USERS_STORE,
      apply: (user, event) => applyUserEvent(user, event),
      version: { event: (event) => event.version, view: (user) => user.version, mode: 'next' },
      onRejected: (rejected) =>
        rejected.mapValues(
          (event) => {
            throw new RejectedUserEventError(`version ${event.version} is not one more than the user's version`);
          },
          { name: 'version-conflict', onError: deadLetter },
        ),
    });
}

export default defineApplication({
  applicationId: 'user-projection',
  keySerde: Serdes.string(),
  onProcessingError: { deadLetterTopic: USER_TOPICS.deadLetter },
  topology: (builder) => userProjection(builder),
});
