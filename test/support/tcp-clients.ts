// Well-behaved TCP clients for the tcp input's test and benchmark, as JavaScript source to run in another thread
// (`new Worker(source, { eval: true })`) or process (`node -e source`), so that the clients do not share the event
// loop of the pipeline they measure.

/** Source that defines `connectClients(port, count, nextChunk, onError, onAllClosed)`: `count` connections to
 * 127.0.0.1:`port`; client `c` writes `nextChunk(c)` until it returns undefined (waiting for 'drain' whenever the
 * socket's buffer is full), then ends; `onAllClosed()` once every connection has closed. */
export const CONNECT_CLIENTS_JS = `
function connectClients(port, count, nextChunk, onError, onAllClosed) {
  const net = require('node:net');
  let closed = 0;
  for (let c = 0; c < count; c++) {
    const s = net.connect(port, '127.0.0.1');
    const write = () => {
      for (let chunk = nextChunk(c); chunk !== undefined; chunk = nextChunk(c)) {
        if (!s.write(chunk)) return void s.once('drain', write);
      }
      s.end();
    };
    s.on('connect', write);
    s.on('error', onError);
    s.on('close', () => { if (++closed === count) onAllClosed(); });
  }
}
`;
