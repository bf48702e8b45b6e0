import { monitorMigration } from "./001-monitor.ts";
import { alertsMigration } from "./002-alerts.ts";
import { phasesMigration } from "./003-phases.ts";
import { botMigration } from "./004-bot.ts";
import { noticesMigration } from "./005-notices.ts";
import { trainingStartMigration } from "./006-training-start.ts";
import { expectedStopStartMigration } from "./007-expected-stop-start.ts";
import { stepsPerEpochMigration } from "./008-steps-per-epoch.ts";
import { slurmJobsMigration } from "./009-slurm-jobs.ts";
import { sampleRollupsMigration } from "./010-sample-rollups.ts";
import { logIdentityMigration } from "./011-log-identity.ts";
import { maybeDeliveredMigration } from "./012-maybe-delivered.ts";
import { operationJournalMigration } from "./013-operation-journal.ts";
import { logMatchesMigration } from "./014-log-matches-health.ts";
import { digestQuietHoursMigration } from "./015-digest-quiet-hours.ts";
import { chartLossRollupsMigration } from "./016-chart-loss-rollups.ts";
import { compactStoreMigration } from "./017-compact-store.ts";
import type { Migration } from "./migration.ts";

/** Every migration, in the order they apply. */
export const MIGRATIONS: readonly Migration[] = [
  monitorMigration,
  alertsMigration,
  phasesMigration,
  botMigration,
  noticesMigration,
  trainingStartMigration,
  expectedStopStartMigration,
  stepsPerEpochMigration,
  slurmJobsMigration,
  sampleRollupsMigration,
  logIdentityMigration,
  maybeDeliveredMigration,
  operationJournalMigration,
  logMatchesMigration,
  digestQuietHoursMigration,
  chartLossRollupsMigration,
  compactStoreMigration,
];
