/**
 * Issue 12 on SQLite: once a closed account is erased and the host has run
 * `VACUUM` and `PRAGMA wal_checkpoint(TRUNCATE)`, not one byte of its personal
 * data remains in the file or its `-wal`: not its barcode (in any case), not
 * the items and titles it borrowed or asked for, its pickup branch, a reason
 * written about it, nor its key. The file is a host's whole SQLite install: the
 * event store, its key table (`personal_keys`) and the read models' checkpoint
 * (`projection_checkpoints`), all in one file.
 *
 * Where plaintext was before the erasure: never in the events or the key table
 * (sealed from the start: checked below, before any checkpoint is written); the
 * read models' checkpoint does hold it (an access graph keeps barcodes, linked
 * loans keep titles, the audit timeline keeps each event's data), until the
 * runner catches up past the erasure.
 *
 * Left in the file by design: the erased account's loan and hold keys (useless
 * without the account's: every field of theirs is sealed under both), and the
 * keyed hash of its barcode among the tags (see the report of issue 12).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createSqliteEventStore } from "@linked-accounts/adapters/sqlite";
import { ERASED } from "@linked-accounts/domain/internal";
import { accessAsOf, accessNow } from "./access-graph.js";
import { foldEvents } from "./projection.js";
import { linkedLoansOf, readModelsProjection } from "./read-models.js";
import { createRunner } from "./runner.js";
import { createSqliteCheckpointStore } from "./sqlite-checkpoint.js";
import { PRIVACY_OFFICER, appendAsCommand, erasureStory, occurring } from "./test-support.js";

const dir = mkdtempSync(join(tmpdir(), "linked-accounts-erasure-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file and its write-ahead log, as bytes. */
const onDisk = (path: string): Buffer[] => [path, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f));

const bigints = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

describe("erasure on SQLite: not one byte remains", () => {
  it("after erasure, VACUUM and a truncating checkpoint, the file holds none of the erased patron's data or key; the control's is still there", async () => {
    const path = join(dir, "library.sqlite");
    const store = createSqliteEventStore({ path });
    const checkpoints = createSqliteCheckpointStore({ path });
    const runner = createRunner({ source: store, projection: readModelsProjection, checkpoints });
    const story = await erasureStory(store);
    const { erased, control } = story;

    // Sealed from the start: with no checkpoint written yet, neither patron's personal data is in the file in the clear.
    expect(occurring(onDisk(path), [...erased.personal, control.barcode, control.title])).toEqual([]);

    // The host's read models, checkpointed in the same file, do hold it in the clear (the search finds what is there).
    await runner.catchUp();
    expect(occurring(onDisk(path), [erased.barcode, ...erased.titles, control.barcode, control.title])).toHaveLength(erased.titles.length + 3);

    const keys = await store.keys.find([`account:${erased.accountId}`, `account:${control.accountId}`]);
    const erasedKey = keys.get(`account:${erased.accountId}`)!;
    const controlKey = keys.get(`account:${control.accountId}`)!;
    expect(erasedKey).toBeInstanceOf(Uint8Array);
    expect(controlKey).toBeInstanceOf(Uint8Array);
    expect(occurring(onDisk(path), [erasedKey, controlKey])).toHaveLength(2);

    // The erasure: one line, `story.library.staff("privacy-officer").eraseAccount({ accountId })` once the command lands.
    const erase = (accountId: string) =>
      appendAsCommand(store, { type: "AccountErased", data: { accountId, erasedAt: story.clock.now().toISOString() } }, PRIVACY_OFFICER, story.clock.now());
    await erase(erased.accountId);
    await runner.catchUp();
    await checkpoints.close();
    await store.close();

    // What a host is told to run after an erasure, with every other connection closed.
    const host = new Database(path);
    host.exec("VACUUM");
    host.pragma("wal_checkpoint(TRUNCATE)");
    host.close();

    const bytes = onDisk(path);
    expect(occurring(bytes, [...erased.personal, erasedKey])).toEqual([]);
    // The control: its key is in the file, its barcode and its title are in the checkpoint (so the search can fail).
    expect(occurring(bytes, [controlKey, control.barcode, control.title])).toHaveLength(3);

    // Reopened: the control's title opens, the erased patron's fields read [erased], and the audit still answers.
    const reopened = createSqliteEventStore({ path });
    try {
      const events = [];
      for await (const e of reopened.readAll()) events.push(e);
      const checkouts = events.flatMap((e) => (e.type === "ItemCheckedOut" ? [e.data] : []));
      expect(checkouts.filter((c) => c.accountId === control.accountId).map((c) => c.title)).toEqual([control.title]);
      expect(checkouts.filter((c) => c.accountId === erased.accountId).map((c) => [c.itemId, c.title])).toEqual([
        [ERASED, ERASED],
        [ERASED, ERASED],
      ]);
      const models = foldEvents(readModelsProjection, events);
      const graph = accessNow(models.access);
      expect(graph.account(erased.accountId)).toMatchObject({ barcode: ERASED, closed: true });
      expect(graph.account(erased.barcode)).toBeUndefined();
      expect(graph.account(control.barcode)?.accountId).toBe(control.accountId);
      // Who managed whom, and when, is intact: as of the connection the two managed each other.
      const connectedAt = events.find((e) => e.type === "AccountConnected")!.position;
      expect(accessAsOf(models.access, connectedAt).explain(control.accountId, erased.accountId)).toMatchObject({ granted: true, sources: [{ linkId: story.linkId }] });
      expect(linkedLoansOf(models, control.accountId).accounts[0]!.loans.map((l) => l.title)).toEqual([control.title]);

      // A fresh export of the log (what backups copy) holds none of it either.
      const exported: unknown[] = [];
      for await (const e of reopened.log.readAll()) exported.push(e);
      const text = Buffer.from(JSON.stringify(exported, bigints), "utf8");
      expect(occurring([text], [...erased.personal, erasedKey, Buffer.from(Buffer.from(erasedKey).toString("base64url")), Buffer.from(Buffer.from(erasedKey).toString("hex"))])).toEqual([]);
      expect(exported.length).toBe(events.length);
      // The erased key is gone from the key store, the control's is there.
      const after = await reopened.keys.find([`account:${erased.accountId}`, `account:${control.accountId}`]);
      expect(after.get(`account:${erased.accountId}`)).toBeNull();
      expect(Buffer.from(after.get(`account:${control.accountId}`)!)).toEqual(Buffer.from(controlKey));
    } finally {
      await reopened.close();
    }
  });
});
