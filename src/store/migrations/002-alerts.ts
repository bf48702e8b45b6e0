import type { Migration } from "./migration.ts";

/**
 * Alert state, the outbox and its deliveries, silences and expected stops.
 *
 * The outbox row is written in the same transaction as the alert state change that caused it;
 * the sender later seals unbatched rows into a batch (one chat message) and creates one delivery
 * row per sink, so what was sent where survives a restart.
 */
export const alertsMigration: Migration = {
  id: 2,
  name: "alerts",
  up: `
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  dedupe_key TEXT NOT NULL,
  rule TEXT NOT NULL,
  run TEXT NOT NULL,
  phase TEXT,
  state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
  severity TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  fired_at INTEGER,
  last_notified_at INTEGER,
  resolved_at INTEGER,
  headline TEXT NOT NULL,
  finding_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX alerts_open_key ON alerts (dedupe_key) WHERE state != 'resolved';
CREATE INDEX alerts_run_state ON alerts (run, state);

CREATE TABLE alert_batches (
  id INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL,
  run TEXT,
  idempotency_key TEXT NOT NULL UNIQUE,
  message_json TEXT NOT NULL
);
CREATE INDEX alert_batches_run ON alert_batches (run, created_at);

CREATE TABLE alert_outbox (
  id INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL,
  run TEXT,
  alert_id INTEGER REFERENCES alerts (id),
  kind TEXT NOT NULL,
  message_json TEXT NOT NULL,
  batch_id INTEGER REFERENCES alert_batches (id)
);
CREATE INDEX alert_outbox_unbatched ON alert_outbox (run, id) WHERE batch_id IS NULL;

CREATE TABLE alert_deliveries (
  batch_id INTEGER NOT NULL REFERENCES alert_batches (id),
  sink TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  sent_at INTEGER,
  PRIMARY KEY (batch_id, sink)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, sink, batch_id);

CREATE TABLE alert_silences (
  id INTEGER PRIMARY KEY,
  run TEXT,
  rule TEXT,
  reason TEXT NOT NULL,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_reason TEXT
);
CREATE INDEX alert_silences_active ON alert_silences (ended_at, ends_at);

CREATE TABLE alert_expected_stops (
  run TEXT PRIMARY KEY,
  noted_at INTEGER NOT NULL,
  until INTEGER NOT NULL
);
`,
};
