/**
 * Personal data at rest (crypto-shredding). A store seals each event's personal
 * fields (the domain's `personalFields`: a barcode, what was borrowed or asked
 * for, a pickup branch, a revocation reason) before its log keeps them, and
 * opens them on the way out:
 *
 * - sealed: AES-256-GCM under a key derived (HKDF-SHA-256) from the keys of
 *   all the field's subjects (the account, and the loan or hold), with a fresh
 *   96-bit nonce per event and the event's type and id as associated data, so a
 *   sealed part cannot be moved to another event unnoticed;
 * - erased: once any of those subjects' keys is forgotten, the fields read
 *   `[erased]`, here and in every copy of the log (exports carry the sealed
 *   form), while every other field, the order and the tags stay;
 * - found without the plain value: a barcode is tagged by its keyed hash
 *   (HMAC-SHA-256 under the library's index secret), never by itself; a query
 *   for `barcode:X` is rewritten to the hash (and, for events written before
 *   sealing, to the plain tag too). The command handler keys the digest of a
 *   command's identity (which may hold a barcode) with `indexHash` as well.
 *
 * Everything a host, a command or a read model sees is the event in the clear:
 * this layer is the only code that touches ciphertext. The log underneath
 * (`log`) speaks the sealed form: what exports and backups copy.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
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
  type EventLog,
  type EventStore,
  InvalidEventError,
  type NewEvent,
  type ReadOptions,
  type RecordedEvent,
  StoredEventDecodeError,
} from "./event-store.js";
import { KEY_BYTES, type KeyStore } from "./key-store.js";
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
}

/** The subject whose key `library:` secrets are kept under. */
const INDEX_SECRET_SUBJECT = "library:index-secret";
/** How stored barcode tags are spelt: never the barcode, always its keyed hash. */
const HASHED_BARCODE = "barcode-hmac:";
const BARCODE = "barcode:";
const HKDF_INFO = "linked-accounts personal data v1\n";
/** How many events are opened per key lookup on a read. */
const OPEN_BATCH = 500;
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

/** The subjects a stored erasure or retention event says are forgotten. */
const forgottenBy = (event: DomainEvent): string | null => {
  switch (event.type) {
    case "AccountErased":
      return `account:${event.data.accountId}`;
    case "LoanDetailsForgotten":
      return `loan:${event.data.loanId}`;
    case "HoldDetailsForgotten":
      return `hold:${event.data.holdId}`;
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
 * Opens events as a log keeps them (an export's lines, a log read directly):
 * with the key store that sealed them, personal fields read as written (or
 * `[erased]`); without one, they read `[sealed]`.
 */
export const openStoredEvents = (
  events: AsyncIterable<RecordedEvent<StoredEnvelope>>,
  keys: KeyStore | null,
  options: Omit<PersonalDataOptions, "keys"> = {},
): AsyncIterable<RecordedEvent> => sealer(keys, options).opened(events);

/**
 * Wraps a log (the sealed form) into the store hosts use. `ownsKeys`: close
 * the key store with the store.
 */
export const sealingStore = (
  log: EventLog,
  keys: KeyStore,
  options: Omit<PersonalDataOptions, "keys"> & { readonly ownsKeys: boolean; readonly now?: () => number },
): SealingEventStore => {
  const { seal, opened, hashQuery, hashCondition, indexHash, forget, pending } = sealer(keys, options);

  async function* readHashed(query: Query, readOptions: ReadOptions | undefined): AsyncGenerator<RecordedEvent<StoredEnvelope>> {
    yield* log.read(await hashQuery(query), readOptions);
  }

  const store: SealingEventStore = {
    log,
    keys,
    indexHash,
    async append(events, condition) {
      let sealed: Array<NewEvent<StoredEnvelope>>;
      try {
        sealed = await seal(events);
      } catch (error) {
        // Before the log was asked: nothing was appended (a key store that failed, or refused to make a key).
        if (error instanceof InvalidEventError || error instanceof RangeError) throw error;
        throw new AppendFailedError("not-appended", error);
      }
      const result = await log.append(sealed, await hashCondition(condition));
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
    read: (query, readOptions) => opened(readHashed(query, readOptions)),
    readAll: (readOptions) => opened(log.readAll(readOptions)),
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

  /** The keys of `subjects`: from this process's cache while fresh, else one lookup (and one create when asked). */
  const keysOf = async (subjects: ReadonlySet<string>, create: boolean): Promise<Map<string, Uint8Array | null>> => {
    const out = new Map<string, Uint8Array | null>();
    const missing: string[] = [];
    const t = now();
    for (const subject of subjects) {
      const hit = cache.get(subject);
      if (hit !== undefined && (hit.key === null || t - hit.at < ttl)) out.set(subject, hit.key);
      else missing.push(subject);
    }
    if (missing.length === 0) return out;
    const found = await keys.find(missing);
    const toCreate = new Map<string, Uint8Array>();
    for (const subject of missing) {
      const key = found.get(subject);
      if (key !== undefined) {
        remember(subject, key);
        out.set(subject, key);
      } else if (create) toCreate.set(subject, randomBytes(KEY_BYTES));
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

  /**
   * The key sealing a field of these subjects (`name`: their names joined by
   * spaces, as a sealed part keeps them), or null when any of them is forgotten.
   */
  const sealingKey = (subjects: ReadonlyArray<string>, name: string, found: ReadonlyMap<string, Uint8Array | null>, t: number): Buffer | null => {
    const parts: Uint8Array[] = [];
    for (const subject of subjects) {
      const key = found.get(subject);
      if (key === null) return null;
      if (key === undefined) throw new MissingKeyError(subject);
      parts.push(key);
    }
    const hit = derived.get(name);
    if (hit !== undefined && t - hit.at < ttl) return hit.key;
    const key = sealingKeyOf(parts, name);
    if (derived.size >= CACHE_LIMIT) derived.clear();
    derived.set(name, { key, at: t });
    return key;
  };

  const associatedData = (type: string, eventId: string): Buffer => Buffer.from(`${type}\n${eventId}`, "utf8");

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

  const seal = async (events: ReadonlyArray<NewEvent>): Promise<Array<NewEvent<StoredEnvelope>>> => {
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
    for (const { part } of checked) if (part !== null) for (const subject of part.subjects) subjects.add(subject);
    const found = subjects.size === 0 ? new Map<string, Uint8Array | null>() : await keysOf(subjects, true);
    const tagged = checked.some(({ tags }) => tags.some((tag) => tag.startsWith(BARCODE)));
    const key = tagged ? await indexSecret() : null;
    const t = now();
    return checked.map(({ envelope, tags, part }, index) => {
      const stored = key === null ? tags : hashTags(key, tags);
      if (part === null) return { ...envelope, tags: stored } as NewEvent<StoredEnvelope>;
      // A subject already erased (a staff revocation of an erased account's link,
      // say): the fields are born erased, sealed under a key made here and kept
      // nowhere, so the event is stored and its personal fields read [erased].
      const sealing = sealingKey(part.subjects, part.subjects.join(" "), found, t) ?? randomBytes(32);
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", sealing, iv);
      cipher.setAAD(associatedData(envelope.type, envelope.metadata.eventId));
      const ct = Buffer.concat([cipher.update(JSON.stringify(part.values), "utf8"), cipher.final(), cipher.getAuthTag()]);
      const data = { ...withoutPersonalFields(envelope), sealed: { subjects: part.subjects.join(" "), iv: b64(iv), ct: b64(ct) } };
      return { type: envelope.type, data, metadata: envelope.metadata, tags: stored } as NewEvent<StoredEnvelope>;
    });
  };

  /** The tags a host sees: the barcode in the clear again (from the opened event), hashes dropped. */
  const openTags = (tags: ReadonlyArray<Tag>, event: EventEnvelope): ReadonlyArray<Tag> => {
    if (!tags.some((tag) => tag.startsWith(HASHED_BARCODE))) return tags;
    const out = tags.filter((tag) => !tag.startsWith(HASHED_BARCODE));
    if (event.type === "AccountRegistered" && event.data.barcode !== ERASED) out.push(BARCODE + canonicalBarcode(event.data.barcode));
    return out;
  };

  /** The key opening a sealed part of these subjects: null when one is forgotten (or no keys were given), the error when one has no key. */
  type Opening = Buffer | null | MissingKeyError;
  const openingKey = (subjects: string, found: ReadonlyMap<string, Uint8Array | null>, t: number): Opening => {
    if (readKeys === null) return null;
    try {
      return sealingKey(subjects.split(" "), subjects, found, t);
    } catch (error) {
      if (error instanceof MissingKeyError) return error;
      throw error;
    }
  };

  const openOne = (event: RecordedEvent<SealedEnvelope>, key: Opening): RecordedEvent => {
    const { iv, ct } = event.data.sealed;
    const fail = (reason: string): never => {
      throw new StoredEventDecodeError(event.position, event.type, `data.sealed: ${reason}`);
    };
    if (key instanceof MissingKeyError) return fail(key.message);
    let values: Record<string, unknown> | Withheld = readKeys === null ? SEALED : ERASED;
    if (key !== null) {
      const bytes = Buffer.from(ct, "base64url");
      if (bytes.length < 17) return fail("too short to hold a sealed value");
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
        decipher.setAAD(associatedData(event.type, event.metadata.eventId));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        // GCM hands every byte over on update; final only checks the tag.
        const opened = decipher.update(bytes.subarray(0, bytes.length - 16));
        decipher.final();
        const plain = opened.toString("utf8");
        const parsed: unknown = JSON.parse(plain);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return fail("opened to something other than an object");
        values = parsed as Record<string, unknown>;
      } catch (error) {
        if (error instanceof StoredEventDecodeError) throw error;
        return fail("does not open under its subjects' keys (altered, or sealed for another event)");
      }
    }
    const opened = openSealed(event, values);
    if (E.isLeft(opened)) return fail(`opened to an event the catalog refuses: ${opened.left.message}`);
    const { type, data, metadata } = opened.right;
    return { type, data, metadata, tags: openTags(event.tags, opened.right), position: event.position } as RecordedEvent;
  };

  /**
   * Opens a batch: one key lookup for every sealed event in it. The events
   * before one that does not open are handed over first, so a read stops at the
   * bad event exactly as the log's own reads do.
   */
  const openBatch = async (batch: ReadonlyArray<RecordedEvent<StoredEnvelope>>): Promise<{ opened: RecordedEvent[]; error?: unknown }> => {
    const subjects = new Set<string>();
    for (const event of batch) if (isSealed(event)) for (const subject of event.data.sealed.subjects.split(" ")) subjects.add(subject);
    const found = subjects.size === 0 || readKeys === null ? new Map<string, Uint8Array | null>() : await keysOf(subjects, false);
    const opened: RecordedEvent[] = [];
    const t = now();
    try {
      for (const event of batch)
        opened.push(
          isSealed(event)
            ? openOne(event as RecordedEvent<SealedEnvelope>, openingKey((event as RecordedEvent<SealedEnvelope>).data.sealed.subjects, found, t))
            : ({ ...event, tags: openTags(event.tags, event as EventEnvelope) } as RecordedEvent),
        );
    } catch (error) {
      return { opened, error };
    }
    return { opened };
  };

  async function* opened(source: AsyncIterable<RecordedEvent<StoredEnvelope>>): AsyncGenerator<RecordedEvent> {
    let batch: Array<RecordedEvent<StoredEnvelope>> = [];
    const flush = async function* (): AsyncGenerator<RecordedEvent> {
      const ready = await openBatch(batch);
      batch = [];
      yield* ready.opened;
      if ("error" in ready) throw ready.error;
    };
    try {
      for await (const event of source) {
        batch.push(event);
        if (batch.length >= OPEN_BATCH) yield* flush();
      }
    } catch (error) {
      // The log stopped at an event it cannot decode: first what came before it.
      yield* flush();
      throw error;
    }
    if (batch.length > 0) yield* flush();
  }

  /** Subjects to forget that this process could not yet tell the key store about. */
  const pending = new Set<string>();
  const forget = async (subjects: ReadonlyArray<string>): Promise<void> => {
    for (const subject of subjects) {
      remember(subject, null); // gone here at once
      pending.add(subject);
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

  return { seal, opened, hashQuery, hashCondition, indexHash, forget, pending };
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
  const created = (await keys.create(new Map([[INDEX_SECRET_SUBJECT, randomBytes(KEY_BYTES)]]))).get(INDEX_SECRET_SUBJECT);
  if (created === undefined || created === null) throw new Error("The key store did not keep the index secret.");
  return created;
};
