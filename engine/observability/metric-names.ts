/**
 * The names of the metrics `/metrics` exports, in Prometheus text. Dashboards and alerts rely on
 * them: rename one only with a changelog entry. Histograms also export `_bucket`, `_sum` and
 * `_count` series; the Node.js process metrics carry the `sluice_` prefix too.
 */
export const MetricNames = {
  recordsConsumed: 'sluice_records_consumed_total',
  recordsProduced: 'sluice_records_produced_total',
  recordsProcessed: 'sluice_records_processed_total',
  processRate: 'sluice_process_rate',
  commits: 'sluice_commits_total',
  commitLatency: 'sluice_commit_latency_seconds',
  rewinds: 'sluice_rewinds_total',
  consumerLag: 'sluice_consumer_lag',
  restoredRecords: 'sluice_restored_records_total',
  restoreRemaining: 'sluice_restore_remaining_records',
  deadLetterRecords: 'sluice_dead_letter_records_total',
  skippedRecords: 'sluice_skipped_records_total',
  lateRecords: 'sluice_late_records_total',
  droppedRecords: 'sluice_dropped_records_total',
  nodeRecords: 'sluice_node_records_total',
  nodeErrors: 'sluice_node_errors_total',
  asyncInFlight: 'sluice_async_in_flight',
  asyncCalls: 'sluice_async_calls_total',
  asyncRetries: 'sluice_async_retries_total',
  asyncTimeouts: 'sluice_async_timeouts_total',
  asyncFailures: 'sluice_async_failures_total',
  asyncCallDuration: 'sluice_async_call_duration_seconds',
  storeSize: 'sluice_store_size_bytes',
  tasks: 'sluice_tasks',
  standbyLag: 'sluice_standby_lag',
  applicationState: 'sluice_application_state',
  httpRequests: 'sluice_http_requests_total',
  httpDuration: 'sluice_http_request_duration_seconds',
} as const;

/** Prefix of the Node.js process metrics (`sluice_process_resident_memory_bytes`, ...). */
export const PROCESS_METRICS_PREFIX = 'sluice_';
