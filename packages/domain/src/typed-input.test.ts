/**
 * R7, what a person types is taken as they meant it: barcodes have one canonical
 * form, and a phrase is checked whatever its typography. Properties first, then
 * given/when/then for registering and connecting.
 */
import * as E from "fp-ts/lib/Either.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalBarcode } from "./barcode.js";
import { BarcodeAsTyped, decodeWith } from "./codec.js";
import { RegisterAccount } from "./commands/register-account.js";
import type { DomainEvent } from "./events.js";
import { PHRASE_ALPHABET, formatPhrase, normalisePhrase } from "./phrase.js";
import { phrasePlaintext } from "./testing/arbitraries.js";
import { given } from "./testing/scenario.js";
import { asStaff, barcodeOf, command, connectAttempt, phraseIssued, plaintextOf, registered } from "./testing/fixtures.js";

const numRuns = Number(process.env.FC_RUNS ?? 1000);

/** Dashes people and word processors put in: hyphen-minus, U+2010 to U+2015 (the non-breaking hyphen among them), minus, small and full-width hyphen-minus. */
const DASHES = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\uFE63", "\uFF0D"];
/** Spaces of every width and line breaks. */
const SPACES = [" ", "\t", "\n", "\r\n", "\u00A0", "\u2002", "\u2009", "\u202F", "\u3000"];
/** What no one sees: soft hyphen, zero-width space and joiners, word joiner, direction marks, byte-order mark. */
const INVISIBLE = ["\u00AD", "\u200B", "\u200C", "\u200D", "\u2060", "\u200E", "\u200F", "\uFEFF"];

/** A letter or digit as it may arrive: either case, full width, or a mathematical letter NFKC folds back. */
const lookalike = (c: string): fc.Arbitrary<string> =>
  fc.constantFrom(
    c,
    c.toUpperCase(),
    String.fromCodePoint(c.codePointAt(0)! + 0xfee0), // full width: a → ａ, 7 → ７
    String.fromCodePoint(c.toUpperCase().codePointAt(0)! + 0xfee0),
    /[a-z]/.test(c) ? String.fromCodePoint(0x1d41a + c.charCodeAt(0) - 97) : String.fromCodePoint(0x1d7ce + c.charCodeAt(0) - 48), // bold
  );
const noise = (kinds: ReadonlyArray<ReadonlyArray<string>>) => fc.array(fc.constantFrom(...kinds.flat()), { maxLength: 3 }).map((xs) => xs.join(""));

/** `plain` as a person might type or paste it: each character in some form, anything ignorable around it. */
const typedAs = (plain: string, between: ReadonlyArray<ReadonlyArray<string>>) =>
  fc
    .tuple(...[...plain].map((c) => fc.tuple(noise(between), lookalike(c.toLowerCase()))), noise(between))
    .map((parts) => parts.flat().join(""));

describe("R7 properties of the normal forms", () => {
  it("every typographic variant of a phrase (dashes, spaces, invisible characters, case, full-width and bold letters) normalises to the phrase", () => {
    fc.assert(
      fc.property(
        phrasePlaintext().chain((p) => fc.tuple(fc.constant(p), typedAs(p, [DASHES, SPACES, INVISIBLE]))),
        ([phrase, typed]) => {
          expect(normalisePhrase(typed)).toBe(phrase);
        },
      ),
      { numRuns },
    );
  });

  it("on ASCII the phrase rule is the one verifiers were made with (spaces and dashes out, lower case), so stored verifiers still match", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((n) => String.fromCharCode(n)), maxLength: 40 }), (s) => {
        expect(normalisePhrase(s)).toBe(s.replace(/[\s-]+/g, "").toLowerCase());
      }),
      { numRuns },
    );
  });

  it("every case, space and invisible-character variant of a barcode canonicalises to the same barcode", () => {
    const canonical = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), minLength: 5, maxLength: 20 });
    fc.assert(
      fc.property(
        canonical.chain((b) => fc.tuple(fc.constant(b), typedAs(b, [SPACES, INVISIBLE]), typedAs(b, [SPACES, INVISIBLE]))),
        ([barcode, one, other]) => {
          expect(canonicalBarcode(one)).toBe(barcode);
          expect(canonicalBarcode(one)).toBe(canonicalBarcode(other));
        },
      ),
      { numRuns },
    );
  });

  it("normalising twice gives what normalising once gave, for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 30 }), (s) => {
        expect(normalisePhrase(normalisePhrase(s))).toBe(normalisePhrase(s));
        expect(canonicalBarcode(canonicalBarcode(s))).toBe(canonicalBarcode(s));
      }),
      { numRuns },
    );
  });

  it("the normal forms keep what matters: different phrases, and barcodes differing in more than case and spacing, stay different", () => {
    fc.assert(
      fc.property(phrasePlaintext(), phrasePlaintext(), (a, b) => {
        expect(normalisePhrase(formatPhrase(a)) === normalisePhrase(formatPhrase(b))).toBe(a === b);
      }),
      { numRuns },
    );
    expect(canonicalBarcode("P1234567")).not.toBe(canonicalBarcode("P1234568"));
    expect(canonicalBarcode("P-1234567")).toBe("P-1234567"); // a dash is not ignored in a barcode: it is not one
    expect(normalisePhrase(PHRASE_ALPHABET.toUpperCase())).toBe(PHRASE_ALPHABET);
  });

  it.each([
    ["an en dash", "k7qm\u2013x3fa\u20139tbe\u2013hw"],
    ["a non-breaking hyphen", "k7qm\u2011x3fa\u20119tbe\u2011hw"],
    ["a soft hyphen", "k7qm\u00ADx3fa\u00AD9tbe\u00ADhw"],
    ["a zero-width space", "k7qm\u200Bx3fa\u200B9tbe\u200Bhw"],
    ["full-width letters", "ｋ７ｑｍ－ｘ３ｆａ－９ｔｂｅ－ｈｗ"],
    ["a trailing newline and no-break spaces", "K7QM\u00A0X3FA\u00A09TBE\u00A0HW\n"],
  ])("a phrase pasted with %s reads as typed plainly", (_, typed) => {
    expect(normalisePhrase(typed)).toBe("k7qmx3fa9tbehw");
  });
});

describe("R7 barcodes: one canonical form for registering, lookup and uniqueness", () => {
  const registerAs = (accountId: string, barcode: string) =>
    command("RegisterAccount", asStaff, { accountId, barcode, minor: false });

  it("given nothing, when staff register ` p 1234567 `, then the account is registered with barcode P1234567", () => {
    const g = given([]);
    expect(g.when(registerAs("aroha", " p 1234567\u200B")).events).toEqual([
      { type: "AccountRegistered", data: { accountId: "aroha", barcode: "P1234567", minor: false, registeredAt: expect.any(String) } },
    ]);
  });

  it("given P1234567 registered, when another account is registered as p1234567 or ＰＩ２３４５６７-like variants, then the barcode is taken", () => {
    const g = given([{ type: "AccountRegistered", data: { accountId: "aroha", barcode: "P1234567", minor: false, registeredAt: "2026-03-02T09:00:00.000Z" } }]);
    for (const typed of ["p1234567", " P1234567 ", "P 123 4567", "Ｐ１２３４５６７"])
      expect(g.when(registerAs("mere", typed)).error).toBe("barcode-taken");
  });

  it("the registration command decodes a typed barcode to its canonical form, and refuses one that is not a barcode, naming the field", () => {
    const decode = decodeWith(RegisterAccount, "RegisterAccount");
    const base = { type: "RegisterAccount", commandId: "c1", actor: asStaff, now: "2026-03-02T09:00:00.000Z", accountId: "aroha", minor: false };
    expect(decode({ ...base, barcode: "\tp1234567 " })).toEqual(E.right({ ...base, barcode: "P1234567" }));
    const refused = decode({ ...base, barcode: "P-1234567" });
    expect(E.isLeft(refused) && refused.left.message).toMatch(/^RegisterAccount\.barcode: expected Barcode \(5 to 20 of A-Z 0-9; case, spaces and invisible characters ignored\), got "P-1234567"$/);
    expect(BarcodeAsTyped.is("P1234567")).toBe(true);
    expect(BarcodeAsTyped.is("p1234567")).toBe(false);
  });

  it("given alice with a phrase, when bob types her barcode in lower case with spaces and invisible characters, then he connects", () => {
    const g = given([registered("alice"), registered("bob"), phraseIssued("P1", "alice", "one-way")]);
    const typed = ` ${barcodeOf("alice").toLowerCase().split("").join("\u200B")} `;
    expect(g.when(connectAttempt(g.state, "bob", typed, plaintextOf("P1"), 1)).events.map((e) => e.type)).toEqual(["AccountConnected"]);
  });

  it("an account an earlier release registered with a lower-case barcode is found by its canonical form", () => {
    const g = given([registered("alice"), registered("bob"), phraseIssued("P1", "alice", "one-way")]);
    expect(barcodeOf("alice")).toMatch(/[a-z]/); // the fixtures register lower case, as an earlier release could
    const upper = canonicalBarcode(barcodeOf("alice"));
    expect(g.when(connectAttempt(g.state, "bob", upper, plaintextOf("P1"), 1)).events.map((e) => e.type)).toEqual(["AccountConnected"]);
  });

  it("a failed attempt on a registered barcode records it in its canonical form, whatever was typed around it", () => {
    const g = given([registered("alice"), registered("bob"), phraseIssued("P1", "alice", "one-way")]);
    const o = g.when(connectAttempt(g.state, "bob", `\u00A0${barcodeOf("alice")}\u200B`, "wrong", 1));
    expect(o.events).toMatchObject([{ type: "ConnectionAttemptFailed", data: { reason: "phrase-mismatch", attemptedBarcode: canonicalBarcode(barcodeOf("alice")) } }]);
  });
});

describe("R7 phrases: a pasted phrase never fails for its typography", () => {
  it("given alice's phrase, when bob pastes it five times with an en dash, a non-breaking hyphen, a soft hyphen, a zero-width space and full-width letters, then each connects and none counts towards a lockout", () => {
    const phrase = formatPhrase(plaintextOf("P1"));
    const fullWidth = [...phrase].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join("");
    const pastes = [
      phrase.replaceAll("-", "\u2013"),
      phrase.replaceAll("-", "\u2011"),
      phrase.replaceAll("-", "\u00AD"),
      phrase.replaceAll("-", "\u200B"),
      fullWidth,
    ];
    pastes.forEach((typed, i) => {
      const g = given([registered("alice"), registered("bob"), phraseIssued("P1", "alice", "two-way")]);
      const o = g.when(connectAttempt(g.state, "bob", barcodeOf("alice"), typed, 1 + i));
      expect(o.events.map((e) => e.type), `paste ${i + 1}`).toEqual(["AccountConnected"]);
    });
    // And one after another: the first connects, the rest have nothing to add; nothing fails.
    const history: DomainEvent[] = [registered("alice"), registered("bob"), phraseIssued("P1", "alice", "two-way")];
    const decided: string[] = [];
    pastes.forEach((typed, i) => {
      const g = given(history);
      const o = g.when(connectAttempt(g.state, "bob", barcodeOf("alice"), typed, 1 + i));
      history.push(...o.events);
      decided.push(...o.events.map((e) => e.type));
    });
    expect(decided).toEqual(["AccountConnected"]);
  });
});
