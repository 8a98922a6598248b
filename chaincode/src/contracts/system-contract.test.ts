import { SystemContract } from './system-contract';
import { InMemoryLedger } from '../test-support/in-memory-ledger';

describe('SystemContract', () => {
  const contract = new SystemContract();

  it('echoes the caller MSP id and GigLedger attributes', async () => {
    const ledger = new InMemoryLedger();
    const caller = await ledger.invoke(
      { mspId: 'TalentOrgMSP', name: 'tara', attributes: { role: 'freelancer', userId: 'tara' } },
      (ctx) => contract.whoAmI(ctx),
    );
    expect(caller).toMatchObject({ mspId: 'TalentOrgMSP', role: 'freelancer', userId: 'tara' });
    expect(caller.id).toContain('CN=tara');
  });

  it('leaves out a role attribute that is not a GigLedger role', async () => {
    const ledger = new InMemoryLedger();
    const caller = await ledger.invoke({ mspId: 'AuditOrgMSP', name: 'x', attributes: { role: 'root' } }, (ctx) =>
      contract.whoAmI(ctx),
    );
    expect(caller).not.toHaveProperty('role');
    expect(caller).not.toHaveProperty('userId');
  });

  it('reports the chaincode name and version', async () => {
    const ledger = new InMemoryLedger();
    const version = await ledger.invoke({ mspId: 'AuditOrgMSP', name: 'x' }, (ctx) => contract.version(ctx));
    expect(version).toMatchObject({ name: 'gigledger', version: '0.1.0' });
  });
});
