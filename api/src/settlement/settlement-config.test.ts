import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSettlementConfig } from './settlement-config.js';

const secret = (fill: string) => `whsec_${Buffer.alloc(24, fill).toString('base64')}`;

describe('readSettlementConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gl-settlement-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (inboundSecret: unknown, bank: Record<string, unknown> = {}) => {
    const file = path.join(dir, 'settlement.json');
    writeFileSync(
      file,
      JSON.stringify({
        providers: {
          psp: {
            kind: 'webhook',
            url: 'http://127.0.0.1:4010',
            outboundSecret: secret('o'),
            inboundSecret,
            apiKey: 'a statement key of enough length',
          },
          bank: {
            kind: 'iso20022',
            outboxDir: path.join(dir, 'out'),
            inboxDir: path.join(dir, 'in'),
            debtor: { name: 'Escrow', iban: 'GB82WEST12345698765432', bic: 'NWBKGB2L' },
            ...bank,
          },
        },
        organisations: { ClientOrgMSP: 'psp', TalentOrgMSP: 'bank' },
      }),
    );
    return file;
  };

  it('takes one inbound secret, or up to three while a provider rotates its secret', () => {
    expect(readSettlementConfig(write(secret('a'))).providers.psp).toMatchObject({ inboundSecret: secret('a') });
    expect(readSettlementConfig(write([secret('a'), secret('b')])).providers.psp).toMatchObject({
      inboundSecret: [secret('a'), secret('b')],
    });
    expect(() => readSettlementConfig(write([]))).toThrow(/providers\.psp\.inboundSecret/);
    expect(() => readSettlementConfig(write([secret('a'), 'not a secret']))).toThrow(/providers\.psp\.inboundSecret/);
  });

  it("gives a bank's files a batch of 100 and a longest wait of 60 s unless set", () => {
    expect(readSettlementConfig(write(secret('a'))).providers.bank).toMatchObject({
      batchSize: 100,
      maxWaitSeconds: 60,
    });
    expect(readSettlementConfig(write(secret('a'), { maxWaitSeconds: 5 })).providers.bank).toMatchObject({
      maxWaitSeconds: 5,
    });
    expect(() => readSettlementConfig(write(secret('a'), { maxWaitSeconds: -1 }))).toThrow(
      /providers\.bank\.maxWaitSeconds/,
    );
  });
});
