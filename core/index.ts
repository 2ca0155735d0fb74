// The public API for plugin authors and embedders: `import { definePlugin, type Event } from 'visor'`.
export * from './api.js';
export type { ComponentConfig, Diagnostic, PipelineConfig } from './config/model.js';
export { formatDiagnostic, ConfigError } from './config/model.js';
export { EncodedLines, type LinesData } from './encoded-lines.js';
export { LineSplitter, cutToBytes, type LongLinePolicy, type LineSplitterOptions } from './lines.js';
export { contentId, CONTENT_ID_BYTES } from './content-id.js';
export {
  compileCondition, compileConditionEvaluator, compileConditionTree, compileExpression, compileThreshold, validateExpression, ExpressionError, functionNames,
  parseCondition, constantValue, childrenOf, fieldPaths, type Node as ExpressionNode, type Literal, type ComparisonOperator,
  fieldReader, getField, hasField, setField, removeField, splitFieldPath,
  aggregateComparisonFields, aggregateFields, compileAggregate, compileAggregateComparison, isAggregateComparison, accumulate, mergeAccState, newAccState,
  type Condition, type Expression, type Threshold, type Evaluate as ExpressionEvaluate, type Wrap as ExpressionWrap,
  type Accumulator, type AccState, type AggregateComparison, type AggregateExpression,
} from './expr/index.js';
export { parseTimeZone, formatOffset, timezoneSchema, type TimeZone } from './timezone.js';
export { AckedOffsets } from './acked-offsets.js';
export { compileStrftimeRenderer, DAYS, formatLocalTime, MONTHS, pad2, pad6, wallClock } from './strftime.js';
export { compileTemplate, templateSchema, fieldText, type Template, type TemplateOptions } from './template.js';
export { createEncoder, createLinesEncoder, encodeLines, encoderReads, encodingSchema, ENCODING_RULES, type EncodingOptions, type LineFormat } from './encoding.js';
export { detachString } from './strings.js';
export { sleep, Wakeup } from './sleep.js';
export { Backoff, backoffOrder, DEFAULT_BACKOFF_JITTER, type BackoffOptions } from './backoff.js';
export { maskSecrets, MIN_SECRET_LENGTH } from './secrets.js';
export { writeFileAtomic, writeFileAtomicSync, appendDurable, appendDurableSync } from './durable.js';
export { parseListen, formatListen, listenOn, listenSchema, DEFAULT_LISTEN_HOST, type ListenAddress } from './runtime/listen.js';
export * from './tls.js';
export { isLoopback, exposedWithoutToken, allowedHostsSchema, hostCheck, tokenCheck, createListener, renewTls, warnIfClearText } from './runtime/endpoint.js';
export { parseDuration, DURATION_HINT } from './config/units.js';
export { checkByParsing, positiveDuration, type CheckPath, type CheckProblem, type ValueCheck } from './config/schema.js';
