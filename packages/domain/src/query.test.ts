/** What a query selects, and when one selects within another (an append condition within what a command read). */
import { describe, expect, it } from "vitest";
import { type Query, matchesQuery, selectsWithin } from "./query.js";

describe("selectsWithin", () => {
  const read: Query = { items: [{ types: ["ItemReturned", "ReadingHistoryChosen", "AccountErased"] }, { tags: ["command:c1"] }] };
  it("holds for items each within one item of the other: fewer types, more tags", () => {
    expect(selectsWithin({ items: [{ types: ["ReadingHistoryChosen"] }, { tags: ["command:c1"] }] }, read)).toBe(true);
    expect(selectsWithin({ items: [{ types: ["AccountErased"], tags: ["account:a"] }] }, read)).toBe(true);
    expect(selectsWithin({ items: [{ types: ["ItemReturned"], tags: ["command:c1", "loan:l"] }] }, read)).toBe(true);
    expect(selectsWithin({ items: [] }, read)).toBe(true);
    expect(selectsWithin(read, read)).toBe(true);
  });
  it("fails for an item that selects something the other does not", () => {
    expect(selectsWithin({ items: [{ types: ["ItemCheckedOut"] }] }, read)).toBe(false);
    expect(selectsWithin({ items: [{ types: ["ItemReturned", "ItemCheckedOut"] }] }, read)).toBe(false);
    expect(selectsWithin({ items: [{ tags: ["account:a"] }] }, read)).toBe(false);
    expect(selectsWithin({ items: [{}] }, read)).toBe(false);
    expect(selectsWithin({ items: [{ tags: ["command:c2"] }] }, read)).toBe(false);
    expect(matchesQuery(read, { type: "ItemCheckedOut", tags: ["command:c2"] })).toBe(false);
  });
  it("everything selects within everything, and nothing within a query of no items but nothing", () => {
    expect(selectsWithin({ items: [{}] }, { items: [{}] })).toBe(true);
    expect(selectsWithin({ items: [{ types: ["AccountErased"] }] }, { items: [] })).toBe(false);
  });
});
