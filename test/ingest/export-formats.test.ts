/**
 * Every export format in test/fixtures/exports: detected by content, read row by row into MessageEvidence with
 * provenance, assessed by the core rules. Goldens: <fixture>.expected.json (UPDATE_GOLDEN=1 regenerates).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/config/profile-file.js';
import { assess } from '../../src/core/assess.js';
import type { MessageEvidence } from '../../src/core/evidence.js';
import type { Observed } from '../../src/core/observed.js';
import type { TenantProfile } from '../../src/core/profile.js';
import { readExportRows, sniffExportFile } from '../../src/ingest/exports/read-export.js';
import { expectGolden } from '../helpers/golden.js';

const DIR = 'test/fixtures/exports';
const FIXTURES = readdirSync(DIR).filter((f) => /\.(csv|json|ndjson)$/.test(f) && !f.endsWith('.expected.json'));

async function profile(): Promise<TenantProfile> {
  const r = await loadProfile(join(DIR, 'dsguard.yml'));
  if (r.status !== 'ok') throw new Error(r.error);
  return r.profile;
}

const v = <T>(o: Observed<T> | null) => (o === null ? null : o.value);

function project(ev: MessageEvidence) {
  return {
    input: ev.input,
    receivedAt: ev.receivedAt,
    networkMessageId: ev.networkMessageId,
    envelopeFrom: v(ev.envelopeFrom)?.address ?? null,
    headerFrom: v(ev.headerFrom)?.address ?? null,
    recipients: ev.envelopeRecipients.map((r) => r.value.address),
    subject: v(ev.subject),
    connectingIp: ev.connectingIp,
    helo: v(ev.helo),
    tls: v(ev.tls),
    connector: ev.connector,
    directionality: v(ev.exchange.directionality),
    authAs: v(ev.exchange.authAs),
    auth: {
      spf: v(ev.authentication.spf),
      dkim: v(ev.authentication.dkim),
      dmarc: v(ev.authentication.dmarc),
      compauth: v(ev.authentication.compauth),
    },
    antispam: { cat: v(ev.antispam.cat), sfv: v(ev.antispam.sfv), ctry: v(ev.antispam.ctry) },
    tenant: v(ev.receivingTenantId),
    attachments: ev.attachments.map((a) => ({ name: a.name, contentType: a.contentType, size: a.size, ref: a.ref })),
    urls: ev.urls.map((u) => ({ url: u.url, location: u.location })),
  };
}

describe('export formats', () => {
  it('has a fixture for every format, UTF-16 included', async () => {
    const formats = new Set<string>();
    const encodings = new Set<string>();
    for (const f of FIXTURES) {
      const s = await sniffExportFile(join(DIR, f));
      expect(s.status, f).toBe('ok');
      if (s.status === 'ok') {
        formats.add(s.info.adapter.format);
        encodings.add(s.info.encoding);
      }
    }
    expect([...formats].sort()).toEqual([
      'email-attachment-info',
      'email-events',
      'email-url-info',
      'graph-message-trace',
      'historical-search',
      'message-trace',
      'message-trace-detail',
    ]);
    expect(encodings.has('utf-16le')).toBe(true);
  });

  for (const f of FIXTURES) {
    it(`reads ${f}`, async () => {
      const p = await profile();
      const path = join(DIR, f);
      const s = await sniffExportFile(path);
      if (s.status !== 'ok') throw new Error(s.error);
      const rows: unknown[] = [];
      for await (const batch of readExportRows(path, s.info)) {
        if (!Array.isArray(batch)) throw new Error(batch.error);
        for (const raw of batch) {
          if (raw.error !== undefined) {
            rows.push({ row: raw.row, error: raw.error });
            continue;
          }
          const res = s.info.adapter.adapt(raw.data, { file: path, row: raw.row });
          if (res.status === 'error') {
            rows.push({ row: raw.row, error: res.error });
            continue;
          }
          const ev = res.row.evidence();
          const a = res.row.role === 'delivery' ? assess(ev, { profile: p }) : null;
          rows.push({
            row: raw.row,
            role: res.row.role,
            messageId: res.row.messageId,
            recipients: res.row.recipients,
            evidence: project(ev),
            assessment: a && {
              channel: a.channel,
              verdict: a.verdict,
              risk: a.risk,
              rejectDirectSendBlocks: a.rejectDirectSendBlocks,
              codes: a.findings.map((x) => x.code),
            },
          });
        }
      }
      expectGolden(join(DIR, `${f}.expected.json`), { format: s.info.description, rows });
    });
  }
});
