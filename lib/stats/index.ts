// lib/stats: Visor's mergeable statistics. Sketches (top-N by Space-Saving, distinct counts by HyperLogLog,
// quantiles), the report accumulator behind `report`, `summary`, the dashboard and `visor analyze`, and the
// window shape (with its named metrics, core's aggregate expressions) and its partial codec shared by `window`
// and `window_merge`.
export { DISTINCT_EXACT_LIMIT, DistinctCounter, PERCENTILE_RELATIVE_ERROR, QuantileSketch, TopCounter, type DistinctJSON, type QuantileJSON, type TopJSON } from './sketches.js';
export { renderReportText, ReportAccumulator, type AccumulatorFields, type ErrorLogOptions, type StatusClass, type TopItem, type TrafficFigures } from './report.js';
export { atOrAbove, bySeverity, ERROR_LOG_LEVELS, ErrorLogCounter, levelRank, MESSAGE_LEVEL_DEFAULT, SampleStore, templateOf, type ErrorLogJSON, type MessageItem } from './error-log.js';
export { messageTemplate, TEMPLATE_MAX } from './error-template.js';
export { checkMetric, compileMetric } from './metrics.js';
export { STATE_OPTION, STATE_TOP, storedState } from './stored.js';
export { compileShape, shapeSchema, StringIds, StringTable, windowTiming, type StringDelta, type BatchGroup, type BatchGroupState, type GroupState, type PartialGroup, type Shape, type ShapeOptions } from './shape.js';
export { PARTIAL_VERSION, partialHeader, partialMismatch, parsePartial, type PartialEvent, type PartialHeader } from './partial.js';
export { SharedHold } from './shared-hold.js';
export { BuilderDictionaries, type PartialSource } from './builder-dictionaries.js';
export { flag, MAX_DAYS, PANEL_LISTS, PanelAccumulator, VISITORS_EXACT_LIMIT, type PanelItem, type PanelJSON, type PanelList, type Panels } from './panels/index.js';
export { AttackCounter, attackClient, byAlerts, attackTime, evidenceLines, isAttack, SEVERITY_CLASSES, severityClass, type AttackClient, type AttackRule, type AttacksJSON, type SeverityClass } from './attacks.js';
