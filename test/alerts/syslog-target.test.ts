/**
 * `--syslog` targets: a usage failure (a value, not an exception the CLI would have to tell apart by its text)
 * for anything but udp://host:port or tcp://host:port; a sink otherwise, made without touching the network.
 */
import { describe, expect, it } from 'vitest';
import { syslogSink } from '../../src/alerts/alerts.js';

describe('syslogSink', () => {
  it('refuses what is not a udp: or tcp: URL as a usage failure', async () => {
    expect(await syslogSink('syslog.contoso.com:514')).toEqual({
      status: 'error',
      kind: 'usage',
      error: '--syslog must be udp://host:port or tcp://host:port (got syslog.contoso.com:)',
    });
    expect(await syslogSink('not a url')).toEqual({
      status: 'error',
      kind: 'usage',
      error: '--syslog must be udp://host:port or tcp://host:port',
    });
    expect(await syslogSink('https://127.0.0.1:514')).toMatchObject({ status: 'error', kind: 'usage' });
  });

  it('makes a sink for udp:// and tcp:// targets', async () => {
    for (const [target, name] of [
      ['udp://127.0.0.1:5514', 'syslog:udp://127.0.0.1:5514'],
      ['tcp://[::1]:6514', 'syslog:tcp://[::1]:6514'],
    ] as const) {
      const r = await syslogSink(target);
      expect(r.status).toBe('ok');
      if (r.status === 'ok') expect(r.sink.name).toBe(name);
    }
  });
});
