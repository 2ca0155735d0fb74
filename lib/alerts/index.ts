// What the alerting aggregates (`alert`, `detect`) share: how an event is described in an alert, and how a
// duration is written in one.
export { describeEvent, describeReads, evidenceLine, type DescribeStyle } from './describe.js';
export { formatDuration } from './duration.js';
