/**
 * @linked-accounts/projections: the read side of linked library accounts. Three
 * read models folded from the events (who can manage whom, linked loans, the
 * audit timeline), a runner that keeps them caught up with a checkpoint, and the
 * export format the `linked-accounts` audit command line reads.
 *
 *     const graph = await accessGraphFrom(store);
 *     graph.canManage("parent-1", "child-1");     // true
 *     graph.grants();                             // [{ manager, account, linkIds }]
 */
export { type PositionedEvent, type Projection, foldEvents } from "./projection.js";
export {
  type AccessGraphState,
  type AccessView,
  type AccountInfo,
  type AsOf,
  type Explanation,
  type Grant,
  type GrantSource,
  type Refusal,
  accessAsOf,
  accessAt,
  accessGraphProjection,
  accessGraphProjectionUnder,
  accessGraphReads,
  accessNow,
  positionAtTime,
} from "./access-graph.js";
export {
  type AccountAction,
  type AccountLoans,
  type EntryAction,
  type HoldEntry,
  type LinkedLoans,
  type LoanEntry,
} from "./linked-loans.js";
export type { Role, TimelineEntry } from "./audit-timeline.js";
export {
  type AccessReport,
  type ReportAccount,
  type ReportAct,
  type ReportActionOnOther,
  type ReportActor,
  type ReportAttempt,
  type ReportHold,
  type ReportHoldChange,
  type ReportLink,
  type ReportLoan,
  type ReportPhrase,
  accessReport,
  accessReportOf,
  renderAccessReport,
} from "./access-report.js";
export { type ReadModelsState, accessOf, auditTimelineOf, linkedLoansOf, readModelsProjection, readModelsProjectionUnder } from "./read-models.js";
export {
  type CatchUpOptions,
  type CatchUpResult,
  type EventSource,
  type Runner,
  type RunnerOptions,
  CheckpointDecodeError,
  FreshnessTimeoutError,
  createRunner,
} from "./runner.js";
export { type Checkpoint, type CheckpointStore, createInMemoryCheckpointStore } from "./checkpoint.js";
// Checkpoints in SQLite or PostgreSQL have entries of their own, so that a host
// installs only the driver it uses: "@linked-accounts/projections/sqlite" and
// "@linked-accounts/projections/postgres".
export { type FieldsRead } from "./lean-lines.js";
export {
  type ExportableEvent,
  type ExportedEvent,
  type ReadExportOptions,
  type StoredExportedEvent,
  DEFAULT_MAX_LINE_BYTES,
  ExportFormatError,
  ExportIntegrityError,
  readExport,
  readExportBatches,
  sourceOf,
  writeExport,
} from "./ndjson.js";
export { type CommandLineIo, main as runCommandLine } from "./command-line.js";
export { accessGraphFrom, readModelsFrom } from "./from-store.js";
