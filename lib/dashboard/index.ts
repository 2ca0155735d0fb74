// lib/dashboard: the dashboard's figures (DashboardModel: the state the page renders) and its page (the page files
// in page/, the live HTML document served by the dashboard output, and the self-contained static report that
// `visor analyze --html` writes).
export { DashboardModel, trimSeries, type DashboardAlert, type DashboardErrorLog, type DashboardModelOptions, type DashboardSeries, type DashboardState, type DashboardTop, type DashboardTotals, type HealthRow } from './model.js';
export { asset, liveHtml, renderStaticHtml, type Asset } from './assets.js';
export { historyState, storedForModel, type HistoryFilters, type HistoryInfo, type HistoryRequest, type HistoryState, type StatusClass } from './history.js';
