import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { TcpProxy } from './support/tcp-proxy.js';

describe('test support: TCP proxy', () => {
  it('forwards both ways, refuses while cut and forwards again after heal on the same port', async () => {
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const proxy = await new TcpProxy({ target: { host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port } }).start();
    const roundTrip = async (text: string) => {
      const s = net.connect(proxy.port, '127.0.0.1');
      s.end(text);
      let got = '';
      s.setEncoding('utf8').on('data', (d) => (got += d));
      await once(s, 'close');
      return got;
    };
    try {
      assert.equal(await roundTrip('ping'), 'ping');
      const port = proxy.port;
      await proxy.cut();
      const refused = net.connect(port, '127.0.0.1');
      const [err] = await once(refused, 'error');
      assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
      await proxy.heal();
      assert.equal(proxy.port, port);
      assert.equal(await roundTrip('pong'), 'pong');
      assert.equal(proxy.connections, 2);
    } finally {
      await proxy.stop();
      echo.close();
    }
  });
});
