/**
 * Who may sign in: the portal's own directory of patrons and staff, with PINs
 * kept only as salted scrypt hashes (node:crypto). In a real library this is
 * the library management system's patron record; the linked-accounts library
 * knows accounts by id and barcode only and never sees a PIN or a name.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

export interface PinCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}
/** Interactive-login cost; tests lower it. */
export const DEFAULT_PIN_COST: PinCost = { N: 2 ** 15, r: 8, p: 1 };

interface PinHash {
  readonly salt: Buffer;
  readonly hash: Buffer;
  readonly cost: PinCost;
}

export interface Person {
  readonly id: string;
  readonly name: string;
}
export interface PatronRecord extends Person {
  readonly barcode: string;
  readonly minor: boolean;
}

const hashPin = async (pin: string, cost: PinCost, salt: Buffer = randomBytes(16)): Promise<PinHash> => ({
  salt,
  cost,
  hash: await scrypt(pin, salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r }),
});

const pinMatches = async (pin: string, stored: PinHash): Promise<boolean> =>
  timingSafeEqual(new Uint8Array((await hashPin(pin, stored.cost, stored.salt)).hash), new Uint8Array(stored.hash));

export const createDirectory = (options: { pinCost?: PinCost } = {}) => {
  const cost = options.pinCost ?? DEFAULT_PIN_COST;
  const patrons = new Map<string, PatronRecord & { pin: PinHash }>();
  const staff = new Map<string, Person & { pin: PinHash }>();
  // Compared against when no one has the barcode, so the answer takes as long either way.
  let decoy: Promise<PinHash> | undefined;
  const decoyHash = () => (decoy ??= hashPin("not a pin", cost));

  const check = async <R extends { pin: PinHash }>(record: R | undefined, pin: string): Promise<R | undefined> => {
    const ok = await pinMatches(pin, record?.pin ?? (await decoyHash()));
    return ok && record !== undefined ? record : undefined;
  };

  return {
    addPatron: async (p: PatronRecord & { pinPlain: string }) => {
      const { pinPlain, ...record } = p;
      patrons.set(p.barcode.toUpperCase(), { ...record, pin: await hashPin(pinPlain, cost) });
    },
    addStaff: async (s: Person & { pinPlain: string }) => {
      const { pinPlain, ...record } = s;
      staff.set(s.id.toLowerCase(), { ...record, pin: await hashPin(pinPlain, cost) });
    },
    /** The patron with this barcode and PIN, or undefined (the same answer for either being wrong). */
    signInPatron: async (barcode: string, pin: string): Promise<PatronRecord | undefined> => {
      const found = await check(patrons.get(barcode.trim().toUpperCase()), pin);
      if (found === undefined) return undefined;
      const { pin: _pin, ...record } = found;
      return record;
    },
    signInStaff: async (staffId: string, pin: string): Promise<Person | undefined> => {
      const found = await check(staff.get(staffId.trim().toLowerCase()), pin);
      return found === undefined ? undefined : { id: found.id, name: found.name };
    },
    patronById: (accountId: string): PatronRecord | undefined => {
      for (const p of patrons.values()) if (p.id === accountId) return { id: p.id, name: p.name, barcode: p.barcode, minor: p.minor };
      return undefined;
    },
    /** Forgets a patron's record (name, barcode, PIN hash): what the portal does once the library erased the account. */
    forgetPatron: (accountId: string): void => {
      for (const [barcode, p] of patrons) if (p.id === accountId) patrons.delete(barcode);
    },
    staffById: (id: string): Person | undefined => {
      const s = staff.get(id.toLowerCase());
      return s === undefined ? undefined : { id: s.id, name: s.name };
    },
  };
};

export type Directory = ReturnType<typeof createDirectory>;
