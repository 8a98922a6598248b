import { common, msp } from '@hyperledger/fabric-protos';
import type { ChannelConfig } from './channel-config.js';
import { satisfiesRole, type CheckedIdentity } from './identities.js';

/** Whether signers satisfy a policy, and the policy in words. */
export interface PolicyOutcome {
  readonly satisfied: boolean;
  readonly description: string;
}

function principalText(principal: msp.MSPPrincipal): string {
  if (principal.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) return 'unsupported principal';
  const role = msp.MSPRole.deserializeBinary(principal.getPrincipal_asU8());
  const name = Object.entries(msp.MSPRole.MSPRoleType).find(([, value]) => value === role.getRole())?.[0] ?? '?';
  return `${role.getMspIdentifier()}.${name.toLowerCase()}`;
}

/**
 * Evaluates a `common.SignaturePolicyEnvelope` the way Fabric's cauthdsl does: each
 * signer counts for at most one `signed_by` leaf, taken greedily in order. Only ROLE
 * principals are understood; others never match.
 */
export function evaluateSignaturePolicy(
  envelope: common.SignaturePolicyEnvelope,
  signers: readonly CheckedIdentity[],
): PolicyOutcome {
  const identities = envelope.getIdentitiesList();
  const used = signers.map(() => false);
  const run = (rule: common.SignaturePolicy): { ok: boolean; text: string } => {
    if (rule.getTypeCase() === common.SignaturePolicy.TypeCase.SIGNED_BY) {
      const principal = identities[rule.getSignedBy()];
      if (principal === undefined) return { ok: false, text: 'missing principal' };
      const text = principalText(principal);
      if (principal.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) return { ok: false, text };
      const role = msp.MSPRole.deserializeBinary(principal.getPrincipal_asU8());
      const index = signers.findIndex((signer, at) => !used[at] && satisfiesRole(signer, role));
      if (index < 0) return { ok: false, text };
      used[index] = true;
      return { ok: true, text };
    }
    const nOutOf = rule.getNOutOf();
    if (nOutOf === undefined) return { ok: false, text: 'empty rule' };
    const snapshot = [...used];
    const parts = nOutOf.getRulesList().map(run);
    const ok = parts.filter((part) => part.ok).length >= nOutOf.getN();
    // A failed branch must not keep the signers it consumed (Fabric resets them too).
    if (!ok) snapshot.forEach((value, at) => (used[at] = value));
    return { ok, text: `${nOutOf.getN()} of (${parts.map((part) => part.text).join(', ')})` };
  };
  const rule = envelope.getRule();
  if (rule === undefined) return { satisfied: false, description: 'an empty signature policy' };
  const outcome = run(rule);
  return { satisfied: outcome.ok, description: outcome.text };
}

const ruleNames: Record<number, string> = { 0: 'ANY', 1: 'ALL', 2: 'MAJORITY' };

/**
 * Evaluates a policy of the channel configuration by its path: signature policies
 * directly, implicit-meta policies (ANY / ALL / MAJORITY of a sub-policy) over the
 * organisations of the policy's group.
 */
export function evaluateConfigPolicy(
  config: ChannelConfig,
  path: string,
  signers: readonly CheckedIdentity[],
): PolicyOutcome {
  try {
    return evaluateConfigPolicyAt(config, path, signers);
  } catch {
    // A policy value that does not decode: the decoder's words ("Assertion failed") name nothing.
    return { satisfied: false, description: `${path} in the channel configuration is not a valid policy` };
  }
}

function evaluateConfigPolicyAt(
  config: ChannelConfig,
  path: string,
  signers: readonly CheckedIdentity[],
): PolicyOutcome {
  const policy = config.policies.get(path);
  if (policy === undefined) return { satisfied: false, description: `no policy ${path} in the channel configuration` };
  if (policy.getType() === common.Policy.PolicyType.SIGNATURE) {
    const outcome = evaluateSignaturePolicy(
      common.SignaturePolicyEnvelope.deserializeBinary(policy.getValue_asU8()),
      signers,
    );
    return { satisfied: outcome.satisfied, description: `${path} = ${outcome.description}` };
  }
  if (policy.getType() === common.Policy.PolicyType.IMPLICIT_META) {
    const meta = common.ImplicitMetaPolicy.deserializeBinary(policy.getValue_asU8());
    const group = path.slice(0, path.lastIndexOf('/'));
    const orgs = config.orgGroups.get(group) ?? [];
    const outcomes = orgs.map((org) => evaluateConfigPolicy(config, `${org}/${meta.getSubPolicy()}`, signers));
    const met = outcomes.filter((outcome) => outcome.satisfied).length;
    const rule = meta.getRule();
    const needed =
      rule === common.ImplicitMetaPolicy.Rule.ANY
        ? 1
        : rule === common.ImplicitMetaPolicy.Rule.ALL
          ? orgs.length
          : Math.floor(orgs.length / 2) + 1;
    return {
      satisfied: orgs.length > 0 && met >= needed,
      description: `${path} = ${ruleNames[rule] ?? '?'} ${meta.getSubPolicy()} (${needed} of ${orgs.length} organisations; met by ${met}: ${outcomes.map((outcome) => `${outcome.satisfied ? 'met' : 'not met'} ${outcome.description}`).join('; ')})`,
    };
  }
  return { satisfied: false, description: `${path} has a policy type this verifier does not evaluate` };
}
