import { ParameterContract } from './parameter-contract';
import { InMemoryLedger, type TestIdentity } from '../test-support/in-memory-ledger';

const admin: TestIdentity = { mspId: 'ClientOrgMSP', name: 'ops', attributes: { role: 'admin', userId: 'ops' } };
const client: TestIdentity = { mspId: 'ClientOrgMSP', name: 'carol', attributes: { role: 'client', userId: 'carol' } };

describe('ParameterContract', () => {
  const contract = new ParameterContract();
  let ledger: InMemoryLedger;

  beforeEach(() => {
    ledger = new InMemoryLedger();
  });

  it('lets an admin set a parameter, stamping the transaction time and emitting an event', async () => {
    const record = await ledger.invoke(admin, (ctx) =>
      contract.setParameter(ctx, JSON.stringify({ name: 'platformFeeBps', value: 250 })),
    );

    expect(record).toMatchObject({ name: 'platformFeeBps', value: 250, updatedBy: 'ClientOrgMSP' });
    expect(record.updatedAt).toBe(new Date(ledger.nowSeconds * 1000).toISOString());
    expect(ledger.lastEvent).toEqual({ name: 'parameter.ParameterSet', payload: record });
    const read = await ledger.invoke(client, (ctx) =>
      contract.getParameter(ctx, JSON.stringify({ name: 'platformFeeBps' })),
    );
    expect(read).toEqual(record);
  });

  it('lists only parameters that have been set', async () => {
    await ledger.invoke(admin, (ctx) => contract.setParameter(ctx, JSON.stringify({ name: 'maxRevisions', value: 2 })));

    const listed = await ledger.invoke(client, (ctx) => contract.listParameters(ctx));

    expect(listed.map((record) => [record.name, record.value])).toEqual([['maxRevisions', 2]]);
  });

  it('refuses a caller without the admin role and writes nothing', async () => {
    await expect(
      ledger.invoke(client, (ctx) => contract.setParameter(ctx, JSON.stringify({ name: 'platformFeeBps', value: 1 }))),
    ).rejects.toThrow(/^FORBIDDEN: only admin may set parameter platformFeeBps; the caller has role client$/);
    expect(ledger.keys()).toEqual([]);
  });

  it('refuses a value outside the parameter range, naming the field', async () => {
    await expect(
      ledger.invoke(admin, (ctx) =>
        contract.setParameter(ctx, JSON.stringify({ name: 'platformFeeBps', value: 10001 })),
      ),
    ).rejects.toThrow(/^VALIDATION_FAILED\[value\]: value: .* for platformFeeBps$/);
    expect(ledger.keys()).toEqual([]);
  });

  it('refuses a platform fee of 100%, which would leave every release nothing to pay', async () => {
    await expect(
      ledger.invoke(admin, (ctx) =>
        contract.setParameter(ctx, JSON.stringify({ name: 'platformFeeBps', value: 10_000 })),
      ),
    ).rejects.toThrow(
      'VALIDATION_FAILED[value]: value: must be below 10000 (100%): a release must pay the freelancer something for platformFeeBps',
    );
    expect(ledger.keys()).toEqual([]);
    await ledger.invoke(admin, (ctx) =>
      contract.setParameter(ctx, JSON.stringify({ name: 'platformFeeBps', value: 9_999 })),
    );
  });

  it('refuses an unknown parameter name', async () => {
    await expect(
      ledger.invoke(admin, (ctx) => contract.setParameter(ctx, JSON.stringify({ name: 'feeBps', value: 1 }))),
    ).rejects.toThrow(/^VALIDATION_FAILED\[name\]: /);
  });

  it('refuses an argument that is not JSON', async () => {
    await expect(ledger.invoke(admin, (ctx) => contract.setParameter(ctx, '{name'))).rejects.toThrow(
      'VALIDATION_FAILED[request]: the transaction argument is not valid JSON',
    );
  });

  it('names the rule a stored value no longer meets, for a fee of 100% set before the rule', async () => {
    await ledger.invoke(admin, (ctx) =>
      contract.setParameter(ctx, JSON.stringify({ name: 'platformFeeBps', value: 9_999 })),
    );
    const [key] = ledger.keys();
    const stored = ledger.read(key!) as Record<string, unknown>;
    await ledger.invoke(admin, (ctx) =>
      ctx.stub.putState(key!, Buffer.from(JSON.stringify({ ...stored, value: 10_000 }))),
    );
    await expect(
      ledger.invoke(client, (ctx) => contract.getParameter(ctx, JSON.stringify({ name: 'platformFeeBps' }))),
    ).rejects.toThrow(
      'PARAMETER_INVALID: consortium parameter platformFeeBps holds 10000, which must be below 10000 (100%): a release must pay the freelancer something',
    );
  });

  it('reports a parameter that was never set', async () => {
    await expect(
      ledger.invoke(client, (ctx) => contract.getParameter(ctx, JSON.stringify({ name: 'maxRevisions' }))),
    ).rejects.toThrow('PARAMETER_INVALID: consortium parameter maxRevisions has not been set');
  });
});
