/**
 * The demo library: a parent and her child (a minor), two adults, one member of
 * staff, and some loans and holds, so every page has something on it. Loans are
 * checked out at the desk (`recordCheckout`); holds are placed by the patron
 * (`placeHold`), as only the account itself may. Running it again on a store
 * that already has the demo accounts only refills the directory of PINs.
 */
import * as E from "fp-ts/lib/Either.js";
import type { Portal } from "./portal.js";

export const DEMO_PATRONS = {
  parent: { id: "aroha", name: "Aroha Parata", barcode: "P1000001", pin: "1111", minor: false },
  child: { id: "nikau", name: "Nikau Parata", barcode: "C1000002", pin: "2222", minor: true },
  adultA: { id: "mere", name: "Mere Walker", barcode: "A1000003", pin: "3333", minor: false },
  adultB: { id: "james", name: "James Lee", barcode: "A1000004", pin: "4444", minor: false },
} as const;
export const DEMO_STAFF = { id: "desk-1", name: "Sam at Central City", pin: "9999" } as const;

const DAY_MS = 86_400_000;

const must = async <A>(what: string, outcome: Promise<E.Either<{ code: string; message: string }, A>>): Promise<A> => {
  const result = await outcome;
  if (E.isLeft(result)) throw new Error(`Seeding failed at ${what}: ${result.left.code}: ${result.left.message}`);
  return result.right;
};

export const seedDemo = async (portal: Portal, now: number = Date.now()): Promise<{ created: boolean }> => {
  for (const p of Object.values(DEMO_PATRONS)) await portal.directory.addPatron({ id: p.id, name: p.name, barcode: p.barcode, minor: p.minor, pinPlain: p.pin });
  await portal.directory.addStaff({ id: DEMO_STAFF.id, name: DEMO_STAFF.name, pinPlain: DEMO_STAFF.pin });

  const view = await portal.fresh();
  if (view.account(DEMO_PATRONS.parent.barcode) !== undefined) return { created: false };

  const desk = portal.library.staff(DEMO_STAFF.id, { channel: "desk" });
  for (const p of Object.values(DEMO_PATRONS)) await must(`registering ${p.name}`, desk.registerAccount({ accountId: p.id, barcode: p.barcode, minor: p.minor }));

  const due = (days: number) => new Date(now + days * DAY_MS).toISOString();
  const checkouts: Array<[string, string, string, number]> = [
    [DEMO_PATRONS.child.id, "loan-wild-things", "Where the Wild Things Are", 5],
    [DEMO_PATRONS.child.id, "loan-gruffalo", "The Gruffalo", 12],
    [DEMO_PATRONS.parent.id, "loan-luminaries", "The Luminaries", 9],
    [DEMO_PATRONS.adultA.id, "loan-whale-rider", "The Whale Rider", 7],
    [DEMO_PATRONS.adultB.id, "loan-potiki", "Potiki", 10],
  ];
  for (const [accountId, loanId, title, days] of checkouts)
    await must(`checking out ${title}`, desk.recordCheckout({ accountId, loanId, itemId: `item-${loanId.slice(5)}`, title, dueAt: due(days) }));

  const holds: Array<[string, string, string, string]> = [
    [DEMO_PATRONS.child.id, "hold-hairy-maclary", "Hairy Maclary from Donaldson's Dairy", "Grey Lynn"],
    [DEMO_PATRONS.child.id, "hold-lorax", "The Lorax", "Central City"],
    [DEMO_PATRONS.adultA.id, "hold-bone-people", "The Bone People", "Ponsonby"],
  ];
  for (const [accountId, holdId, title, pickupBranch] of holds)
    await must(
      `placing a hold on ${title}`,
      portal.library.patron(accountId, { channel: "portal" }).placeHold({ holdId, itemId: `item-${holdId.slice(5)}`, title, pickupBranch }),
    );
  await portal.fresh();
  return { created: true };
};
