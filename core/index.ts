// The public API for plugin authors and embedders: `import { definePlugin, type Event } from 'visor'`.
export * from './api.js';
export type { ComponentConfig, Diagnostic, PipelineConfig } from './config/model.js';
export { formatDiagnostic, ConfigError } from './config/model.js';
export { LineSplitter, cutToBytes, type LongLinePolicy, type LineSplitterOptions } from './lines.js';
export {
  compileCondition, compileExpression, validateExpression, ExpressionError, functionNames,
  getField, hasField, setField, removeField, splitFieldPath,
  type Condition, type Expression,
} from './expr/index.js';
export { parseTimeZone, formatOffset, type TimeZone } from './timezone.js';
