/**
 * Personal data at rest (crypto-shredding). A store seals each event's personal
 * fields (the domain's `personalFields`: a barcode, what was borrowed or asked
 * for, a pickup branch, a revocation reason) before its log keeps them, and
 * opens them on the way out:
 *
 * - sealed: AES-256-GCM under the key of the field's subject, with a fresh
 *   96-bit nonce per event and the event's type and id as associated data, so a
 *   sealed part cannot be moved to another event unnoticed. The subject is the
 *   account (a barcode), or the loan or hold (its title, item, branch), whose
 *   key belongs to the account's in the key store (`account:A/loan:L`: forgetting
 *   the account forgets it too); a part of two accounts (a revocation's reason)
 *   is sealed under a key derived (HKDF-SHA-256) from both of theirs;
 * - erased: once any of those subjects' keys is forgotten, the fields read
 *   `[erased]`, here and in every copy of the log (exports carry the sealed
 *   form), while every other field, the order and the tags stay;
 * - found without the plain value: a barcode is tagged by its keyed hash
 *   (HMAC-SHA-256 under the library's index secret), never by itself; a query
 *   for `barcode:X` is rewritten to the hash (and, for events written before
 *   sealing, to the plain tag too). The command handler keys the digest of a
 *   command's identity (which may hold a barcode) with `indexHash` as well.
 *
 * - keys made as they are needed: a part of a subject with no key yet (a new
 *   account, loan or hold) is sealed under a new random key, which the log's own
 *   append stores in the transaction that stores the events (`AppendCreatingKeys`,
 *   when the key store is a table beside the log), or the key store is asked to
 *   create first (a host's key store). A key once stored is never replaced: a
 *   key proposed for a subject that has one (another writer's, or one this
 *   process had not met) is not stored, nothing is appended, and the events are
 *   sealed again under the key stored.
 *
 * Everything a host, a command or a read model sees is the event in the clear:
 * this layer is the only code that touches ciphertext. The log underneath
 * (`log`) speaks the sealed form: what exports and backups copy.
 */
import { createCipheriv, createHmac } from "node:crypto";
import { availableParallelism } from "node:os";
import * as E from "fp-ts/lib/Either.js";
import {
  type DomainEvent,
  type EventEnvelope,
  type Query,
  type QueryItem,
  type SealedEnvelope,
  type StoredEnvelope,
  type Tag,
  type Withheld,
  ERASED,
  SEALED,
  canonicalBarcode,
  decodeEnvelope,
  isSealed,
  openSealed,
  personalPartOf,
  withoutPersonalFields,
} from "@linked-accounts/domain/internal";
import {
  type AppendCondition,
  AppendFailedError,
  type AppendResult,
  type EventLog,
  type EventStore,
  InvalidEventError,
  type NewEvent,
  type ReadOptions,
  type RecordedEvent,
  StoredEventDecodeError,
} from "./event-store.js";
import { ownerOf } from "./key-checks.js";
import { freshRandomBytes } from "./random-bytes.js";
import { KEY_BYTES, type KeyLookup, type KeyStore } from "./key-store.js";
import { eventsOfPages, pagesOf } from "./keyset-pages.js";
import { DOES_NOT_OPEN_PART, NOT_JSON_PART, type Opened, TOO_SHORT_PART, openHere, sharedOpenWorker } from "./open-worker.js";
import { TAGS_EXPECTED, areTags } from "./mapper.js";

export interface PersonalDataOptions {
  /** Where the subjects' keys are kept; default: the key store beside the event store. */
  readonly keys?: KeyStore;
  /**
   * The library-wide secret barcodes are hashed with for lookups (at least 32
   * bytes), e.g. from the host's KMS or secret manager. Default: one made once
   * and kept in the key store (subject `library:index-secret`). Once events are
   * stored, it must never change: a barcode hashed with another finds nothing.
   */
  readonly indexSecret?: Uint8Array;
  /**
   * How long this process trusts a key it read, in ms, before asking the key
   * store again (another process may have forgotten it); default 60,000. A key
   * this process forgets is gone here at once.
   */
  readonly keyCacheMs?: number;
  /**
   * Whether a read of many sealed events deciphers them on a worker thread
   * (one per process, shared by its stores, started on first use, keeping the
   * process alive only while it works) while the next page is read; default:
   * when the machine has more than one CPU. Pages of few sealed events are
   * opened on the calling thread either way.
   */
  readonly openInWorker?: boolean;
}

/** A store that seals personal data: the port, plus what erasure and exports need. */
export interface SealingEventStore extends EventStore {
  /** The log underneath: every event as kept, personal fields sealed. Exports copy this. */
  readonly log: EventLog;
  readonly keys: KeyStore;
  /** A keyed hash (HMAC-SHA-256 under the index secret, base64url) for an index value derived from personal data. */
  indexHash(value: string): Promise<string>;
  /**
   * Forgets the keys that stored erasure and retention events name, from
   * `from` on (default: the whole log). Appending such an event forgets its key
   * at once; this finishes the job after a crash between the two. Idempotent.
   */
  forgetErased(from?: bigint): Promise<number>;
  /**
   * Every event as `readAll` reads it, except that only the sealed events of
   * `types` are opened: the others come as the log keeps them (every field but
   * the personal ones, which stay sealed, unopened and unchecked). For a reader
   * that reads no personal field of the other types (a read model that says
   * what it reads): it pays for no key lookup or decipherment it would not use.
   */
  readAllOpening(types: ReadonlySet<string>, options?: ReadOptions): AsyncIterable<RecordedEvent<StoredEnvelope>>;
}

/** The subject whose key `library:` secrets are kept under. */
const INDEX_SECRET_SUBJECT = "library:index-secret";
/** How stored barcode tags are spelt: never the barcode, always its keyed hash. */
const HASHED_BARCODE = "barcode-hmac:";
const BARCODE = "barcode:";
const HKDF_INFO = "linked-accounts personal data v1\n";
/** How many events are opened per key lookup on a read (a log that reads in pages: its pages). */
const OPEN_BATCH = 500;
/** A page with at least this many sealed parts is deciphered by the worker, if there is one; fewer, here. */
const WORKER_PARTS = 64;
const CACHE_LIMIT = 200_000;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");

/** HKDF's salt when none is given: a hash length of zeros (RFC 5869, 2.2). */
const NO_SALT = Buffer.alloc(32);
const FIRST_BLOCK = Buffer.of(1);

/**
 * The key sealing a field of these subjects: HKDF-SHA-256 (RFC 5869) over
 * their keys, in order, no salt, info `HKDF_INFO` and their names, 32 bytes.
 * Spelt out as its two HMACs (extract, then the one expand block 32 bytes
 * take): the same bytes as `hkdfSync` in less than half its time (a read
 * derives one key per loan or hold it opens).
 */
export const sealingKeyOf = (keys: ReadonlyArray<Uint8Array>, subjects: string): Buffer => {
  const extract = createHmac("sha256", NO_SALT);
  for (const key of keys) extract.update(key);
  return createHmac("sha256", extract.digest())
    .update(HKDF_INFO + subjects, "utf8")
    .update(FIRST_BLOCK)
    .digest();
};

/**
 * The subject in the key store whose key seals a part of these subjects (as a
 * sealed part names them, space-separated): the one subject; for an account and
 * one of its loans or holds, the item's key, kept beneath the account's
 * (`account:A/loan:L`); null for a part of several accounts, sealed under a key
 * derived from all of theirs.
 */
export const keySubjectOf = (subjects: string): string | null => {
  const space = subjects.indexOf(" ");
  if (space === -1) return subjects;
  const item = subjects.slice(space + 1);
  if (subjects.startsWith("account:") && (item.startsWith("loan:") || item.startsWith("hold:")) && !item.includes(" "))
    return `${subjects.slice(0, space)}/${item}`;
  return null;
};

/** What a sealed part is bound to (AES-GCM's associated data): its event's type and id. */
const associatedData = (type: string, eventId: string): string => `${type}\n${eventId}`;

/** The key store subject a stored erasure or retention event says is forgotten. */
const forgottenBy = (event: DomainEvent): string | null => {
  switch (event.type) {
    case "AccountErased":
      return `account:${event.data.accountId}`;
    case "LoanDetailsForgotten":
      return `account:${event.data.accountId}/loan:${event.data.loanId}`;
    case "HoldDetailsForgotten":
      return `account:${event.data.accountId}/hold:${event.data.holdId}`;
    default:
      return null;
  }
};

const FORGETTING_TYPES = ["AccountErased", "LoanDetailsForgotten", "HoldDetailsForgotten"] as const;

interface Cached {
  readonly key: Uint8Array | null;
  readonly at: number;
}

/**
 * An append that stores the new keys its events were sealed under in the same
 * transaction as the events: what a log offers when the key store is a table
 * beside its events (the stores' own key stores; a host's KMS is asked first,
 * separately). Each key is stored as `KeyStore.create` stores it: not when the
 * subject has a row already (a key, or a tombstone), as a tombstone beneath a
 * forgotten subject. The events are appended only when every key given was
 * stored as given; otherwise nothing is appended, the keys that could be stored
 * are kept (unused as yet), and it answers what is stored for the subjects given
 * (`stored`; it may leave subjects out, which the key store then answers: one
 * another writer was storing at that very moment, or every one, when finding
 * them in the same statement would cost every append more than asking for them
 * in the rare append that needs it). The condition is checked and failures
 * thrown as `EventLog.append` does; a failed append stores no key.
 */
export type AppendCreatingKeys = (
  events: ReadonlyArray<NewEvent<StoredEnvelope>>,
  condition: AppendCondition | undefined,
  keys: ReadonlyMap<string, Uint8Array>,
) => Promise<AppendResult | KeysNotStored>;

/** What `AppendCreatingKeys` answers when it appended nothing: what the key table holds for the subjects given. */
export interface KeysNotStored {
  readonly stored: KeyLookup;
}

/**
 * Opens events as a log keeps them (an export's lines, a log read directly):
 * with the key store that sealed them, personal fields read as written (or
 * `[erased]`); without one, they read `[sealed]`.
 */
export const openStoredEvents = (
  events: AsyncIterable<RecordedEvent<StoredEnvelope>>,
  keys: KeyStore | null,
  options: Omit<PersonalDataOptions, "keys"> = {},
): AsyncIterable<RecordedEvent> => sealer(keys, options).opened(() => events);

/**
 * Wraps a log (the sealed form) into the store hosts use. `ownsKeys`: close
 * the key store with the store.
 */
export const sealingStore = (
  log: EventLog,
  keys: KeyStore,
  options: Omit<PersonalDataOptions, "keys"> & {
    readonly ownsKeys: boolean;
    readonly now?: () => number;
    /** Given when `keys` is a table the log writes too: new keys are then stored by the append that needs them. */
    readonly appendCreatingKeys?: AppendCreatingKeys;
  },
): SealingEventStore => {
  const { seal, remember, opened, hashQuery, hashCondition, indexHash, forget, pending } = sealer(keys, options);
  const keyed = options.appendCreatingKeys;

  /** The batch sealed (see `seal`); a failure here is before the log was asked: nothing was appended. */
  const sealOrFail = async (events: ReadonlyArray<NewEvent>, propose: boolean) => {
    try {
      return await seal(events, propose);
    } catch (error) {
      // A key store that failed, or refused to make a key.
      if (error instanceof InvalidEventError || error instanceof RangeError) throw error;
      throw new AppendFailedError("not-appended", error);
    }
  };

  const store: SealingEventStore = {
    log,
    keys,
    indexHash,
    async append(events, condition) {
      const { sealed, proposed } = await sealOrFail(events, keyed !== undefined);
      const hashed = await hashCondition(condition);
      let result: AppendResult;
      if (proposed.size === 0) result = await log.append(sealed, hashed);
      else {
        // New keys and events in one transaction of the log's.
        const answer = await keyed!(sealed, hashed, proposed);
        if ("position" in answer) {
          for (const [subject, key] of proposed) remember(subject, key);
          result = answer;
        } else {
          // Some subject had a key already (another writer made it first, or this
          // process had not met it yet) or is forgotten: nothing was appended, and
          // nothing is sealed under a key that was not kept. Sealed again under the
          // keys stored; the key store finds any the answer left out.
          for (const [subject, key] of answer.stored) remember(subject, key);
          result = await log.append((await sealOrFail(events, false)).sealed, hashed);
        }
      }
      const subjects = events.map((e) => forgottenBy(e as DomainEvent)).filter((s): s is string => s !== null);
      if (subjects.length > 0 || pending.size > 0) {
        try {
          await forget(subjects);
        } catch {
          // Stored, and forgotten in this process; the key store is told on the
          // next append or by `forgetErased` (the events say what to forget).
        }
      }
      return result;
    },
    // The log's read itself (not a generator around it), so that its own pages are opened as they come.
    read: (query, readOptions) => opened(async () => log.read(await hashQuery(query), readOptions)),
    readAll: (readOptions) => opened(() => log.readAll(readOptions)),
    readAllOpening: (types, readOptions) => opened(() => log.readAll(readOptions), types),
    head: () => log.head(),
    async forgetErased(from) {
      const subjects: string[] = [];
      for await (const event of log.read({ items: [{ types: [...FORGETTING_TYPES] }] }, from === undefined ? {} : { from })) {
        const subject = forgottenBy(event as DomainEvent);
        if (subject !== null) subjects.push(subject);
      }
      for (let i = 0; i < subjects.length; i += 1000) await forget(subjects.slice(i, i + 1000));
      if (subjects.length === 0 && pending.size > 0) await forget([]);
      return subjects.length;
    },
    async close() {
      await log.close();
      if (options.ownsKeys) await keys.close();
    },
  };
  return store;
};

/** Sealing and opening, over a key store (or none: opening only, personal fields `[sealed]`). */
const sealer = (readKeys: KeyStore | null, options: Omit<PersonalDataOptions, "keys"> & { readonly now?: () => number }) => {
  const keys: KeyStore = readKeys ?? noKeys;
  const ttl = options.keyCacheMs ?? 60_000;
  const now = options.now ?? Date.now;
  if (options.indexSecret !== undefined && options.indexSecret.length < 32)
    throw new RangeError("indexSecret: expected at least 32 bytes");
  // Read from the key store on first use (and again after a failure), so opening a store does no I/O.
  let secret: Promise<Buffer> | undefined =
    options.indexSecret === undefined ? undefined : Promise.resolve(Buffer.from(options.indexSecret));
  const indexSecret = (): Promise<Buffer> =>
    (secret ??= indexSecretFrom(keys).then(
      (bytes) => Buffer.from(bytes),
      (error: unknown) => {
        secret = undefined;
        throw error;
      },
    ));
  const hmac = (key: Buffer, value: string): string => createHmac("sha256", key).update(value, "utf8").digest("base64url");
  const indexHash = async (value: string): Promise<string> => hmac(await indexSecret(), value);

  const cache = new Map<string, Cached>();
  const derived = new Map<string, { readonly key: Buffer; readonly at: number }>();
  const remember = (subject: string, key: Uint8Array | null): void => {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(subject, { key, at: now() });
  };

  /** The keys of `subjects` this process's cache answers (a tombstone for good, a key while fresh); the others, `missing`. */
  const cachedKeys = (subjects: ReadonlySet<string>): { out: Map<string, Uint8Array | null>; missing: string[] } => {
    const out = new Map<string, Uint8Array | null>();
    const missing: string[] = [];
    const t = now();
    for (const subject of subjects) {
      const hit = cache.get(subject);
      if (hit !== undefined && (hit.key === null || t - hit.at < ttl)) out.set(subject, hit.key);
      else missing.push(subject);
    }
    return { out, missing };
  };

  /** The keys of `subjects`: from this process's cache while fresh, else one lookup (and one create when asked). */
  const keysOf = async (subjects: ReadonlySet<string>, create: boolean): Promise<Map<string, Uint8Array | null>> => {
    const { out, missing } = cachedKeys(subjects);
    if (missing.length === 0) return out;
    const found = await keys.find(missing);
    const toCreate = new Map<string, Uint8Array>();
    for (const subject of missing) {
      const key = found.get(subject);
      if (key !== undefined) {
        remember(subject, key);
        out.set(subject, key);
      } else if (create) toCreate.set(subject, freshRandomBytes(KEY_BYTES));
    }
    if (toCreate.size > 0) {
      const created = await keys.create(toCreate);
      for (const subject of toCreate.keys()) {
        const key = created.get(subject);
        if (key === undefined) throw new Error(`key store: create answered nothing for ${subject}`);
        remember(subject, key);
        out.set(subject, key);
      }
    }
    return out;
  };

  /** The key store subjects a sealed part of these subjects needs (their names joined by spaces, as a sealed part keeps them). */
  const keySubjectsOf = (name: string): ReadonlyArray<string> => {
    const one = keySubjectOf(name);
    return one === null ? name.split(" ") : [one];
  };

  /**
   * The key sealing a field of these subjects (`name`: their names joined by
   * spaces, as a sealed part keeps them; `one`: its key subject, when known), or
   * null when any of them is forgotten. A key derived from keys `proposed` (not
   * stored yet: the append may find others stored first) is not kept for later.
   */
  const sealingKey = (
    name: string,
    found: ReadonlyMap<string, Uint8Array | null>,
    t: number,
    one = keySubjectOf(name),
    proposed?: ReadonlyMap<string, Uint8Array>,
  ): Uint8Array | null => {
    if (one !== null) {
      const key = found.get(one);
      if (key === null) return null;
      if (key === undefined) throw new MissingKeyError(one);
      return key;
    }
    const subjects = name.split(" ");
    const parts: Uint8Array[] = [];
    for (const subject of subjects) {
      const key = found.get(subject);
      if (key === null) return null;
      if (key === undefined) throw new MissingKeyError(subject);
      parts.push(key);
    }
    if (proposed !== undefined && proposed.size > 0 && subjects.some((subject) => proposed.has(subject))) return sealingKeyOf(parts, name);
    const hit = derived.get(name);
    if (hit !== undefined && t - hit.at < ttl) return hit.key;
    const key = sealingKeyOf(parts, name);
    if (derived.size >= CACHE_LIMIT) derived.clear();
    derived.set(name, { key, at: t });
    return key;
  };

  const hashTags = (key: Buffer, tags: ReadonlyArray<Tag>): ReadonlyArray<Tag> =>
    tags.map((tag) => (tag.startsWith(BARCODE) ? HASHED_BARCODE + hmac(key, tag.slice(BARCODE.length)) : tag));

  /** A query over tags in the clear, as the log is indexed: hashed, and plain too for events stored before sealing. */
  const hashQuery = async (query: Query): Promise<Query> => {
    if (!query.items.some((item) => item.tags?.some((tag) => tag.startsWith(BARCODE)))) return query;
    const key = await indexSecret();
    const items: QueryItem[] = [];
    for (const item of query.items) {
      if (item.tags === undefined || !item.tags.some((tag) => tag.startsWith(BARCODE))) {
        items.push(item);
        continue;
      }
      items.push({ ...item, tags: hashTags(key, item.tags) });
      items.push(item); // an event stored before sealing is tagged with the plain barcode
    }
    return { items };
  };
  const hashCondition = async (condition: AppendCondition | undefined): Promise<AppendCondition | undefined> =>
    condition === undefined ? undefined : { ...condition, failIfEventsMatch: await hashQuery(condition.failIfEventsMatch) };

  /**
   * Seals a batch. With `propose`, a subject whose key this process does not
   * know is given a new key here, without asking the key store: the keys
   * `proposed` are for the log's append to store in its own transaction (which
   * answers instead what is stored, when another writer stored a key first).
   * Without, each key is found, or made, in the key store first.
   */
  const seal = async (
    events: ReadonlyArray<NewEvent>,
    propose: boolean,
  ): Promise<{ sealed: Array<NewEvent<StoredEnvelope>>; proposed: Map<string, Uint8Array> }> => {
    const checked = events.map((event, index) => {
      const decoded = decodeEnvelope(event);
      if (E.isLeft(decoded)) throw new InvalidEventError(index, decoded.left.message);
      const tags: unknown = (event as { tags?: unknown }).tags;
      if (!areTags(tags)) throw new InvalidEventError(index, TAGS_EXPECTED);
      let part: ReturnType<typeof personalPartOf>;
      try {
        part = personalPartOf(decoded.right, tags as Tag[]);
      } catch (error) {
        throw new InvalidEventError(index, (error as Error).message);
      }
      return { envelope: decoded.right, tags: tags as Tag[], part };
    });
    const subjects = new Set<string>();
    for (const { part } of checked) if (part !== null) for (const subject of keySubjectsOf(part.subjects.join(" "))) subjects.add(subject);
    const proposed = new Map<string, Uint8Array>();
    let found: Map<string, Uint8Array | null>;
    if (subjects.size === 0) found = new Map();
    else if (!propose) found = await keysOf(subjects, true);
    else {
      const cached = cachedKeys(subjects);
      found = cached.out;
      for (const subject of cached.missing) {
        const made = freshRandomBytes(KEY_BYTES);
        proposed.set(subject, made);
        found.set(subject, made);
      }
    }
    const tagged = checked.some(({ tags }) => tags.some((tag) => tag.startsWith(BARCODE)));
    const key = tagged ? await indexSecret() : null;
    const t = now();
    const sealed = checked.map(({ envelope, tags, part }) => {
      const stored = key === null ? tags : hashTags(key, tags);
      if (part === null) return { ...envelope, tags: stored } as NewEvent<StoredEnvelope>;
      // A subject already erased (a staff revocation of an erased account's link,
      // say): the fields are born erased, sealed under a key made here and kept
      // nowhere, so the event is stored and its personal fields read [erased].
      const name = part.subjects.join(" ");
      const sealing = sealingKey(name, found, t, undefined, proposed) ?? freshRandomBytes(KEY_BYTES);
      const iv = freshRandomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", sealing, iv);
      cipher.setAAD(Buffer.from(associatedData(envelope.type, envelope.metadata.eventId), "utf8"));
      const ct = Buffer.concat([cipher.update(JSON.stringify(part.values), "utf8"), cipher.final(), cipher.getAuthTag()]);
      const data = { ...withoutPersonalFields(envelope), sealed: { subjects: name, iv: b64(iv), ct: b64(ct) } };
      return { type: envelope.type, data, metadata: envelope.metadata, tags: stored } as NewEvent<StoredEnvelope>;
    });
    return { sealed, proposed };
  };

  /** The tags a host sees: the barcode in the clear again (from the opened event), hashes dropped. */
  const openTags = (tags: ReadonlyArray<Tag>, event: EventEnvelope): ReadonlyArray<Tag> => {
    if (!tags.some((tag) => tag.startsWith(HASHED_BARCODE))) return tags;
    const out = tags.filter((tag) => !tag.startsWith(HASHED_BARCODE));
    if (event.type === "AccountRegistered" && event.data.barcode !== ERASED) out.push(BARCODE + canonicalBarcode(event.data.barcode));
    return out;
  };

  /** The key opening a sealed part of these subjects: null when one is forgotten (or no keys were given), the error when one has no key. */
  type Opening = Uint8Array | null | MissingKeyError;
  const openingKey = (subjects: string, found: ReadonlyMap<string, Uint8Array | null>, t: number, one?: string | null): Opening => {
    if (readKeys === null) return null;
    try {
      return sealingKey(subjects, found, t, one);
    } catch (error) {
      if (error instanceof MissingKeyError) return error;
      throw error;
    }
  };

  /**
   * The event a sealed one holds, given what its sealed part opened to: its
   * parsed plain text, a reason it did not open, or no key (`NO_KEY`: forgotten,
   * or no keys given; the error: the key store has none).
   */
  const openOne = (event: RecordedEvent<SealedEnvelope>, opening: Opened | typeof NO_KEY | MissingKeyError): RecordedEvent => {
    const fail = (reason: string): never => {
      throw new StoredEventDecodeError(event.position, event.type, `data.sealed: ${reason}`);
    };
    if (opening instanceof MissingKeyError) return fail(opening.message);
    if (opening === TOO_SHORT_PART) return fail("too short to hold a sealed value");
    if (opening === DOES_NOT_OPEN_PART || opening === NOT_JSON_PART) return fail("does not open under its subjects' keys (altered, or sealed for another event)");
    let values: Record<string, unknown> | Withheld = readKeys === null ? SEALED : ERASED;
    if (opening !== NO_KEY) {
      if (typeof opening !== "object" || opening === null || Array.isArray(opening)) return fail("opened to something other than an object");
      values = opening as Record<string, unknown>;
    }
    const opened = openSealed(event, values);
    if (E.isLeft(opened)) return fail(`opened to an event the catalog refuses: ${opened.left.message}`);
    const { type, data, metadata } = opened.right;
    return { type, data, metadata, tags: openTags(event.tags, opened.right), position: event.position } as RecordedEvent;
  };

  const worker = (options.openInWorker ?? availableParallelism() > 1) ? sharedOpenWorker() : undefined;

  /**
   * Opens a batch: one key lookup for every sealed event in it, then every
   * sealed part deciphered in one go (by the worker, for a batch of many). The
   * events before one that does not open are handed over first, so a read stops
   * at the bad event exactly as the log's own reads do. With `types`, only
   * the sealed events of those types are opened; the others are handed over as kept.
   */
  const openBatch = async (
    batch: ReadonlyArray<RecordedEvent<StoredEnvelope>>,
    types?: ReadonlySet<string>,
  ): Promise<{ opened: RecordedEvent[]; error?: unknown }> => {
    const toOpen = (event: RecordedEvent<StoredEnvelope>): event is RecordedEvent<SealedEnvelope> =>
      isSealed(event) && (types === undefined || types.has(event.type));
    const t = now();
    // Each sealed event's one key subject (null: a part of several accounts, its key derived from theirs),
    // and its key when this process's cache answers it; the rest are looked up in one go.
    const keyNames: Array<string | null | undefined> = new Array(batch.length);
    const cached: Array<Uint8Array | null | undefined> = new Array(batch.length);
    let lookUp: Set<string> | undefined;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i]!;
      if (!toOpen(event)) continue;
      const names = event.data.sealed.subjects;
      const one = keySubjectOf(names);
      keyNames[i] = one;
      if (readKeys === null) continue;
      if (one === null) {
        for (const subject of names.split(" ")) (lookUp ??= new Set()).add(subject);
        continue;
      }
      const hit = cache.get(one);
      if (hit !== undefined && (hit.key === null || t - hit.at < ttl)) cached[i] = hit.key;
      else (lookUp ??= new Set()).add(one);
    }
    const found = lookUp === undefined ? NOTHING_FOUND : await keysOf(lookUp, false);
    // Per event: the index of its part in the request, or why it has none.
    const parts: Array<number | null | MissingKeyError | undefined> = new Array(batch.length);
    const request = { keys: [] as Uint8Array[], ivs: [] as string[], cts: [] as string[], aads: [] as string[] };
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i]!;
      if (!toOpen(event)) continue;
      const { subjects: names, iv, ct } = (event as RecordedEvent<SealedEnvelope>).data.sealed;
      const one = keyNames[i]!;
      let key: Opening;
      if (readKeys === null) key = null;
      else if (one === null) key = openingKey(names, found, t, null);
      else {
        const known = cached[i] !== undefined ? cached[i] : found.get(one);
        key = known === undefined ? new MissingKeyError(one) : known;
      }
      if (key === null || key instanceof MissingKeyError) {
        parts[i] = key;
        continue;
      }
      // Each part its own copy of its key (32 bytes): cheaper than finding the parts that share one.
      parts[i] = request.ivs.push(iv) - 1;
      request.keys.push(key);
      request.cts.push(ct);
      request.aads.push(associatedData(event.type, event.metadata.eventId));
    }
    const texts = request.ivs.length === 0 ? [] : worker !== undefined && request.ivs.length >= WORKER_PARTS ? await worker.open(request) : openHere(request);
    const opened: RecordedEvent[] = [];
    try {
      for (let i = 0; i < batch.length; i++) {
        const event = batch[i]!;
        const part = parts[i];
        if (toOpen(event)) opened.push(openOne(event, typeof part === "number" ? texts[part] : part instanceof MissingKeyError ? part : NO_KEY));
        else if (isSealed(event)) opened.push(event as unknown as RecordedEvent); // not of the types asked for: as kept
        else {
          // In the clear already: handed over as the log read it, unless a barcode tag is to be shown in the clear.
          const tags = openTags(event.tags, event as EventEnvelope);
          opened.push((tags === event.tags ? event : { ...event, tags }) as RecordedEvent);
        }
      }
    } catch (error) {
      return { opened, error };
    }
    return { opened };
  };

  /**
   * Opens a read a page at a time (the log's own pages when it reads in
   * pages): one key lookup per page, and the next page read while this one is
   * deciphered. A page that stopped at an event that does not open is handed
   * over up to it, then its error thrown; the log's own failure comes after the
   * pages before it. `source` is asked for the read when the first page is.
   * `types`: as `openBatch` takes them.
   */
  async function* openedPages(
    source: () => AsyncIterable<RecordedEvent<StoredEnvelope>> | Promise<AsyncIterable<RecordedEvent<StoredEnvelope>>>,
    types?: ReadonlySet<string>,
  ): AsyncGenerator<ReadonlyArray<RecordedEvent>> {
    type Ready = Awaited<ReturnType<typeof openBatch>>;
    let ahead: Promise<Ready> | undefined;
    const handOver = async function* (ready: Ready): AsyncGenerator<ReadonlyArray<RecordedEvent>> {
      yield ready.opened;
      if ("error" in ready) throw ready.error;
    };
    const pages = pagesOf(await source(), OPEN_BATCH);
    try {
      for (;;) {
        let next: IteratorResult<ReadonlyArray<RecordedEvent<StoredEnvelope>>>;
        try {
          next = await pages.next();
        } catch (error) {
          // The log stopped at an event it cannot decode: first what came before it.
          if (ahead !== undefined) yield* handOver(await ahead);
          throw error;
        }
        if (next.done === true) break;
        const job = openBatch(next.value, types);
        job.catch(() => undefined); // awaited below, in order; not an unhandled rejection meanwhile
        if (ahead !== undefined) yield* handOver(await ahead);
        ahead = job;
      }
    } finally {
      await pages.return(undefined);
    }
    if (ahead !== undefined) yield* handOver(await ahead);
  }

  const opened = (
    source: () => AsyncIterable<RecordedEvent<StoredEnvelope>> | Promise<AsyncIterable<RecordedEvent<StoredEnvelope>>>,
    types?: ReadonlySet<string>,
  ): AsyncIterableIterator<RecordedEvent> =>
    eventsOfPages(openedPages(source, types));

  /** Subjects to forget that this process could not yet tell the key store about. */
  const pending = new Set<string>();
  const forget = async (subjects: ReadonlyArray<string>): Promise<void> => {
    for (const subject of subjects) {
      remember(subject, null); // gone here at once
      pending.add(subject);
    }
    // What belongs to a forgotten subject (an account's loans and holds) is gone here at once too.
    const owners = new Set(subjects.filter((subject) => ownerOf(subject) === null));
    if (owners.size > 0)
      for (const [subject, hit] of cache) {
        const owner = ownerOf(subject);
        if (hit.key !== null && owner !== null && owners.has(owner)) remember(subject, null);
      }
    if (subjects.length > 0 && derived.size > 0) {
      // One pass over the derived keys, each name split once (a Map may be deleted from while iterated).
      const gone = new Set(subjects);
      for (const name of derived.keys()) if (name.split(" ").some((s) => gone.has(s))) derived.delete(name);
    }
    const all = [...pending];
    await keys.forget(all);
    for (const subject of all) pending.delete(subject);
  };

  return { seal, remember, opened, hashQuery, hashCondition, indexHash, forget, pending };
};

/** Stands in where no key store was given: it knows no key and makes none. */
const noKeys: KeyStore = {
  find: async () => new Map(),
  create: async () => {
    throw new Error("no key store was given: nothing can be sealed");
  },
  forget: async () => {
    throw new Error("no key store was given: nothing can be forgotten");
  },
  close: async () => undefined,
};

const NOTHING_FOUND: ReadonlyMap<string, Uint8Array | null> = new Map();

/** A sealed part whose key is forgotten, or read without keys: it reads `[erased]` or `[sealed]`. */
const NO_KEY: unique symbol = Symbol("no key");

class MissingKeyError extends Error {
  constructor(subject: string) {
    super(`no key for subject ${subject} in the key store (is this the key store that sealed these events?)`);
  }
}

/** The index secret the key store keeps, made on first use; every process of a library agrees on it. */
const indexSecretFrom = async (keys: KeyStore): Promise<Uint8Array> => {
  const found = (await keys.find([INDEX_SECRET_SUBJECT])).get(INDEX_SECRET_SUBJECT);
  if (found === null) throw new Error(`The key store's index secret (${INDEX_SECRET_SUBJECT}) was forgotten: barcodes can no longer be looked up.`);
  if (found !== undefined) return found;
  const created = (await keys.create(new Map([[INDEX_SECRET_SUBJECT, freshRandomBytes(KEY_BYTES)]]))).get(INDEX_SECRET_SUBJECT);
  if (created === undefined || created === null) throw new Error("The key store did not keep the index secret.");
  return created;
};
