/**
 * The host API, scoped to who is acting. The host authenticates a patron, a
 * member of staff or its own processes, then asks for that actor's view of the
 * library: `patron(accountId)`, `staff(staffId)` or `system()`. Each offers
 * only the commands that actor may send, with typed inputs (decoded again at
 * run time: unknown fields are refused, never dropped). The library never reads
 * an actor from a request.
 */
import * as E from "fp-ts/lib/Either.js";
import type * as t from "io-ts";
import {
  type Action,
  type ActorKind,
  type Authority,
  type Channel,
  type CommandDeclaration,
  type Declarations,
  type DomainError,
  Id,
  type Policy,
  authorize,
  accountFacts,
  authorityOver,
  canManage,
  linksBetween,
  linksOf,
  declarations,
  defaultPolicy,
} from "@linked-accounts/domain/internal";
import { type Clock, systemClock } from "./clock.js";
import { type Accepted, type CommandFailure, type RetryPolicy, createCommandHandler, defaultRetry } from "./command-handler.js";
import type { EventStore } from "./event-store.js";
import type { SealingEventStore } from "./personal-data.js";
import { type Ids, uuidV7Ids } from "./ids.js";
import { type SharePhrases, scryptSharePhrases } from "./share-phrases.js";

export interface LinkedAccountsOptions {
  readonly store: EventStore;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: UUID v7. */
  readonly ids?: Ids;
  /** Default: nanoid phrases verified by scrypt at OWASP's cost (tests may lower it). */
  readonly phrases?: SharePhrases;
  /** Default: the rulebook's numbers (`makePolicy` tunes them). */
  readonly policy?: Policy;
  /** Default: decided again up to 10 times after a conflict, with jittered back-off. */
  readonly retry?: Partial<RetryPolicy>;
}

export interface ScopeOptions {
  /** Which way the command came in, recorded in every event (default: portal for patrons, desk for staff, system). */
  readonly channel?: Channel;
}

type AnyOf<D> = D extends CommandDeclaration<infer _T, infer A, infer I, infer _C, infer R> ? { actors: A; input: I; result: R } : never;
type PhraseShown<D> = D extends { readonly issuesPhrase: true } ? { readonly phrase: string } : unknown;

/** What a command method resolves to. */
export type Outcome<A> = Promise<E.Either<CommandFailure, A>>;

/** The command methods an actor of kind `K` may call, derived from the declarations. */
export type CommandMethods<K extends ActorKind> = {
  readonly [M in keyof Declarations as K extends AnyOf<Declarations[M]>["actors"] ? M : never]: (
    input: AnyOf<Declarations[M]>["input"],
  ) => Outcome<Accepted & AnyOf<Declarations[M]>["result"] & PhraseShown<Declarations[M]>>;
};

/** One account this patron is linked to, as the store says now. */
export interface Connection {
  readonly accountId: string;
  /** The active links between the two: revoking all of them removes the connection (R11). */
  readonly linkIds: ReadonlyArray<string>;
  /** Whether this patron may manage that account now, and that account this patron (R1 to R4, R12). */
  readonly youManage: boolean;
  readonly managesYou: boolean;
}

/** A patron's view: its commands, and authoritative answers read from the store (never a lagging read model, R13). */
export type Patron = CommandMethods<"account"> & {
  readonly accountId: string;
  /** Every account linked to this patron by an active link, with the grants in force each way. */
  connections(): Promise<ReadonlyArray<Connection>>;
  /** May this patron manage `accountId` now (R1)? */
  canManage(accountId: string): Promise<boolean>;
  /** May this patron do `action` to `accountId` now, and under whose authority? */
  authorize(action: Action, accountId: string): Promise<E.Either<DomainError, Authority>>;
};
export type Staff = CommandMethods<"staff"> & { readonly staffId: string };
export type LibrarySystem = CommandMethods<"system">;

export interface LinkedAccounts {
  /** The patron the host authenticated (its own login: barcode and PIN, single sign-on…). */
  patron(accountId: string, options?: ScopeOptions): Patron;
  /** The member of staff the host authenticated. */
  staff(staffId: string, options?: ScopeOptions): Staff;
  /** The host's own processes: registration, returns from the ILS, fulfilled holds. */
  system(options?: ScopeOptions): LibrarySystem;
}

const checkedId = (what: string, id: unknown): string => {
  if (!Id.is(id)) throw new TypeError(`${what}: expected an id (1 to 64 of A-Z a-z 0-9 _ -)`);
  return id;
};

/** Every store this package makes seals personal data; a host's own store may not. */
const isSealing = (store: EventStore): store is SealingEventStore =>
  typeof (store as Partial<SealingEventStore>).indexHash === "function" && "log" in store;

export const createLinkedAccounts = (options: LinkedAccountsOptions): LinkedAccounts => {
  const policy = options.policy ?? defaultPolicy;
  const clock = options.clock ?? systemClock;
  const handler = createCommandHandler({
    store: options.store,
    clock,
    ids: options.ids ?? uuidV7Ids,
    phrases: options.phrases ?? scryptSharePhrases(),
    policy,
    retry: { ...defaultRetry, ...options.retry },
    ...(isSealing(options.store) ? { indexHash: (value: string) => (options.store as SealingEventStore).indexHash(value) } : {}),
  });

  const methodsFor = (kind: ActorKind, actor: Parameters<typeof handler.run>[1], channel: Channel) =>
    Object.fromEntries(
      Object.values(declarations)
        .filter((d) => (d.actors as ReadonlyArray<ActorKind>).includes(kind))
        .map((d) => [d.method, (input: unknown) => handler.run(d, actor, channel, input)]),
    );

  return {
    patron: (accountId, scope) => {
      const actor = { kind: "account", accountId: checkedId("patron", accountId) } as const;
      const authorityOn = async (target: string) => {
        const state = await handler.stateOf({ items: authorityOver(actor, target) });
        return state.linking;
      };
      const connections = async (): Promise<ReadonlyArray<Connection>> => {
        const own = await handler.stateOf({ items: [linksOf(accountId), accountFacts(accountId)] });
        const others = new Set<string>();
        for (const link of own.linking.links.values())
          if (!link.revoked) others.add(link.issuerAccountId === accountId ? link.connectedAccountId : link.issuerAccountId);
        if (others.size === 0) return [];
        // The counterparts' own facts (minor, closed) decide which grants are in force.
        const state = await handler.stateOf({ items: [...others].map(accountFacts) }, own);
        return [...others].sort().map((other) => ({
          accountId: other,
          linkIds: linksBetween(state.linking, accountId, other),
          youManage: canManage(state.linking, accountId, other, policy, clock.now().getTime()),
          managesYou: canManage(state.linking, other, accountId, policy, clock.now().getTime()),
        }));
      };
      return {
        ...(methodsFor("account", actor, scope?.channel ?? "portal") as CommandMethods<"account">),
        accountId,
        connections,
        // Answered by the rulebook the commands use: this policy, at this clock's now (R4 may depend on the time).
        canManage: async (target) => Id.is(target) && canManage(await authorityOn(target), accountId, target, policy, clock.now().getTime()),
        authorize: async (action, target) =>
          Id.is(target)
            ? authorize(actor, action, target, await authorityOn(target), policy, clock.now().getTime())
            : E.left({ code: "account-not-found", message: "That is not an account id." }),
      };
    },
    staff: (staffId, scope) => ({
      ...(methodsFor("staff", { kind: "staff", staffId: checkedId("staff", staffId) }, scope?.channel ?? "desk") as CommandMethods<"staff">),
      staffId,
    }),
    system: (scope) => methodsFor("system", { kind: "system" }, scope?.channel ?? "system") as LibrarySystem,
  };
};

export type { Accepted, CommandFailure, RetryPolicy };
export type InputOf<M extends keyof Declarations> = t.TypeOf<Declarations[M]["input"]>;
