// A parallel filter's metrics in a worker thread are recorded there and sent as deltas with each batch's result,
// then added to the component's own metrics on the main thread: /metrics counts the same as with threads: 1.
import type { ComponentMetrics, Counter, Gauge } from '../../api.js';
import { PlainCounter, type ComponentMetricsImpl } from '../metrics.js';
import type { MetricDelta } from './protocol.js';

/** A counter that also remembers how much of it was reported already. */
class RecordedCounter extends PlainCounter {
  reported = 0;
}

class RecordedGauge implements Gauge {
  value = 0;
  changed = false;
  set(v: number): void { this.value = v; this.changed = true; }
  inc(n = 1): void { this.value += n; this.changed = true; }
  dec(n = 1): void { this.value -= n; this.changed = true; }
}

type Key = { metric: 'discarded' | 'errors'; name: string } | { metric: 'counter'; name: string; help: string; labels: Record<string, string> };

/** The worker side: what the plugin instance there counts. */
export class WorkerMetrics implements ComponentMetrics {
  readonly receivedBytes = new RecordedCounter();
  readonly sentBytes = new RecordedCounter();
  private readonly counters = new Map<string, { key: Key; counter: RecordedCounter }>();
  private readonly gauges = new Map<string, { name: string; help: string; labels: Record<string, string>; gauge: RecordedGauge }>();

  discarded(reason: string): Counter {
    return this.counterOf({ metric: 'discarded', name: reason });
  }

  errors(type: string): Counter {
    return this.counterOf({ metric: 'errors', name: type });
  }

  counter(name: string, help: string, labels: Record<string, string> = {}): Counter {
    return this.counterOf({ metric: 'counter', name, help, labels: { ...labels } });
  }

  gauge(name: string, help: string, labels: Record<string, string> = {}): Gauge {
    const id = JSON.stringify([name, Object.entries(labels).sort()]);
    let g = this.gauges.get(id);
    if (!g) this.gauges.set(id, (g = { name, help, labels: { ...labels }, gauge: new RecordedGauge() }));
    return g.gauge;
  }

  private counterOf(key: Key): RecordedCounter {
    const id = key.metric === 'counter' ? JSON.stringify(['counter', key.name, Object.entries(key.labels).sort()]) : `${key.metric}\n${key.name}`;
    let c = this.counters.get(id);
    if (!c) this.counters.set(id, (c = { key, counter: new RecordedCounter() }));
    return c.counter;
  }

  /** What changed since the last call. */
  takeDeltas(): MetricDelta[] {
    const deltas: MetricDelta[] = [];
    for (const metric of ['receivedBytes', 'sentBytes'] as const) {
      const c = this[metric];
      if (c.value !== c.reported) deltas.push({ metric, delta: c.value - c.reported });
      c.reported = c.value;
    }
    for (const { key, counter } of this.counters.values()) {
      if (counter.value === counter.reported) continue;
      deltas.push({ ...key, delta: counter.value - counter.reported });
      counter.reported = counter.value;
    }
    for (const g of this.gauges.values()) {
      if (!g.gauge.changed) continue;
      deltas.push({ metric: 'gauge', name: g.name, help: g.help, labels: g.labels, value: g.gauge.value });
      g.gauge.changed = false;
    }
    return deltas;
  }
}

/** The main side: add a worker's deltas to the component's metrics. */
export function applyDeltas(metrics: ComponentMetricsImpl, deltas: readonly MetricDelta[]): void {
  for (const d of deltas) {
    switch (d.metric) {
      case 'receivedBytes': metrics.receivedBytes.inc(d.delta); break;
      case 'sentBytes': metrics.sentBytes.inc(d.delta); break;
      case 'discarded': metrics.discarded(d.name).inc(d.delta); break;
      case 'errors': metrics.errors(d.name).inc(d.delta); break;
      case 'counter': metrics.counter(d.name, d.help, d.labels).inc(d.delta); break;
      case 'gauge': metrics.gauge(d.name, d.help, d.labels).set(d.value); break;
    }
  }
}
